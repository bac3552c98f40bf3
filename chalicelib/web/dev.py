"""/dev/mailbox: the emails moto's SES has "sent", with their links, so a person can click through a
review locally. Registered only on the local stage (see app.py); never deployed.

It reads our moto wrapper's /moto-api/iag/mailbox (scripts/serial_moto.py), which pages SES's list of sent
emails newest first: moto's /moto-api/data.json dumps every object moto holds and took minutes after a day."""
from __future__ import annotations

import json
import re
import urllib.request
from html import unescape

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.web.responses import page as _page

dev = Blueprint(__name__)
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PAGE_SIZE = 50


def sent_page(endpoint: str, offset: int, limit: int, timeout: float = 5) -> dict:
    """{"total", "messages": [{"to": [...], "subject", "body" (HTML when there is one), "attachments"}]},
    newest first, from the moto at `endpoint`."""
    with _http.open(f"{endpoint}/moto-api/iag/mailbox?offset={offset}&limit={limit}", timeout=timeout) as response:
        return json.load(response)


def links(body: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="(http[^"]+)"', body)]


@dev.route("/dev/mailbox", methods=["GET"])
def mailbox():
    requested = (dev.current_request.query_params or {}).get("page", "1")
    page = int(requested) if requested.isdigit() and int(requested) > 0 else 1
    sent = sent_page(bootstrap.container().settings.aws_endpoint, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    shown = [{"to": ", ".join(m["to"]), "subject": m["subject"], "attachments": m["attachments"],
              "links": links(m["body"])} for m in sent["messages"]]
    pages = max(1, -(-sent["total"] // PAGE_SIZE))
    return _page("web/mailbox.html", messages=shown, page=page, pages=pages, total=sent["total"])
