"""Email through Amazon SES (moto's SES in the local stack and tests)."""
from __future__ import annotations

from functools import cached_property
from typing import Optional

from chalicelib.services.ports import EmailMessage


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
        response = self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [message.to]},
            ReplyToAddresses=[message.reply_to] if message.reply_to else [],
            Content={"Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"},
                         "Html": {"Data": message.html, "Charset": "UTF-8"}},
            }},
        )
        return response["MessageId"]
