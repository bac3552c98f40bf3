"""The admin API's part of /openapi.json: every route needs an operator pool ID token."""
from __future__ import annotations

from chalicelib.api.problems import PROBLEM_JSON

SECURITY_SCHEMES = {"OperatorPool": {
    "type": "apiKey", "in": "header", "name": "Authorization",
    "description": "An ID token from the operator pool (Cognito), with or without 'Bearer '."}}

_SECURED: list[dict[str, list[str]]] = [{"OperatorPool": []}]
_FORCE = {"name": "force_id", "in": "path", "required": True, "schema": {"type": "string"}}
_GROUP = {"name": "group_id", "in": "path", "required": True, "schema": {"type": "string"}}
_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}
_OBJECT = {"type": "object"}


def _problems(*statuses: int) -> dict:
    return {str(s): {"description": "A problem (RFC 9457)",
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def _operation(operation_id: str, summary: str, parameters: list, answer: dict, *problems: int,
               body: dict | None = None, description: str = "") -> dict:
    operation = {"operationId": operation_id, "summary": summary, "security": _SECURED, "parameters": parameters,
                 "responses": {"200": answer, **_problems(401, 403, 404, *problems)}}
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _accepted(operation: dict) -> dict:
    operation["responses"] = {"202": operation["responses"].pop("200"), **operation["responses"]}
    return operation


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_DONE = _json({"type": "object", "required": ["done"]}, "What was done")
_PAGE = _json({"type": "object", "required": ["applications", "next"], "properties": {
    "applications": {"type": "array", "items": {"type": "object", "required": ["reference", "group", "stage"]}},
    "next": {"type": ["string", "null"]}}}, "A page of applications, newest first")
_QUERY = {"in": "query", "required": False}


def admin_paths() -> dict:
    return {
        "/admin/me": {"get": {"operationId": "whoAmI", "summary": "The signed-in operator's role, force and groups",
                              "security": _SECURED, "responses": {"200": _json({"$ref": "#/components/schemas/Operator"}, "The operator"),
                                                                  **_problems(401, 403)}}},
        "/admin/forces/{force_id}/groups/{group_id}/applications": {"get": _operation(
            "listApplications", "A group's applications at one stage, newest first, a page at a time",
            [_FORCE, _GROUP, {"name": "stage", **_QUERY, "schema": {"type": "string", "default": "awaiting_review"}},
             {"name": "limit", **_QUERY, "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
             {"name": "next", **_QUERY, "schema": {"type": "string"}}], _PAGE, 400)},
        "/admin/forces/{force_id}/applications/{reference}": {"get": _operation(
            "showApplication", "One application, its timeline (moves, decisions, reads) and its flow runs",
            [_FORCE, _REFERENCE], _json(_OBJECT, "The application"))},
        "/admin/forces/{force_id}/applications/{reference}/retry": {"post": _operation(
            "retryRun", "Start, rerun or wake the application's flow run", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/cancel": {"post": _operation(
            "cancelRun", "Stop the application's flow run (the application keeps its stage)", [_FORCE, _REFERENCE],
            _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/resend": {"post": _operation(
            "resendLinks", "Fresh links to whoever the application waits for", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/residency": {"post": _operation(
            "confirmResidency", "Record that a coordinator has seen the applicant's evidence of residency; the "
            "application goes on towards the offer", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/groups/{group_id}/reviewers": {"get": _operation(
            "listReviewers", "Who holds each panel role of the group", [_FORCE, _GROUP], _json(_OBJECT, "The panel"))},
        "/admin/forces/{force_id}/groups/{group_id}/reviewers/{role}": {"put": _operation(
            "setReviewer", "Give a panel role to a person; requests waiting on the role go to them",
            [_FORCE, _GROUP, {"name": "role", "in": "path", "required": True, "schema": {"type": "string"}}],
            _json(_OBJECT, "The panel role"), 400,
            body={"type": "object", "required": ["name", "email"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "email": {"type": "string", "format": "email", "maxLength": 254}}})},
        "/admin/forces/{force_id}/roles": {"get": _operation(
            "listRoles", "Every role the force's documents name (panels, senior representatives, contacts) and who "
            "holds it", [_FORCE], _json(_OBJECT, "The roles"))},
        "/admin/forces/{force_id}/roles/{scope}/{role}": {"put": _operation(
            "setRole", "Give a role to a person: the previous holder's links stop working and what waits on the "
            "role goes to the new holder",
            [_FORCE, {"name": "scope", "in": "path", "required": True, "schema": {"type": "string"},
                      "description": "a group id, 'appeal' (the appeal panel) or 'force' (the force's contacts)"},
             {"name": "role", "in": "path", "required": True, "schema": {"type": "string"}}],
            _json(_OBJECT, "The role"), 400,
            body={"type": "object", "required": ["name", "email"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "email": {"type": "string", "format": "email", "maxLength": 254}}})},
        "/admin/forces/{force_id}/members/import": {"post": _operation(
            "importMembers", "Import serving members from a CSV: a dry run reports every problem by line and column; "
            "a real run is all or nothing and idempotent", [_FORCE], _json(_OBJECT, "The import's report"), 400, 409,
            422, body={"type": "object", "required": ["csv"], "properties": {
                "csv": {"type": "string", "maxLength": 1000000, "description": "The file's text (docs/import.md)"},
                "dry_run": {"type": "boolean", "default": True}}},
            description="Columns: name, email, phone, group, role (member, chair, vice chair, strategic nominee), "
                        "joined_on, term_ends_on, screening_outcome, screening_level, screening_date, "
                        "screening_expires, agreement_signed_on; each row is checked by "
                        "schemas/member_import_row.schema.json.")},
        "/admin/forces/{force_id}/groups/{group_id}/export": {"get": _operation(
            "exportGroup", "The group's applications as CSV (no equality answers)", [_FORCE, _GROUP],
            {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}})},
        "/admin/forces/{force_id}/reports/equality": {"get": _operation(
            "equalityReport", "Equality monitoring counts per group for one ended period, small counts hidden",
            [_FORCE, {"name": "period", **_QUERY, "schema": {"type": "string", "maxLength": 80}}],
            _json(_OBJECT, "The report, or that the period is withheld, with the publication rule"),
            description="Only a quarter or campaign that has ended, with enough people answering, is published; "
                        "once published its figures do not change.")},
        "/admin/forces/{force_id}/reports/recruitment": {"get": _operation(
            "recruitmentReport", "The recruitment funnel and review queues, of the force or one group",
            [_FORCE, {"name": "group", **_QUERY, "schema": {"type": "string"}}], _json(_OBJECT, "The report"))},
        "/admin/forces/{force_id}/subject-access": {
            "post": _accepted(_operation(
                "requestSubjectAccess", "Send one person (found by email or by one application's reference) a "
                "single-use link to everything held about them; force administrators only",
                [_FORCE], _json(_OBJECT, "The request as recorded (never the package)"), 400,
                body={"type": "object", "properties": {"email": {"type": "string", "maxLength": 254},
                                                       "reference": {"type": "string", "maxLength": 40}}})),
            "get": _operation(
                "subjectAccessRequests", "Who asked for which person's package, when, and when it was delivered",
                [_FORCE], _json(_OBJECT, "The requests, newest first"))},
        "/admin/forces/{force_id}/applications/{reference}/erasure": {"post": _operation(
            "erase", "Erase the person who made this application: identity removed, anonymised audit kept",
            [_FORCE, _REFERENCE], _json(_OBJECT, "What was erased"), 400,
            body={"type": "object", "required": ["reason", "confirm"], "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "confirm": {"type": "string", "description": "The reference again"}}})},
        "/admin/forces/{force_id}/access-log": {"get": _operation(
            "accessLog", "Who read what in a month", [_FORCE, {"name": "month", **_QUERY, "schema": {
                "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}], _json(_OBJECT, "The reads"), 400)},
        **member_and_meeting_paths(),
        **business_paths(),
    }


_MEMBER = {"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}
_MEETING = {"name": "uid_key", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "The meeting's stable key, e.g. northamptonshire.northampton.iag-meeting.2027-01-11"}
_MEMBER_SHOWN = _json(_OBJECT, "The member, with their standing (status, reason, date), term, renewal and screening")
_MEETING_SHOWN = _json(_OBJECT, "The meeting's agenda, papers, answers, attendance, minutes and actions")


def member_and_meeting_paths() -> dict:
    """A member's life after joining and a meeting's business (chalicelib/api/admin_members.py)."""
    members = "/admin/forces/{force_id}/groups/{group_id}/members/{member_id}"
    meetings = "/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}"
    return {
        members: {"get": _operation("showMember", "One member: standing, term, renewal, screening and their changes",
                                    [_FORCE, _GROUP, _MEMBER], _MEMBER_SHOWN)},
        members + "/status": {"post": _operation(
            "changeMember", "Suspend, reinstate or remove a member (force administrators); the member, the group's "
            "chair and the coordinator are told", [_FORCE, _GROUP, _MEMBER], _MEMBER_SHOWN, 400, 409,
            body={"type": "object", "required": ["change"], "properties": {
                "change": {"enum": ["suspend", "reinstate", "remove"]},
                "reason": {"type": "string", "maxLength": 500, "description": "Needed to suspend or remove"}}})},
        members + "/renewal": {"post": _operation(
            "decideRenewal", "Agree or decline a member's request to continue for another term",
            [_FORCE, _GROUP, _MEMBER], _MEMBER_SHOWN, 400, 409,
            body={"type": "object", "required": ["agree"], "properties": {
                "agree": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 500}}})},
        members + "/screening": {"post": _operation(
            "recordMemberScreening", "A renewed screening check (outcome, level, date: never the record); a clear "
            "check lifts a pause from call-outs", [_FORCE, _GROUP, _MEMBER], _MEMBER_SHOWN, 400, 409,
            body={"type": "object", "required": ["outcome", "level", "completed_on"], "properties": {
                "outcome": {"enum": ["clear", "refer", "not_completed"]}, "level": {"enum": ["basic", "limited"]},
                "completed_on": {"type": "string", "format": "date"}}})},
        "/admin/forces/{force_id}/groups/{group_id}/online-link": {"put": _operation(
            "setOnlineLink", "The online joining link of one meeting or of a series (its later meetings keep it); "
            "members get the update with the .ics", [_FORCE, _GROUP],
            _json(_OBJECT, "The meetings changed"), 400, 409,
            body={"type": "object", "required": ["url"], "properties": {
                "url": {"type": "string", "description": "https://..., or empty to remove"},
                "meeting": {"type": "string"}, "series": {"type": "string"}}})},
        meetings: {"get": _operation("showMeeting", "A meeting's business", [_FORCE, _GROUP, _MEETING],
                                     _MEETING_SHOWN)},
        meetings + "/papers": {"post": _operation(
            "uploadPaper", "A paper into the private bucket (members read it only through short-lived links)",
            [_FORCE, _GROUP, _MEETING], _json(_OBJECT, "The paper stored"), 400,
            body={"type": "object", "required": ["filename", "content_base64"], "properties": {
                "filename": {"type": "string", "pattern": "\\.(pdf|docx|odt|txt|html)$"},
                "title": {"type": "string", "maxLength": 200},
                "content_base64": {"type": "string", "description": "Up to 4 MB once decoded"}}})},
        meetings + "/send-papers": {"post": _operation(
            "sendPapers", "The agenda and a link to the papers to each member the meeting is for, once each",
            [_FORCE, _GROUP, _MEETING], _json(_OBJECT, "How many were sent"), 400)},
        meetings + "/attendance": {"post": _operation(
            "confirmAttendance", "Who came, as the coordinator confirms it", [_FORCE, _GROUP, _MEETING],
            _MEETING_SHOWN, 400, body={"type": "object", "required": ["present"], "properties": {
                "present": {"type": "array", "items": {"type": "string"}}}})},
        meetings + "/minutes": {"post": _operation(
            "publishMinutes", "Minutes and actions, published once to the group's members; open actions are "
            "reminded", [_FORCE, _GROUP, _MEETING], _MEETING_SHOWN, 400,
            body={"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string", "maxLength": 20000},
                "actions": {"type": "array", "maxItems": 50, "items": {
                    "type": "object", "required": ["title", "owner_name", "owner_email", "due_on"], "properties": {
                        "title": {"type": "string"}, "owner_name": {"type": "string"},
                        "owner_email": {"type": "string", "format": "email"},
                        "due_on": {"type": "string", "format": "date"},
                        "feedback_to_police": {"type": "boolean"}}}}}})},
        "/admin/forces/{force_id}/groups/{group_id}/actions/{action_id}/close": {"post": _operation(
            "closeAction", "Close an action (its reminders stop)",
            [_FORCE, _GROUP, {"name": "action_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            _json(_OBJECT, "The action closed"))},
    }


_INCIDENT = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ELECTION = {"name": "election_id", "in": "path", "required": True, "schema": {"type": "string"}}
_CYCLE = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "string"}}
_TIME = {"type": "string", "maxLength": 40,
         "description": "ISO 8601, e.g. 2027-01-18T18:30 (a London time) or 2027-01-18T18:30:00+00:00"}
_NOTE = {"type": "string", "maxLength": 500}
_INCIDENT_SHOWN = _json({"type": "object", "required": ["id", "title", "groups", "respond_by", "open"]}, "The call-out")
_PLANNED = _json({"type": "object", "required": ["uid_key", "starts_at", "cancelled", "sequence"]}, "The meeting")
_MEETINGS = _json({"type": "object", "required": ["meetings"]}, "The group's upcoming meetings")
_ELECTION_SHOWN = _json({"type": "object", "required": ["id", "office", "status"]},
                        "The election: phase, candidates, and the count once closed")
_CYCLE_SHOWN = _json({"type": "object", "required": ["id", "status", "slots"]}, "The Strategic IAG cycle")


def _both(operation: dict) -> dict:
    """200 when a known member was corrected, 201 when one was added."""
    operation["responses"] = {"201": operation["responses"]["200"], **operation["responses"]}
    return operation


def _created(operation: dict) -> dict:
    operation["responses"] = {"201": operation["responses"].pop("200"), **operation["responses"]}
    return operation


def business_paths() -> dict:
    """Call-outs, meetings, elections and Strategic IAG cycles (chalicelib/api/admin_business.py)."""
    incidents = "/admin/forces/{force_id}/incidents"
    group = "/admin/forces/{force_id}/groups/{group_id}"
    elections = group + "/elections"
    cycles = "/admin/forces/{force_id}/strategic-cycles"
    return {
        incidents: {
            "get": _operation("listIncidents", "The force's recent call-outs (a coordinator: those calling only "
                              "their groups)", [_FORCE], _json({"type": "object", "required": ["incidents"]},
                                                                "Call-outs, newest first")),
            "post": _created(_operation(
                "raiseIncident", "Raise a call-out: every member who can be called (active, screened where needed, "
                "agreement signed) gets a link to answer once; the police lead gets a live page",
                [_FORCE], _INCIDENT_SHOWN, 400, body={
                    "type": "object", "required": ["title", "summary", "respond_within_minutes", "police_lead_name",
                                                   "police_lead_email"], "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 200},
                        "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "respond_within_minutes": {"type": "integer", "minimum": 15, "maximum": 10080},
                        "police_lead_name": {"type": "string", "minLength": 1, "maxLength": 120},
                        "police_lead_email": {"type": "string", "format": "email", "maxLength": 254},
                        "groups": {"type": "array", "items": {"type": "string"},
                                   "description": "Some of the force's groups (a coordinator: theirs); all if absent"}}}))},
        incidents + "/{incident_id}": {"get": _operation(
            "showIncident", "A call-out and the answers so far, available first", [_FORCE, _INCIDENT],
            _json({"type": "object", "required": ["id", "responses", "counts"]}, "The call-out and its answers"))},
        incidents + "/{incident_id}/close": {"post": _operation(
            "closeIncident", "End the response window now: members' links stop working and the police lead gets "
            "the summary", [_FORCE, _INCIDENT], _INCIDENT_SHOWN, 409)},
        group + "/meetings": {"get": _operation("listMeetings", "The group's upcoming meetings (cancelled ones "
                                                "marked)", [_FORCE, _GROUP], _MEETINGS)},
        group + "/meeting-plan": {"post": _operation(
            "planMeetings", "Plan the group's next meetings from its cadence (off bank holidays) and send members "
            "what they have not had", [_FORCE, _GROUP], _json({"type": "object", "required": ["meetings", "sent"]},
                                                              "The upcoming meetings and how many emails went"))},
        group + "/extraordinary-meetings": {"post": _created(_operation(
            "addExtraordinaryMeeting", "An extra meeting (e.g. after an incident), sent to every member at once",
            [_FORCE, _GROUP], _PLANNED, 400, body={
                "type": "object", "required": ["starts_at", "venue", "purpose"], "properties": {
                    "starts_at": _TIME, "minutes": {"type": "integer", "minimum": 15, "maximum": 480, "default": 120},
                    "venue": {"type": "string", "maxLength": 200}, "online": {"type": "boolean"},
                    "purpose": {"type": "string", "minLength": 1, "maxLength": 500}}}))},
        group + "/meetings/{uid_key}/move": {"post": _operation(
            "moveMeeting", "Move a meeting: members get the update (same UID, higher SEQUENCE)",
            [_FORCE, _GROUP, _MEETING], _PLANNED, 400,
            body={"type": "object", "required": ["starts_at"], "properties": {"starts_at": _TIME, "note": _NOTE}})},
        group + "/meetings/{uid_key}/cancel": {"post": _operation(
            "cancelMeeting", "Cancel a meeting: members get the cancellation for their calendars",
            [_FORCE, _GROUP, _MEETING], _PLANNED, 400,
            body={"type": "object", "properties": {"note": _NOTE}})},
        elections: {
            "get": _operation("listElections", "The group's elections under way", [_FORCE, _GROUP],
                              _json({"type": "object", "required": ["elections"]}, "Elections under way")),
            "post": _created(_operation(
                "openElection", "Open an election for Chair or Vice Chair: every active member gets a nomination link",
                [_FORCE, _GROUP], _ELECTION_SHOWN, 400, 409, body={
                    "type": "object", "required": ["office"], "properties": {
                        "office": {"enum": ["chair", "vice_chair"]},
                        "nominations_days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 14},
                        "voting_days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 14}}}))},
        elections + "/{election_id}": {"get": _operation(
            "showElection", "Where an election stands; the count only once it has closed",
            [_FORCE, _GROUP, _ELECTION], _ELECTION_SHOWN)},
        elections + "/{election_id}/start-voting": {"post": _operation(
            "startVoting", "After nominations close: every active member gets a ballot", [_FORCE, _GROUP, _ELECTION],
            _ELECTION_SHOWN, 409)},
        elections + "/{election_id}/declare": {"post": _operation(
            "declareElection", "After voting closes (or when nobody stood): count, seat the winner, tell the group",
            [_FORCE, _GROUP, _ELECTION], _ELECTION_SHOWN, 409)},
        cycles: {
            "get": _operation("listStrategicCycles", "The Strategic IAG's open cycles and the latest decided ones",
                              [_FORCE], _json({"type": "object", "required": ["cycles"]}, "Cycles")),
            "post": _created(_operation(
                "startStrategicCycle", "Open the cycle for the Strategic IAG's next meeting (or find the one open) "
                "and ask the local IAGs' chairs for nominees", [_FORCE], _CYCLE_SHOWN))},
        cycles + "/{cycle_id}": {"get": _operation(
            "showStrategicCycle", "Who has nominated, how many answered the poll, and each date's availability",
            [_FORCE, _CYCLE], _CYCLE_SHOWN)},
        group + "/members": {"post": _both(_operation(
            "addOrEditMember", "One member, as one row of the member import: a new email adds them, a known one "
            "corrects their details; the import's checks, nothing written on a problem (422)", [_FORCE, _GROUP],
            _json(_OBJECT, "The import's report for the one row"), 400, 422, body={
                "type": "object", "required": ["name", "email", "role", "joined_on"], "properties": {
                    "name": {"type": "string", "maxLength": 120}, "email": {"type": "string", "maxLength": 254},
                    "phone": {"type": "string", "maxLength": 40}, "role": {"type": "string"},
                    "joined_on": {"type": "string", "format": "date"},
                    "term_ends_on": {"type": "string", "format": "date"},
                    "screening_outcome": {"type": "string"}, "screening_level": {"type": "string"},
                    "screening_date": {"type": "string", "format": "date"},
                    "screening_expires": {"type": "string", "format": "date"},
                    "agreement_signed_on": {"type": "string", "format": "date"},
                    "dry_run": {"type": "boolean", "default": False}}}))},
        cycles + "/{cycle_id}/date": {"post": _operation(
            "setStrategicDate", "When no date had a quorum: choose one of the dates offered; nominees are seated "
            "and everyone is invited", [_FORCE, _CYCLE], _CYCLE_SHOWN, 400,
            body={"type": "object", "required": ["starts_at"], "properties": {"starts_at": _TIME}})},
    }
