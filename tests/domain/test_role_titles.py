"""Each role reads as the seeds call it, wherever people meet it (the console, link pages, emails)."""
import json
from pathlib import Path

from chalicelib.domain.role_titles import ROLE_TITLES, SCOPE_TITLES, role_title, role_words

PROFILES = Path(__file__).resolve().parents[2] / "chalicelib" / "forces"


def roles_named(value) -> set[str]:
    """Every role id a profile names: panels, agenda, arranged_by, senior representatives, contacts."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("panel", "agenda_by", "senior_representatives") and isinstance(inner, list):
                found |= {role for role in inner if isinstance(role, str)}
            elif key == "arranged_by" and isinstance(inner, str):
                found.add(inner)
            elif key == "contacts" and isinstance(inner, dict):
                found |= set(inner)
            else:
                found |= roles_named(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= roles_named(inner)
    return found


def test_every_role_the_profiles_name_has_a_title_of_its_own():
    named = set().union(*(roles_named(json.loads(p.read_text())) for p in PROFILES.glob("*.json")))
    assert {"iag_chair", "local_inspector", "opfcc_representative", "lpa_commander"} <= named  # the scan finds them
    assert named - set(ROLE_TITLES) == set(), "add these roles' titles to chalicelib/domain/role_titles.py"


def test_titles_keep_the_seeds_capitals_and_acronyms():
    assert role_title("opfcc_representative") == "OPFCC representative"
    assert role_title("local_inspector") == "Local Neighbourhood Policing Inspector"
    assert role_title("lpa_commander") == "LPA Commander"
    assert role_words("police_coordinator") == "the IAG Police Coordinator"


def test_a_role_no_seed_names_still_reads_as_words():
    assert role_title("area_iag_lead") == "Area IAG lead"


def test_every_scope_outside_a_group_has_words():
    from chalicelib.domain.roles import APPEAL, FORCE

    assert set(SCOPE_TITLES) == {APPEAL, FORCE}


def test_who_moved_an_application_reads_as_words():
    from chalicelib.domain.operators import Role
    from chalicelib.domain.role_titles import OPERATOR_TITLES, actor_words

    assert set(OPERATOR_TITLES) == {role.value for role in Role}
    assert actor_words("panel") == "the review panel" and actor_words("system") == "the service"
    assert actor_words("force_admin 71b9") == "a force administrator (71b9)"
    assert actor_words("import by coordinator 71b9") == "an import by a coordinator (71b9)"
    assert actor_words("vetting_unit") == "the Vetting Unit" and actor_words("auditor 71b9") == "an auditor (71b9)"
