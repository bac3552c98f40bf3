"""The operators' command line, in process against moto (the same services as the API and flows)."""
from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from scripts.admin import main
from tests.conftest import sent_emails

@pytest.fixture
def served_api(api, operator_pool):
    """The app behind a real HTTP server on a free loopback port (each request handed to the in-process app on
    moto), so the CLI's --token path is tested over HTTP as it runs against a deployed API."""
    client = api

    class Handler(BaseHTTPRequestHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = client.http.request(self.command, self.path, headers=dict(self.headers.items()), body=body)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body if isinstance(answer.body, bytes) else answer.body.encode())

        do_GET = do_POST = do_PUT = _forward

        def log_message(self, *args):  # quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def subject(token: str) -> str:
    """The operator id the server records: the token's `sub`."""
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


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


def test_the_cli_acts_as_a_pool_operator_with_their_role_and_force(served_api, operator_pool, capsys):
    auditor = operator_pool.token("aud", "auditor", "derbyshire")
    assert main(["--api", served_api, "--token", auditor, "reviewers", "set", "--force", "derbyshire", "--group",
                 "derbyshire-iag", "--role", "iag_chair", "--name", "X", "--email", "x@example.org"]) == 2
    assert "auditor" in capsys.readouterr().err
    other = operator_pool.token("adm", "force_admin", "northamptonshire")
    assert main(["--api", served_api, "--token", other, "access-log", "--force", "derbyshire"]) == 2
    assert "(HTTP 403)" in capsys.readouterr().err
    forged = auditor[:-6] + ("AAAAAA" if not auditor.endswith("AAAAAA") else "BBBBBB")  # a signature not the pool's
    assert main(["--api", served_api, "--token", forged, "access-log", "--force", "derbyshire"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refused: ") and "(HTTP 401)" in err


def test_the_token_path_goes_over_http_and_the_server_records_the_operator(served_api, operator_pool, capsys):
    coordinator = operator_pool.token("coord.http", "coordinator", "derbyshire", "derbyshire-iag")
    assert main(["--api", served_api, "--token", coordinator, "meetings", "plan", "--force", "derbyshire",
                 "--group", "derbyshire-iag"]) == 0
    assert "invitations sent" in capsys.readouterr().out
    admin = operator_pool.token("adm.derby", "force_admin", "derbyshire")
    assert main(["--api", served_api, "--token", admin, "access-log", "--force", "derbyshire"]) == 0
    reads = json.loads(capsys.readouterr().out)["reads"]
    assert {"operator": subject(coordinator), "role": "coordinator", "action": "plan_meetings",
            "group": "derbyshire-iag"}.items() <= next(r for r in reads if r["action"] == "plan_meetings").items()


def test_another_forces_token_is_refused_by_the_api_and_changes_nothing(served_api, operator_pool, capsys):
    other = operator_pool.token("adm.north", "force_admin", "northamptonshire")
    assert main(["--api", served_api, "--token", other, "meetings", "plan", "--force", "derbyshire", "--group",
                 "derbyshire-iag"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refused: ") and "(HTTP 403)" in err
    assert bootstrap.container().meeting_store.all("derbyshire", "derbyshire-iag") == []


def test_an_api_that_cannot_be_reached_is_an_error_not_a_silent_success(operator_pool, capsys):
    import socket

    with socket.socket() as unused:  # a free port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    token = operator_pool.token("coord.down", "coordinator", "derbyshire", "derbyshire-iag")
    assert main(["--api", f"http://127.0.0.1:{port}", "--token", token, "meetings", "list", "--force", "derbyshire",
                 "--group", "derbyshire-iag"]) == 1
    assert "cannot reach the API" in capsys.readouterr().err


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


def test_a_coordinator_acts_through_their_token_on_their_groups_only(served_api, operator_pool, capsys):
    token = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    api = ["--api", served_api, "--token", token]
    assert main([*api, "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    assert "invitations sent" in capsys.readouterr().out
    assert main([*api, "meetings", "plan", "--force", "derbyshire", "--group", "derbyshire-scrutiny"]) == 2
    assert main([*api, "meetings", "list", "--force", "northamptonshire", "--group", "northampton"]) == 2
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


def test_every_kind_of_command_answers_over_http_as_it_did_in_process(served_api, operator_pool, capsys, tmp_path):
    from pathlib import Path

    admin = ["--api", served_api, "--token", operator_pool.token("adm.n", "force_admin", "northamptonshire")]
    data = Path(__file__).resolve().parent / "data"
    assert main([*admin, "members", "import", "--force", "northamptonshire", "--file",
                 str(data / "members-northamptonshire-with-errors.csv"), "--apply"]) == 1
    assert '"column": "email"' in capsys.readouterr().out
    assert bootstrap.container().joining_store.members("northamptonshire", "northampton") == []
    assert main([*admin, "members", "import", "--force", "northamptonshire", "--file",
                 str(data / "members-northamptonshire.csv"), "--apply"]) == 0
    assert len(json.loads(capsys.readouterr().out)["created"]) == 7
    assert main([*admin, "incident", "raise", "--force", "northamptonshire", "--title", "Disorder", "--summary",
                 "Advice wanted", "--within", "2h", "--lead-name", "Supt Lead", "--lead-email",
                 "lead@northants.example"]) == 0
    incident_id = capsys.readouterr().out.split(":")[0]
    assert main([*admin, "incident", "close", "--force", "northamptonshire", "--id", incident_id]) == 0
    assert "'no_answer'" in capsys.readouterr().out
    assert main([*admin, "election", "open", "--force", "northamptonshire", "--group", "northampton", "--office",
                 "chair"]) == 0
    election_id = capsys.readouterr().out.split(":")[0]
    assert main([*admin, "election", "show", "--force", "northamptonshire", "--group", "northampton", "--id",
                 election_id]) == 0
    assert capsys.readouterr().out.startswith(f"{election_id}: nominat")
    assert main([*admin, "roles", "list", "--force", "northamptonshire"]) == 0
    assert json.loads(capsys.readouterr().out)["roles"]
    page = tmp_path / "recruitment.html"
    assert main([*admin, "report", "recruitment", "--force", "northamptonshire", "--html", str(page)]) == 0
    assert "<svg" in page.read_text()


def test_applications_are_listed_shown_and_exported_over_http(api, served_api, operator_pool, capsys, tmp_path):
    from tests.factories import application_payload, post_json

    reference = post_json(api, "/forces/derbyshire/applications", application_payload()).json_body["reference"]
    coordinator = operator_pool.token("coord.apps", "coordinator", "derbyshire", "derbyshire-iag")
    cli = ["--api", served_api, "--token", coordinator]
    assert main([*cli, "applications", "list", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    assert reference in capsys.readouterr().out
    assert main([*cli, "applications", "show", "--force", "derbyshire", "--ref", reference]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert ("operator view", f"coordinator {subject(coordinator)}") in [(e["what"], e["by"]) for e in shown["timeline"]]
    assert main([*cli, "export", "--force", "derbyshire", "--group", "derbyshire-iag"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(reference)
    saved = tmp_path / "export.csv"
    assert main([*cli, "export", "--force", "derbyshire", "--group", "derbyshire-iag", "--out", str(saved)]) == 0
    assert capsys.readouterr().out.strip() == f"1 application written to {saved}"
    assert saved.read_text(encoding="utf-8").splitlines()[1].startswith(reference)


def test_a_proxy_named_for_the_internet_is_not_used_for_the_local_stacks_api(served_api, operator_pool, capsys,
                                                                              monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there: a request through it fails
    monkeypatch.setenv("no_proxy", "")
    token = operator_pool.token("coord.proxy", "coordinator", "derbyshire", "derbyshire-iag")
    assert main(["--api", served_api, "--token", token, "meetings", "list", "--force", "derbyshire", "--group",
                 "derbyshire-iag"]) == 0
