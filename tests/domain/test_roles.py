"""Every role a profile names, which panel each sits on, and what an elected office brings."""
from dataclasses import replace

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.roles import FORCE, REVIEW_PANEL, office_role, offices, panel_of, person, same_person


def test_one_person_is_the_same_holder_whatever_the_case_or_spaces_of_their_address():
    assert person(" Chair@Example.org ") == person("chair@example.org")
    assert person("chair@example.org") != person("other@example.org")
    assert same_person("A@example.org", "a@EXAMPLE.org") and not same_person("", "")


def test_a_groups_review_panel_is_its_profiles_panel():
    force = FileForceCatalogue().get("derbyshire")
    assert panel_of(force, "derbyshire-iag", REVIEW_PANEL) == list(force.group("derbyshire-iag").panel)


def test_a_force_contact_sits_on_no_panel_so_one_person_may_be_several_contacts():
    force = FileForceCatalogue().get("avon-and-somerset")
    assert all(o.panel is None for o in offices(force) if o.scope == FORCE)


def test_a_force_can_turn_off_the_elected_chair_taking_the_panel_role():
    force = FileForceCatalogue().get("avon-and-somerset")
    assert office_role(force, "bristol", "chair")
    off = replace(force, raw={**force.raw, "offices": {"elected_take_panel_role": False}})
    assert office_role(off, "bristol", "chair") == []


def test_no_vice_chair_panel_role_is_invented_where_the_profile_names_none():
    force = FileForceCatalogue().get("avon-and-somerset")
    assert office_role(force, "bristol", "vice_chair") == []
