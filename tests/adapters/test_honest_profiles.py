"""Honest data: every value no seed states is a placeholder, and no invented address sits on a real domain."""
import json
import re

import pytest

from chalicelib.adapters.force_files import PROFILE_DIR, FileForceCatalogue
from chalicelib.domain.addresses import is_placeholder_address
from chalicelib.domain.postcodes import in_districts

# The only addresses the seeds give (/work/shared/seeds); Greater Manchester's and Northamptonshire's pages hide theirs.
ADDRESSES_THE_SEEDS_GIVE = {"helen.ham@derbyshire.police.uk", "StrategicIAG@avonandsomerset.police.uk"}

REVIEW_TIMES = ["/review/reminder_after_days", "/review/escalate_after_days", "/review/link_valid_days"]
# Values each profile holds that its seed does not state (read line by line against the seed): each must be
# covered by a placeholder (the pointer itself or one above it).
KNOWN_ASSUMPTIONS = {
    "derbyshire": [
        "/population", "/area/postcode_districts", "/contacts/iag_coordinator", "/contacts/accessible_formats",
        "/application_pack/accessible_formats", "/application_pack/documents/0/file",
        "/eligibility/independence_exclusions", "/eligibility/convictions_bar", "/screening/default",
        "/screening/provider", "/screening/valid_for_months", "/review/panel", "/review/outcome_rule",
        "/review/informal_discussion", *REVIEW_TIMES, "/appeal", "/onboarding", "/retention/unsuccessful_months",
        "/groups/0/meetings/0/start_time", "/groups/0/meetings/0/week_of_month",
        "/groups/0/meetings/0/duration_minutes", "/groups/0/meetings/0/first_month",
        "/groups/0/meetings/1/weekday", "/groups/0/meetings/1/week_of_month", "/groups/0/meetings/1/start_time",
        "/groups/0/meetings/1/duration_minutes", "/groups/0/meetings/1/first_month"],
    "northamptonshire": [
        "/population", "/source/url", "/area/postcode_districts", "/contacts", "/application_pack/accessible_formats",
        "/application_pack/documents/0/file", "/eligibility/minimum_age", "/eligibility/independence_exclusions",
        "/screening/provider", "/screening/valid_for_months", "/review/panel", "/review/outcome_rule",
        "/review/informal_discussion", *REVIEW_TIMES, "/appeal", "/onboarding", "/retention/unsuccessful_months",
        "/groups/0/name", "/groups/0/meetings/0"],
    "greater-manchester": [
        "/population", "/source/url", "/area/postcode_districts", "/contacts", "/application_pack/accessible_formats",
        "/application_pack/documents/0/file", "/eligibility/minimum_age", "/eligibility/area_connection",
        "/eligibility/independence_exclusions", "/eligibility/convictions_bar", "/screening/default",
        "/screening/valid_for_months", "/screening/provider", "/review/panel", "/review/outcome_rule",
        "/review/informal_discussion", *REVIEW_TIMES, "/appeal", "/onboarding", "/retention/unsuccessful_months",
        "/groups", "/campaigns/0/closes"],
    "avon-and-somerset": [
        "/population", "/source/url", "/area/postcode_districts", "/contacts/iag_coordinator/email",
        "/contacts/vetting_unit/name", "/contacts/vetting_unit/email", "/application_pack/accessible_formats", "/application_pack/documents/0/file",
        "/application_pack/documents/1/file", "/eligibility/minimum_age", "/eligibility/area_connection",
        "/eligibility/independence_exclusions", "/eligibility/convictions_bar", "/screening/valid_for_months",
        "/screening/provider", *REVIEW_TIMES, "/appeal/window_days", "/onboarding", "/retention/unsuccessful_months",
        "/groups"],
    "thames-valley": [
        "/population", "/source/url", "/area/postcode_districts", "/contacts", "/application_pack/accessible_formats",
        "/eligibility/minimum_age", "/eligibility/area_connection", "/eligibility/convictions_bar",
        "/screening/default", "/screening/valid_for_months", "/screening/provider", "/review/panel",
        "/review/outcome_rule", "/review/informal_discussion", *REVIEW_TIMES, "/appeal", "/onboarding",
        "/retention/unsuccessful_months", "/groups"],
}


def covered(pointer: str, placeholders) -> bool:
    return any(pointer == p["pointer"] or pointer.startswith(p["pointer"] + "/") for p in placeholders)


@pytest.mark.parametrize("force_id", sorted(KNOWN_ASSUMPTIONS))
def test_every_known_assumption_is_in_the_profiles_placeholders(force_id):
    placeholders = FileForceCatalogue().get(force_id).placeholders
    missing = [p for p in KNOWN_ASSUMPTIONS[force_id] if not covered(p, placeholders)]
    assert missing == []


def addresses(value, pointer=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from addresses(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from addresses(item, f"{pointer}/{index}")
    elif isinstance(value, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        yield pointer, value


@pytest.mark.parametrize("force_id", sorted(KNOWN_ASSUMPTIONS))
def test_an_address_no_seed_gives_is_a_placeholder_on_a_reserved_example_domain(force_id):
    data = json.loads((PROFILE_DIR / f"{force_id}.json").read_text())
    found = list(addresses({k: v for k, v in data.items() if k != "placeholders"}))
    assert found, "every profile names a contact"
    invented = [(pointer, address) for pointer, address in found if address not in ADDRESSES_THE_SEEDS_GIVE]
    assert [(p, a) for p, a in invented if not is_placeholder_address(a)] == []
    assert [p for p, _ in invented if not covered(p, data["placeholders"])] == []


@pytest.mark.parametrize("address, placeholder", [
    ("iag@thames-valley.police.example", True), ("someone@test", True), ("x@host.invalid", True),
    ("helen.ham@derbyshire.police.uk", False), ("iag@thamesvalley.police.uk", False),
])
def test_only_reserved_example_domains_count_as_placeholder_addresses(address, placeholder):
    assert is_placeholder_address(address) is placeholder


def thames_valley_area():
    return FileForceCatalogue().get("thames-valley").postcode_districts


@pytest.mark.parametrize("postcode, inside", [
    ("RG1 7TH", True),     # Reading
    ("OX1 1BX", True),     # Oxford
    ("SL4 1NJ", True),     # Windsor
    ("HP19 8FF", True),    # Aylesbury
    ("MK9 2HP", True),     # Milton Keynes
    ("GU47 0XX", True),    # Sandhurst, Bracknell Forest: outside the five areas, inside the force
    ("RG21 7AB", False),   # Basingstoke, Hampshire: an RG district outside the force
    ("HP1 1AA", False),    # Hemel Hempstead, Hertfordshire
    ("HP23 5AA", False),   # Tring, Hertfordshire
    ("MK40 1AA", False),   # Bedford
])
def test_thames_valleys_area_is_checked_by_postcode_district_not_whole_areas(postcode, inside):
    assert in_districts(postcode, thames_valley_area()) is inside


def test_no_thames_valley_entry_names_a_whole_postcode_area():
    assert [d for d in thames_valley_area() if d.isalpha()] == []
