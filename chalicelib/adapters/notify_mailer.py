"""Email through GOV.UK Notify, for a force whose profile chooses it (`mail.transport: notify`).

Notify sends only through templates made in its web app, so each force makes one generic email template:
subject `((subject))`, body `((body))`. Notify formats the body itself (a line starting "- " becomes a bullet,
a bare URL a link), so it gets our plain-text part, never the HTML one.

Attachments cannot travel: Notify has no attachments, only "send a file by email" (a download link, by
invitation, for PDF, CSV, TXT, JSON, Office and image files; .ics is refused). A calendar file is therefore
left off and the email says so at the top, so nobody waits for an invitation that is not there.
"""
from __future__ import annotations

import logging
from functools import cached_property
from typing import Callable, Optional

from chalicelib.domain.forces import NotifySettings
from chalicelib.services.log_context import current
from chalicelib.services.ports import EmailMessage, MailNotSent

log = logging.getLogger(__name__)

NOTIFY_API = "https://api.notifications.service.gov.uk"

# 4xx other than 429 mean a person must fix something (template id, API key, reply-to id, address):
# sending the same request again gets the same answer. 429 (rate or daily limit), 5xx and no answer at all
# (the client reports those as 503) are worth trying again later.
RETRYABLE_STATUSES = frozenset({429})


class NotifyMailer:
    def __init__(self, settings: NotifySettings, api_key: Callable[[], str], *, base_url: str = NOTIFY_API,
                 timeout_seconds: float = 10):
        self._settings = settings
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout_seconds

    @cached_property
    def _client(self):
        # notifications_python_client pulls in requests and PyJWT: only when a Notify force first sends.
        from notifications_python_client.notifications import NotificationsAPIClient

        try:
            return NotificationsAPIClient(self._api_key(), base_url=self._base_url, timeout=self._timeout)
        except Exception as error:  # unreadable or malformed: the key is the same problem to fix
            raise MailNotSent(f"no GOV.UK Notify API key for this force: {error!r}", retryable=False) from error

    def send(self, message: EmailMessage) -> str:
        from notifications_python_client.errors import APIError

        try:
            response = self._client.send_email_notification(
                email_address=message.to, template_id=self._settings.template_id,
                personalisation={"subject": message.subject, "body": notify_body(message, self._settings)},
                email_reply_to_id=self._settings.reply_to_id(message.reply_to),
                reference=current().get("reference"))  # shown in Notify's dashboard; never personal data
        except APIError as error:
            retryable = error.status_code >= 500 or error.status_code in RETRYABLE_STATUSES
            # Notify's messages name the field at fault; the log formatter redacts any address all the same.
            raise MailNotSent(f"GOV.UK Notify answered {error.status_code}: {_words(error.message)}",
                              retryable=retryable, status=error.status_code) from error
        if message.attachments:
            log.warning("sent without %d attachment(s) Notify cannot carry: %s", len(message.attachments),
                        ", ".join(a.content_type.split(";")[0] for a in message.attachments))
        return response["id"]


def notify_body(message: EmailMessage, settings: NotifySettings) -> str:
    """The plain-text part, with what Notify cannot do said in words rather than dropped."""
    notes = [_missing_attachment_note(a.filename, a.content_type) for a in message.attachments]
    if message.reply_to and not settings.has_reply_to(message.reply_to):
        notes.append(f"To reply, write to {message.reply_to} (replies to this email do not reach that address).")
    # Our templates never use Markdown links; breaking "](" keeps text someone typed from becoming a disguised link.
    text = message.text.replace("](", "] (")
    if not notes:
        return text
    return "\n".join(f"^ {note}" for note in notes) + "\n\n" + text


def _words(message) -> str:
    """Notify's v2 errors are a list of {"error", "message"}; the client hands that list over as it is."""
    if isinstance(message, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in message)
    return str(message)


def _missing_attachment_note(filename: str, content_type: str) -> str:
    if content_type.split(";")[0].strip().lower() == "text/calendar":
        return (f"This email cannot carry its calendar file ({filename}): the service we send email through "
                "does not allow calendar attachments. Please add the date and time given below to your "
                "calendar yourself.")
    return f"This email cannot carry its attachment ({filename}); please ask us for it by replying."


def api_key_reader(region: str, endpoint_url: Optional[str] = None) -> Callable[[NotifySettings], Callable[[], str]]:
    """Reads a force's Notify API key from SSM Parameter Store or Secrets Manager, once per process."""
    cache: dict[tuple[str, str], str] = {}

    def for_force(settings: NotifySettings) -> Callable[[], str]:
        def read() -> str:
            where = (settings.api_key_source, settings.api_key_name)
            if where not in cache:
                import boto3  # only when a Notify force first sends

                if settings.api_key_source == "ssm_parameter":
                    ssm = boto3.client("ssm", region_name=region, endpoint_url=endpoint_url)
                    cache[where] = ssm.get_parameter(Name=settings.api_key_name, WithDecryption=True)[
                        "Parameter"]["Value"]
                else:
                    secrets = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
                    cache[where] = secrets.get_secret_value(SecretId=settings.api_key_name)["SecretString"]
            return cache[where]
        return read

    return for_force
