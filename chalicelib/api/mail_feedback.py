"""SES bounce and complaint notifications, delivered by SNS to their own Lambda function (infra/resources.json:
the configuration set's event destination publishes to the topic, the topic to this function).

Thin: the topic is checked, then services/mail_feedback.py does the work. A notification it cannot read is logged
and dropped (returning normally), so SNS does not retry it forever; a failure of storage or mail raises, and the
delivery is retried (every step is idempotent).
"""
from __future__ import annotations

import logging
import os

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.adapters.logs import configure_logging

log = logging.getLogger(__name__)

TOPIC_ARN_ENV = "IAG_SES_FEEDBACK_TOPIC_ARN"  # the only topic whose messages are read (set in infra/resources.json)
# `chalice package` writes this ARN into the template; infra/resources.json replaces it with the topic it creates
# (a plain `chalice deploy` subscribes to the topic named in IAG_SES_FEEDBACK_TOPIC_ARN when it is set).
TOPIC_ARN_PLACEHOLDER = "arn:aws:sns:eu-west-2:000000000000:iag-backoffice-ses-feedback"
TOPIC = os.environ.get(TOPIC_ARN_ENV) or TOPIC_ARN_PLACEHOLDER

mail_feedback = Blueprint(__name__)


@mail_feedback.on_sns_message(topic=TOPIC, name="ses_feedback")
def ses_feedback(event) -> dict:
    configure_logging()  # Lambda imports this module as the handler, not app.py
    outcomes = []
    expected = os.environ.get(TOPIC_ARN_ENV)
    for record in event.to_dict().get("Records") or []:
        sns = record.get("Sns") if isinstance(record, dict) else None
        if not isinstance(sns, dict):
            log.warning("mail feedback dropped: a record without its SNS message")
            outcomes.append("malformed")
        elif expected and sns.get("TopicArn") != expected:
            # IAM lets only that topic invoke this function; a message from elsewhere is refused here too.
            log.warning("mail feedback dropped: from topic %s, not the configured one", sns.get("TopicArn"))
            outcomes.append("foreign")
        else:
            outcomes.append(bootstrap.container().mail_feedback.handle(sns.get("Message")))
    return {"outcomes": outcomes}
