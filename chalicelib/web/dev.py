"""/dev/mailbox: the emails moto's SES has "sent", with their links, so a person can click through a
review locally. Registered only on the local stage (see app.py); never deployed."""
from __future__ import annotations

import json
import re
import urllib.request
from html import unescape

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.web.pages import _page

dev = Blueprint(__name__)
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dev.route("/dev/mailbox", methods=["GET"])
def mailbox():
    endpoint = bootstrap.container().settings.aws_endpoint
    with _http.open(f"{endpoint}/moto-api/data.json", timeout=5) as response:
        messages = json.load(response)["ses"]["Message"]
    shown = [{"to": ", ".join(m["destinations"].get("ToAddresses", [])), "subject": m["subject"],
              "links": [unescape(href) for href in re.findall(r'href="(http[^"]+)"', m["body"])]}
             for m in reversed(messages)]
    return _page("web/mailbox.html", messages=shown)
