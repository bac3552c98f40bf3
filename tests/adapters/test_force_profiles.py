import json
from pathlib import Path

import pytest

from chalicelib.adapters.force_files import PROFILE_DIR, FileForceCatalogue, InvalidProfile, load_profile
from chalicelib.adapters.schema_validation import validate

SEED_FORCES = ["avon-and-somerset", "derbyshire", "greater-manchester", "northamptonshire", "thames-valley"]


def test_the_five_seed_forces_are_the_profiles_shipped():
    assert FileForceCatalogue().ids() == SEED_FORCES


@pytest.mark.parametrize("force_id", SEED_FORCES)
def test_each_seed_profile_satisfies_the_force_schema(force_id):
    data = json.loads((PROFILE_DIR / f"{force_id}.json").read_text())
    assert validate(data, "force") == []
    assert load_profile(PROFILE_DIR / f"{force_id}.json").id == force_id


@pytest.mark.parametrize("force_id", SEED_FORCES)
def test_each_seed_profile_marks_what_the_seed_left_out(force_id):
    assert FileForceCatalogue().get(force_id).placeholders, "every seed leaves something out"


def broken_copy(tmp_path: Path, force_id: str, change) -> Path:
    data = json.loads((PROFILE_DIR / f"{force_id}.json").read_text())
    change(data)
    path = tmp_path / f"{force_id}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["groups"][0].update(kind="regional"), "/groups/0/kind"),
    (lambda d: d["eligibility"].pop("minimum_age"), "/eligibility/minimum_age"),
    (lambda d: d["screening"].update(default="vetting"), "/screening/default"),
    (lambda d: d["groups"][0].update(accepts_applicants=False), "/groups/0/closed_reason"),
    (lambda d: d["placeholders"].append({"pointer": "/nowhere", "note": "x"}), "/nowhere points at nothing"),
    (lambda d: d["groups"].append(dict(d["groups"][0])), "group ids must be unique"),
    (lambda d: d["campaigns"].append({"id": "c", "name": "c", "opens": "2027-01-01", "closes": None,
                                      "groups": ["no-such-group"]}), "no group 'no-such-group'"),
    (lambda d: d.update(id="derby"), "does not match the file name"),
])
def test_a_profile_that_breaks_a_rule_is_refused_with_the_place_named(tmp_path, change, expected):
    path = broken_copy(tmp_path, "derbyshire", change)
    with pytest.raises(InvalidProfile, match=expected):
        load_profile(path)


def test_a_catalogue_never_reads_a_file_outside_its_folder(tmp_path):
    (tmp_path / "secret.json").write_text("{}")
    catalogue = FileForceCatalogue(tmp_path / "forces")
    assert catalogue.get("../secret") is None
