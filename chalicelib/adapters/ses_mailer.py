"""Email through Amazon SES (moto's SES in the local stack and tests)."""
from __future__ import annotations

from email.message import EmailMessage as MimeMessage
from functools import cached_property
from typing import Optional

from chalicelib.services.ports import EmailMessage, MailNotSent


class SesMailer:
    def __init__(self, sender: str, region: str, endpoint_url: Optional[str] = None):
        self._sender = sender
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def _client(self):
        import boto3  # on first send only: a cold start that sends nothing never pays for it

        return boto3.client("sesv2", region_name=self._region, endpoint_url=self._endpoint_url)

    def send(self, message: EmailMessage) -> str:
        from botocore.exceptions import ClientError

        try:
            return self._send(message)
        except ClientError as error:
            # As GOV.UK Notify's adapter: say whether sending again can help, so a refusal (a rejected or suppressed
            # address, an unverified sender: 4xx) is told to a person at once rather than retried unseen.
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500
            code = error.response.get("Error", {}).get("Code", "")
            raise MailNotSent(f"SES answered {status} {code}", retryable=status >= 500 or status == 429
                              or code in ("TooManyRequestsException", "Throttling"), status=status) from error

    def _send(self, message: EmailMessage) -> str:
        reply_to = [message.reply_to] if message.reply_to else []
        if message.attachments:
            # Attachments need a MIME message of our own ("Raw" content).
            return self._client.send_email(
                FromEmailAddress=self._sender, Destination={"ToAddresses": [message.to]}, ReplyToAddresses=reply_to,
                Content={"Raw": {"Data": self.mime(message).as_bytes()}})["MessageId"]
        response = self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [message.to]},
            ReplyToAddresses=reply_to,
            Content={"Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"},
                         "Html": {"Data": message.html, "Charset": "UTF-8"}},
            }},
        )
        return response["MessageId"]

    def mime(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self._sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        if message.reply_to:
            mime["Reply-To"] = message.reply_to
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            subtype, *params = [p.strip() for p in subtype.split(";")]
            mime.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename,
                                params=dict(p.split("=", 1) for p in params))
        return mime
