"""A receipt for the person who has just submitted: what only they may see on the confirmation page.

A reference alone (forwarded, guessed, or read over a shoulder) shows no ineligibility reasons; the reasons
go to the applicant's email and to the browser that posted the form, which holds this signed cookie.
"""
from __future__ import annotations

from chalicelib.web import csrf

COOKIE = "iag_receipt"
MAX_AGE_SECONDS = 60 * 60


def _path(force_id: str, reference: str) -> str:
    return f"/forces/{force_id}/applications/{reference}"


def receipt_cookie(secret: bytes, force_id: str, reference: str, secure: bool) -> str:
    token = csrf.issue(secret, f"receipt:{force_id}:{reference}")
    return (f"{COOKIE}={token}; Path={_path(force_id, reference)}; Max-Age={MAX_AGE_SECONDS}; HttpOnly; "
            f"SameSite=Strict{'; Secure' if secure else ''}")


def holds_receipt(secret: bytes, cookie_header: str, force_id: str, reference: str) -> bool:
    from http.cookies import SimpleCookie  # imported by the pages that read cookies, not at the cold start

    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except Exception:  # noqa: BLE001 (a malformed Cookie header holds no receipt)
        return False
    return COOKIE in cookies and csrf.check(secret, f"receipt:{force_id}:{reference}", cookies[COOKIE].value) is None
