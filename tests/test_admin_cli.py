"""The operators' command line, in process against moto (the same services as the API and flows)."""
from __future__ import annotations

import json
from datetime import date

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from scripts.admin import main
from tests.conftest import sent_emails

CLEAR = {"level": "basic", "outcome": "clear", "completed_on": "2026-01-10", "expires_on": "2029-01-10"}


def test_an_operator_raises_an_incident_and_sees_who_answered(api, capsys):
    member_item(Member("NOR-1", "northamptonshire", "northampton", Role.MEMBER, "Member One", "one@example.org",
                        "", date(2026, 1, 5), date(2029, 1, 5), {}, CLEAR, "confidentiality-agreement@2026-11")).save()
    assert main(["--operator", "duty.inspector", "incident", "raise", "--force", "northamptonshire", "--title",
                 "Disorder", "--summary", "Advice wanted", "--within", "2h", "--lead-name", "Supt Lead",
                 "--lead-email", "lead@northants.example"]) == 0
    incident_id = capsys.readouterr().out.split(":")[0]
    bootstrap.container().callouts.ask_members("northamptonshire", incident_id)
    assert any(m.subject.startswith("Call-out: Disorder") for m in sent_emails())
    assert main(["--operator", "duty.inspector", "incident", "answers", "--force", "northamptonshire", "--id",
                 incident_id]) == 0
    assert "Member One" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(api, capsys):
    assert main(["--operator", "x", "incident", "raise", "--force", "northamptonshire", "--title", "T", "--summary",
                 "S", "--within", "2h", "--lead-name", "L", "--lead-email", "nope"]) == 2
    assert "refused: name the police lead" in capsys.readouterr().err
    assert bootstrap.container().callout_store.incidents("northamptonshire") == []


def test_meetings_are_planned_and_listed(api, capsys):
    assert main(["--operator", "x", "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    listing = capsys.readouterr().out
    assert "2027-01-12 18:30  derbyshire.derbyshire-iag.iag-meeting.2027-01-12  sequence 0" in listing


def test_the_cli_lists_shows_and_exports_over_the_admin_service(api, capsys):
    from tests.factories import application_payload, post_json

    reference = post_json(api, "/forces/derbyshire/applications", application_payload()).json_body["reference"]
    assert main(["--operator", "ops", "applications", "list", "--force", "derbyshire", "--group",
                 "derbyshire-iag"]) == 0
    assert reference in capsys.readouterr().out
    assert main(["--operator", "ops", "applications", "show", "--force", "derbyshire", "--ref", reference]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["stage"] == "awaiting_review"
    assert ("operator view", "platform cli:ops") in [(e["what"], e["by"]) for e in shown["timeline"]]
    assert main(["--operator", "ops", "export", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(reference)


def test_the_cli_acts_as_a_pool_operator_with_their_role_and_force(operator_pool, capsys):
    auditor = operator_pool.token("aud", "auditor", "derbyshire")
    assert main(["--token", auditor, "reviewers", "set", "--force", "derbyshire", "--group", "derbyshire-iag",
                 "--role", "iag_chair", "--name", "X", "--email", "x@example.org"]) == 2
    assert "auditor" in capsys.readouterr().err
    other = operator_pool.token("adm", "force_admin", "northamptonshire")
    assert main(["--token", other, "access-log", "--force", "derbyshire"]) == 2
    assert main(["--token", "not-a-token", "access-log", "--force", "derbyshire"]) == 2
    assert "refused" in capsys.readouterr().err


def test_the_cli_answers_a_subject_access_request_and_erases_on_request(api, capsys, tmp_path):
    from tests.factories import application_payload, post_json

    reference = post_json(api, "/forces/derbyshire/applications", application_payload()).json_body["reference"]
    assert main(["--operator", "dpo", "subject-access", "--force", "derbyshire", "--email", "amira.khan@example.org"
                 ]) == 0
    printed = capsys.readouterr().out
    assert reference in printed and "amira" not in printed.lower()  # the request, not the package
    assert any("/your-data/" in m.body for m in sent_emails() if "amira.khan@example.org" in m.destinations["ToAddresses"])
    assert main(["--operator", "dpo", "subject-access-requests", "--force", "derbyshire"]) == 0
    assert reference in capsys.readouterr().out
    assert main(["--operator", "dpo", "erase", "--force", "derbyshire", "--ref", reference, "--reason",
                 "Letter of 18 Nov", "--confirm", "nope"]) == 2
    assert main(["--operator", "dpo", "erase", "--force", "derbyshire", "--ref", reference, "--reason",
                 "Letter of 18 Nov", "--confirm", reference]) == 0
    capsys.readouterr()
    assert main(["--operator", "dpo", "subject-access", "--force", "derbyshire", "--ref", reference]) == 2
    capsys.readouterr()  # erased: nobody on file to send a package to


def test_the_cli_saves_the_recruitment_page(api, capsys, tmp_path):
    page = tmp_path / "recruitment.html"
    assert main(["--operator", "ops", "report", "recruitment", "--force", "derbyshire", "--html", str(page)]) == 0
    assert "<svg" in page.read_text()


def test_the_cli_imports_members_dry_run_first_then_applied_and_sets_a_role(api, capsys):
    from pathlib import Path

    sample = str(Path(__file__).resolve().parent / "data" / "members-northamptonshire.csv")
    with_errors = str(Path(__file__).resolve().parent / "data" / "members-northamptonshire-with-errors.csv")
    assert main(["--operator", "x", "members", "import", "--force", "northamptonshire", "--file", with_errors]) == 1
    assert '"column": "email"' in capsys.readouterr().out
    assert main(["--operator", "x", "members", "import", "--force", "northamptonshire", "--file", sample]) == 0
    assert json.loads(capsys.readouterr().out)["applied"] is False
    assert bootstrap.container().joining_store.members("northamptonshire", "northampton") == []
    assert main(["--operator", "x", "members", "import", "--force", "northamptonshire", "--file", sample,
                 "--apply"]) == 0
    assert len(json.loads(capsys.readouterr().out)["created"]) == 7
    assert main(["--operator", "x", "roles", "set", "--force", "northamptonshire", "--scope", "strategic", "--role",
                 "opfcc_representative", "--name", "Olu Fisher", "--email", "olu@opfcc.example"]) == 0
    capsys.readouterr()
    assert main(["--operator", "x", "roles", "list", "--force", "northamptonshire"]) == 0
    listed = json.loads(capsys.readouterr().out)["roles"]
    assert {"scope": "strategic", "role": "opfcc_representative", "panel": "senior representatives",
            "holder": {"name": "Olu Fisher", "email": "olu@opfcc.example"}} in listed


def test_a_coordinator_acts_through_their_token_on_their_groups_only(operator_pool, capsys):
    token = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    assert main(["--token", token, "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    assert "invitations sent" in capsys.readouterr().out
    assert main(["--token", token, "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-scrutiny"]) == 2
    assert main(["--token", token, "meetings", "list", "--force", "northamptonshire", "--group", "northampton"]) == 2
    assert "may not" in capsys.readouterr().err
    assert bootstrap.container().meeting_store.all("northamptonshire", "northampton") == []


def test_outside_the_local_stack_the_platform_credentials_path_needs_break_glass(api, capsys):
    from dataclasses import replace

    container = bootstrap.container()
    bootstrap.override(settings=replace(container.settings, stage="prod"))
    assert main(["--operator", "x", "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 2
    assert "--break-glass" in capsys.readouterr().err
    assert bootstrap.container().meeting_store.all("derbyshire", "derbyshire-iag") == []
    assert main(["--break-glass", "--operator", "x", "meetings", "list", "--force", "derbyshire", "--group",
                 "derbyshire-iag"]) == 0
