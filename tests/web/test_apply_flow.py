"""The form's pages come from the force's profile and earlier answers: no page code per force."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from chalicelib.domain.forces import ForceProfile
from chalicelib.web import apply_flow as flow

PROFILES = Path(__file__).resolve().parents[2] / "chalicelib" / "forces"
TODAY = date(2026, 11, 25)


def profile(force_id: str, eligibility=None, **changes) -> ForceProfile:
    data = json.loads((PROFILES / f"{force_id}.json").read_text())
    data.update(changes)
    if eligibility:
        data["eligibility"] = {**data["eligibility"], **eligibility}
    return ForceProfile.from_dict(data)


def slugs(force, **values) -> list[str]:
    return [p.slug for p in flow.pages_for(force, values)]


def test_a_specialist_group_with_requirements_adds_its_requirements_page_among_the_eligibility_questions():
    force = profile("avon-and-somerset")
    assert "requirements" not in slugs(force, group="bristol")
    pages = slugs(force, group="counter-terrorism")
    assert pages.index("eligibility") < pages.index("requirements") < pages.index("independence") < pages.index("name")


def test_where_convictions_bar_membership_the_question_moves_up_among_the_eligibility_questions():
    barred = slugs(profile("derbyshire", eligibility={"convictions_bar": True}), group="derbyshire-iag")
    assert barred.index("convictions") < barred.index("name")
    not_barred = slugs(profile("derbyshire"), group="derbyshire-iag")
    assert not_barred.index("convictions") > not_barred.index("engagement")


def test_the_equality_pages_come_from_the_schema_and_only_for_a_person_who_wants_to_answer():
    force = profile("derbyshire")
    assert not [s for s in slugs(force, group="derbyshire-iag") if s.startswith("equality-")]
    asked = [s for s in slugs(force, group="derbyshire-iag", **{flow.EQUALITY_CHOICE: "yes"}) if s.startswith("equality-")]
    assert len(asked) == 9  # one page for each protected characteristic of the Equality Act 2010


def test_a_new_group_in_a_profile_is_offered_with_what_it_asks_and_no_new_code():
    data = json.loads((PROFILES / "derbyshire.json").read_text())
    youth = {**data["groups"][0], "id": "youth-iag", "name": "Derbyshire Youth IAG", "maximum_age": 25,
             "requirements": [{"id": "youth-work", "text": "I work or volunteer with young people."}]}
    force = ForceProfile.from_dict({**data, "groups": data["groups"] + [youth], "placeholders": data["placeholders"]})
    [question] = flow.questions(force, flow.page_named(force, {}, "group"), {}, TODAY)
    assert [label for _, label, _ in question.options] == ["Derbyshire Independent Advisory Group", "Derbyshire Youth IAG"]
    common, [choice] = flow.common_group_words(force, [question])
    assert choice.options[1][2] == "For people aged up to 25."  # only what differs stays under the choice
    assert "requirements" in slugs(force, group="youth-iag")


def test_eligibility_rules_run_only_on_the_pages_answered_and_give_every_reason():
    force = profile("thames-valley")
    values = {"group": "reading", "applicant.date_of_birth-day": "1", "applicant.date_of_birth-month": "1",
              "applicant.date_of_birth-year": "2015", "connection_to_area": "lives", "applicant.postcode": "M1 1AE",
              "declarations.police_employee": "yes"}
    assert flow.reasons_so_far(force, values, ["group"], TODAY) == []
    codes = [r.code for r in flow.reasons_so_far(force, values, ["group", "eligibility"], TODAY)]
    assert codes == ["under_minimum_age", "outside_force_area"]
    codes = [r.code for r in flow.reasons_so_far(force, values, ["group", "eligibility", "independence"], TODAY)]
    assert codes[-1] == "not_independent:police_employee"


def test_a_placeholder_venue_never_reaches_a_sentence_but_a_stated_one_does():
    thames_valley = profile("thames-valley")
    words = flow.meeting_words(thames_valley, 3, 0, thames_valley.groups[3].meetings[0])
    assert words == "At least 4 times a year. The force will confirm where meetings are held."
    derbyshire = profile("derbyshire")
    assert "Force Headquarters, Ripley" in flow.meeting_words(derbyshire, 0, 0, derbyshire.groups[0].meetings[0])


def test_proof_of_address_is_asked_only_of_people_who_live_in_the_area():
    force = profile("thames-valley")
    assert flow.proof_needed(force, {"connection_to_area": "lives"})
    assert flow.proof_needed(force, {"connection_to_area": "both"})
    assert flow.proof_needed(force, {"connection_to_area": "works"}) is None
    assert not any("show where you live" in line for line in flow.who_can_apply(force))


def test_every_question_and_page_has_its_words_in_the_catalogue():
    force = profile("avon-and-somerset")
    values = {"group": "counter-terrorism", flow.EQUALITY_CHOICE: "yes"}
    for page in flow.pages_for(force, values):
        assert page.title
        for question in flow.questions(force, page, values, TODAY):
            assert question.label and flow.words(question.name)["short"]
            assert all(label for _, label, _ in question.options)
