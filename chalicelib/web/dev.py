"""/dev/mailbox: the emails moto's SES has "sent", with their links, so a person can click through a
review locally. Registered only on the local stage (see app.py); never deployed."""
from __future__ import annotations

import email
import email.policy
import json
import re
import urllib.request
from html import unescape

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.web.pages import _page

dev = Blueprint(__name__)
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sent_messages(data: dict) -> list[dict]:
    """Moto's sent emails as to / subject / body / attachments. moto keeps emails with attachments (raw MIME)
    in a list of their own, so those come after the others; within each list the order is the order sent."""
    ses = data.get("ses", {})
    messages = [{"to": m["destinations"].get("ToAddresses", []), "subject": m["subject"],
                 "body": m["body"], "attachments": []} for m in ses.get("Message", [])]
    for raw in ses.get("RawMessage", []):
        parsed = email.message_from_string(raw["raw_data"], policy=email.policy.default)
        body = parsed.get_body(("html", "plain"))
        messages.append({"to": sorted(set(raw["destinations"])), "subject": parsed["Subject"],
                         "body": body.get_content() if body else "",
                         "attachments": [part.get_filename() for part in parsed.iter_attachments()]})
    return messages


@dev.route("/dev/mailbox", methods=["GET"])
def mailbox():
    endpoint = bootstrap.container().settings.aws_endpoint
    with _http.open(f"{endpoint}/moto-api/data.json", timeout=5) as response:
        messages = sent_messages(json.load(response))
    shown = [{"to": ", ".join(m["to"]), "subject": m["subject"], "attachments": m["attachments"],
              "links": [unescape(href) for href in re.findall(r'href="(http[^"]+)"', m["body"])]}
             for m in messages[::-1]]
    return _page("web/mailbox.html", messages=shown)
