import json
from pathlib import Path

import pytest

from chalicelib.adapters.force_files import PROFILE_DIR, FileForceCatalogue, InvalidProfile, load_profile
from chalicelib.adapters.schema_validation import validate
from chalicelib.services.ports import UnknownForce

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
    (lambda d: d["population"]["shares"]["ethnicity"].update(martian=1.0), "/population/shares/ethnicity/martian"),
    (lambda d: d["population"]["shares"].update(height={"tall": 50}), "/population/shares/height"),
    (lambda d: d["population"].pop("source"), "/population/source"),
])
def test_a_profile_that_breaks_a_rule_is_refused_with_the_place_named(tmp_path, change, expected):
    path = broken_copy(tmp_path, "derbyshire", change)
    with pytest.raises(InvalidProfile, match=expected):
        load_profile(path)


@pytest.mark.parametrize("force_id", SEED_FORCES)
def test_population_figures_not_from_the_seed_are_marked_for_the_force_to_replace(force_id):
    force = FileForceCatalogue().get(force_id)
    assert force.population.as_of.year == 2021 and "not the force area" in force.population.area
    assert any(p["pointer"] == "/population" for p in force.placeholders)


def test_a_profile_without_population_figures_loads_without_them(tmp_path):
    def without(data):
        data.pop("population")
        data["placeholders"] = [p for p in data["placeholders"] if p["pointer"] != "/population"]

    assert load_profile(broken_copy(tmp_path, "derbyshire", without)).population is None


def test_a_catalogue_never_reads_a_file_outside_its_folder(tmp_path):
    (tmp_path / "secret.json").write_text("{}")
    catalogue = FileForceCatalogue(tmp_path / "forces")
    assert catalogue.get("../secret") is None


def test_a_force_data_is_held_for_but_without_a_profile_fails_loudly_by_name():
    catalogue = FileForceCatalogue()
    assert catalogue.require("derbyshire").id == "derbyshire"
    with pytest.raises(UnknownForce, match="no force profile 'gone'"):
        catalogue.require("gone")


NOTIFY_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NOTIFY_REPLY_TO = "8e222534-7f05-4972-86e3-17c5d9f894e2"


@pytest.mark.parametrize("force_id", SEED_FORCES)
def test_every_seed_force_sends_through_ses(force_id):
    assert FileForceCatalogue().get(force_id).mail.transport == "ses"


def test_a_force_can_choose_gov_uk_notify_with_its_template_key_and_reply_to_ids(tmp_path):
    path = broken_copy(tmp_path, "derbyshire", lambda d: d.update(mail={"transport": "notify", "notify": {
        "template_id": NOTIFY_TEMPLATE, "api_key": {"ssm_parameter": "/iag/derbyshire/notify-api-key"},
        "reply_to_ids": {"IAG@Derbyshire.example": NOTIFY_REPLY_TO}}}))

    mail = load_profile(path).mail

    assert mail.transport == "notify"
    assert (mail.notify.template_id, mail.notify.api_key_source, mail.notify.api_key_name) == (
        NOTIFY_TEMPLATE, "ssm_parameter", "/iag/derbyshire/notify-api-key")
    assert mail.notify.reply_to_id("iag@derbyshire.example") == NOTIFY_REPLY_TO


@pytest.mark.parametrize("mail, expected", [
    ({"transport": "notify"}, "/mail/notify"),
    ({"transport": "pigeon"}, "/mail/transport"),
    ({"transport": "notify", "notify": {"template_id": "not-a-uuid", "api_key": {"ssm_parameter": "/k"}}},
     "/mail/notify/template_id"),
    ({"transport": "notify", "notify": {"template_id": NOTIFY_TEMPLATE, "api_key": "the-key-itself"}},
     "/mail/notify/api_key"),
    ({"transport": "notify", "notify": {"template_id": NOTIFY_TEMPLATE, "api_key": {
        "ssm_parameter": "/k", "secrets_manager_secret": "k"}}}, "/mail/notify/api_key"),
    ({"transport": "ses", "notify": {"template_id": NOTIFY_TEMPLATE, "api_key": {"ssm_parameter": "/k"}}}, "/mail"),
])
def test_a_mail_block_that_cannot_work_is_refused(tmp_path, mail, expected):
    path = broken_copy(tmp_path, "derbyshire", lambda d: d.update(mail=mail))
    with pytest.raises(InvalidProfile, match=expected):
        load_profile(path)
