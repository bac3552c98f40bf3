"""A member's and a meeting's link pages, and the admin routes behind them, in process on moto: GET only shows,
a POST acts once, a refusal shows the form again with what was typed, and operators act within their role."""
from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import date, timedelta


from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role, Status
from tests.conftest import sent_emails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def member(member_id="NOR-1", group="northampton", role=Role.MEMBER) -> Member:
    saved = Member(member_id, "northamptonshire", group, role, f"Member {member_id}", f"{member_id.lower()}@example.org",
                   "", date(2026, 1, 5), date(2029, 1, 5), {"email": True}, None, "confidentiality-agreement@2026-11")
    member_item(saved).save()
    return saved


def mail(to: str) -> list[tuple[str, str]]:
    """(subject, text) of each email sent to `to`, raw (with attachments) or simple."""
    found = []
    for m in sent_emails():
        if hasattr(m, "raw_data"):
            message = email.message_from_string(m.raw_data, policy=email.policy.default)
            if to in m.destinations:
                found.append((message["Subject"], message.get_body(("plain", "html")).get_content()))
        elif to in m.destinations["ToAddresses"]:
            found.append((m.subject, m.body))
    return found


def token_in(link: str) -> str:
    return link.rsplit("/", 1)[1]


def stored(member_id="NOR-1", group="northampton") -> Member:
    return bootstrap.container().member_store.member("northamptonshire", member_id, group)


def test_the_step_down_page_changes_nothing_on_get_and_steps_down_once_on_post(api):
    member("NOR-C", role=Role.CHAIR)
    token = token_in(bootstrap.container().membership.member_links(member())["step_down"])
    page = api.http.get(f"/step-down/{token}")
    assert page.status_code == 200 and b"Step down from the Northampton IAG" in page.body
    assert stored().standing is Status.ACTIVE
    done = api.http.post(f"/step-down/{token}", body="reason=Moving+away", headers=FORM)
    assert done.status_code == 200 and b"You have stepped down" in done.body
    assert stored().standing is Status.STEPPED_DOWN and stored().status_reason == "Moving away"
    assert any("stepped down" in subject for subject, _ in mail("nor-c@example.org"))  # the chair is told
    assert api.http.post(f"/step-down/{token}", body="reason=again", headers=FORM).status_code == 409


def test_my_details_shows_a_mistake_with_what_was_typed_and_saves_a_correct_answer(api):
    token = token_in(bootstrap.container().membership.member_links(member())["details"])
    shown = api.http.get(f"/my-details/{token}").body
    assert b"nor-1@example.org" in shown and b'govuk-summary-list__value">Member<' in shown  # not "member"
    wrong = api.http.post(f"/my-details/{token}", body="action=update&email=new%40example.org&phone=call+me",
                          headers=FORM)
    assert wrong.status_code == 422 and b"phone number" in wrong.body and b"new@example.org" in wrong.body
    assert stored().email == "nor-1@example.org"
    right = api.http.post(f"/my-details/{token}", body="action=update&email=new%40example.org&contact_email=yes",
                          headers=FORM)
    assert right.status_code == 200 and stored().email == "new@example.org"


def test_a_member_asks_for_their_data_and_it_is_emailed_to_them(api):
    token = token_in(bootstrap.container().membership.member_links(member())["details"])
    assert api.http.post(f"/my-details/{token}", body="action=data", headers=FORM).status_code == 200
    assert [s for s, _ in mail("nor-1@example.org")] == ["The data we hold about you"]


def test_a_member_sends_apologies_from_a_real_invitation_and_reads_the_papers_through_a_short_lived_link(api):
    container = bootstrap.container()
    container.documents.ensure_bucket()
    member()
    planned = container.meetings.plan("northamptonshire", "northampton")[0]
    container.meetings.tell_members("northamptonshire", "northampton")
    [invitation] = [text for subject, text in mail("nor-1@example.org") if "Monday 11 January 2027" in subject]
    assert "/step-down/" in invitation and "/my-details/" in invitation
    attend = re.search(r"/attend/([A-Za-z0-9_-]+)", invitation).group(1)
    assert api.http.get(f"/attend/{attend}").status_code == 200
    assert api.http.post(f"/attend/{attend}", body="answer=apologies", headers=FORM).status_code == 200
    uid = planned.meeting.uid_key
    assert container.meeting_business.meeting_record("northamptonshire", "northampton", uid)["answers"] == {
        "NOR-1": "apologies"}
    container.meeting_business.upload_paper("northamptonshire", "northampton", uid, "briefing.txt", "Briefing",
                                            b"Members only")
    container.meeting_business.send_papers("northamptonshire", "northampton", uid)
    [papers] = [text for subject, text in mail("nor-1@example.org") if subject.startswith("Agenda and papers")]
    token = re.search(r"/papers/([A-Za-z0-9_-]+)", papers).group(1)
    assert b"Briefing" in api.http.get(f"/papers/{token}").body
    redirect = api.http.get(f"/papers/{token}/1")
    assert redirect.status_code == 302 and "X-Amz-Expires=900" in redirect.headers["Location"]
    assert f"papers/northamptonshire/northampton/{uid}/briefing.txt" in redirect.headers["Location"]
    assert api.http.get(f"/papers/{token}/2").status_code == 404


def call(api, token, method, path, body=None):
    return getattr(api.http, method.lower())(path, headers={"Authorization": token, "Content-Type": "application/json"},
                                             body=json.dumps(body) if body is not None else None)


def test_only_a_force_administrator_suspends_and_the_member_is_told_why(operator_pool, api):
    member()
    path = "/admin/forces/northamptonshire/groups/northampton/members/NOR-1/status"
    coordinator = operator_pool.token("coord", "coordinator", "northamptonshire", "northampton")
    assert call(api, coordinator, "POST", path, {"change": "suspend", "reason": "x"}).status_code == 403
    admin = operator_pool.token("admin", "force_admin", "northamptonshire")
    assert call(api, admin, "POST", path, {"change": "suspend", "reason": ""}).status_code == 400
    assert stored().standing is Status.ACTIVE
    answer = call(api, admin, "POST", path, {"change": "suspend", "reason": "Breach of the code of ethics"})
    assert answer.status_code == 200 and json.loads(answer.body)["status"] == "suspended"
    [(subject, text)] = mail("nor-1@example.org")
    assert subject == "Your membership is suspended" and "Breach of the code of ethics" in text
    assert call(api, admin, "POST", path, {"change": "suspend", "reason": "again"}).status_code == 400
    record = json.loads(call(api, coordinator, "GET", path.rsplit("/", 1)[0]).body)
    assert [e["what"] for e in record["events"]] == ["suspended"]
    reads = bootstrap.container().access_log.month("northamptonshire", bootstrap.container().clock.now())
    assert [(r["action"], r["reference"]) for r in reads] == [("view_member", "NOR-1")]  # the read is recorded


def test_a_coordinator_sets_a_series_online_link_publishes_minutes_and_closes_an_action(operator_pool, api, clock):
    member()
    container = bootstrap.container()
    planned = container.meetings.plan("northamptonshire", "northampton")[0]
    coordinator = operator_pool.token("coord", "coordinator", "northamptonshire", "northampton")
    base = "/admin/forces/northamptonshire/groups/northampton"
    answer = call(api, coordinator, "PUT", f"{base}/online-link", {"url": "https://teams.example/j", "series": "IAG meeting"})
    assert answer.status_code == 200 and planned.meeting.uid_key in json.loads(answer.body)["meetings"]
    uid = planned.meeting.uid_key
    early = call(api, coordinator, "POST", f"{base}/meetings/{uid}/minutes", {"text": "We met."})
    assert early.status_code == 400
    clock.moment = planned.meeting.ends_at + timedelta(hours=1)
    due = (planned.meeting.starts_at + timedelta(days=30)).date().isoformat()
    minutes = call(api, coordinator, "POST", f"{base}/meetings/{uid}/minutes", {"text": "We met.", "actions": [
        {"title": "Feed back to the police", "owner_name": "Member NOR-1", "owner_email": "nor-1@example.org",
         "due_on": due, "feedback_to_police": True}]})
    assert minutes.status_code == 200
    assert any(subject.startswith("Minutes") for subject, _ in mail("nor-1@example.org"))
    action = json.loads(minutes.body)["actions"][0]["id"]
    assert call(api, coordinator, "POST", f"{base}/actions/{action}/close").status_code == 200
    assert call(api, coordinator, "POST", f"{base}/actions/{action}/close").status_code == 404


def test_call_out_and_election_emails_to_members_carry_their_step_down_and_details_links(api):
    from datetime import timedelta as days

    container = bootstrap.container()
    saved = member()
    member_item(Member(**{**saved.__dict__, "screening": {
        "level": "basic", "outcome": "clear", "completed_on": "2026-01-10", "expires_on": "2029-01-10"}})).save()
    incident = container.callouts.raise_incident(
        "northamptonshire", title="Disorder", summary="Advice wanted.", respond_within=days(hours=2),
        police_lead_name="Supt Lead", police_lead_email="lead@northamptonshire.police.example", raised_by="test")
    container.callouts.ask_members("northamptonshire", incident.id)
    container.elections.open("northamptonshire", "northampton", "chair", nominations_days=14, voting_days=7)
    container.elections.advance("northamptonshire")
    texts = {subject: text for subject, text in mail("nor-1@example.org")}
    assert any(s.startswith("Call-out") for s in texts) and len(texts) >= 2
    for subject, text in texts.items():
        assert "/step-down/" in text and "/my-details/" in text, subject
    step_down = re.search(r"/step-down/([A-Za-z0-9_-]+)", texts[next(iter(texts))]).group(1)
    assert api.http.get(f"/step-down/{step_down}").status_code == 200
