"""Equality monitoring covers the nine protected characteristics of the Equality Act 2010, each with
"Prefer not to say", on the form, in the schema and in the equality report."""
import json
from datetime import date

import pytest

from chalicelib.adapters.admin_pages import category_label
from chalicelib.adapters.equality_questions import equality_questions
from chalicelib.adapters.schema_validation import validate
from chalicelib.domain.equality_report import equality_report
from chalicelib.web.apply_flow import CATALOGUE
from chalicelib.web.forms import payload_from_form
from tests.factories import application_payload

# Equality Act 2010 s.4, and the question that monitors each.
CHARACTERISTICS = {
    "age": "age_band", "disability": "disability", "gender reassignment": "gender_same_as_birth",
    "marriage and civil partnership": "marriage_civil_partnership", "pregnancy and maternity": "pregnancy_maternity",
    "race": "ethnicity", "religion or belief": "religion", "sex": "sex", "sexual orientation": "sexual_orientation",
}


def questions():
    return {q.id: q for q in equality_questions()}


@pytest.mark.parametrize("characteristic", sorted(CHARACTERISTICS))
def test_each_protected_characteristic_has_a_question_with_prefer_not_to_say(characteristic):
    question = questions()[CHARACTERISTICS[characteristic]]
    assert "prefer_not_to_say" in question.options


@pytest.mark.parametrize("question_id", sorted(CHARACTERISTICS.values()))
def test_each_question_and_option_has_words_on_the_form(question_id):
    catalogue = json.loads(CATALOGUE.read_text())
    entry = catalogue["questions"][f"equality_monitoring.{question_id}"]
    assert entry["label"].endswith("?")
    worded = set(entry["options"]) | set(catalogue["choices"])
    assert [o for o in questions()[question_id].options if o not in worded] == []


def test_answers_to_the_new_questions_reach_the_payload_and_pass_the_schema():
    form = {"equality_monitoring.marriage_civil_partnership": ["civil_partnership"],
            "equality_monitoring.pregnancy_maternity": ["prefer_not_to_say"]}
    answers = payload_from_form(form)["equality_monitoring"]
    assert answers == {"marriage_civil_partnership": "civil_partnership", "pregnancy_maternity": "prefer_not_to_say"}
    assert validate(application_payload(equality_monitoring=answers), "application") == []


def test_an_answer_outside_the_options_is_refused():
    errors = validate(application_payload(equality_monitoring={"pregnancy_maternity": "maybe"}), "application")
    assert [e.pointer for e in errors] == ["/equality_monitoring/pregnancy_maternity"]


def test_the_equality_report_has_a_table_for_each_characteristic_with_its_words():
    report = equality_report("derbyshire", ["g"], {"g": [{"marriage_civil_partnership": "married"}] * 12},
                             equality_questions(), None, date(2026, 11, 25))
    assert {q.question.id for q in report.questions} == set(CHARACTERISTICS.values())
    assert category_label("marriage_civil_partnership", "civil_partnership") == "In a civil partnership"
    assert category_label("pregnancy_maternity", "prefer_not_to_say") == "Prefer not to say"
