"""Which transport a force's email leaves by: its profile's choice outside the local stage, SES on moto locally."""
from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.adapters.force_files import PROFILE_DIR
from chalicelib.adapters.mailer_by_force import MailerByForce
from chalicelib.adapters.notify_mailer import NotifyMailer, api_key_reader
from chalicelib.adapters.ses_mailer import SesMailer
from chalicelib.adapters.system import SystemClock
from chalicelib.domain.forces import ForceProfile
from chalicelib.services.ports import EmailMessage, MailNotSent
from chalicelib.settings import Settings

TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NOTIFY_BLOCK = {"transport": "notify", "notify": {"template_id": TEMPLATE_ID,
                                                  "api_key": {"ssm_parameter": "/iag/derbyshire/notify-api-key"}}}


class RecordingMailer:
    def __init__(self, name: str):
        self.name = name
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return f"{self.name}-{len(self.sent)}"


class Catalogue:
    def __init__(self, *profiles: ForceProfile):
        self._profiles = {p.id: p for p in profiles}

    def ids(self):
        return sorted(self._profiles)

    def get(self, force_id):
        return self._profiles.get(force_id)

    def all(self):
        return list(self._profiles.values())


def profile(force_id: str, mail: dict | None = None) -> ForceProfile:
    data = json.loads((PROFILE_DIR / f"{force_id}.json").read_text())
    if mail:
        data["mail"] = mail
    return ForceProfile.from_dict(data)


def message(force_id) -> EmailMessage:
    return EmailMessage(to="someone@example.com", subject="s", text="t", html="<p>t</p>", force_id=force_id)


@pytest.fixture
def forces():
    return Catalogue(profile("derbyshire", NOTIFY_BLOCK), profile("thames-valley"))


def router(forces, *, local: bool):
    ses, notify = RecordingMailer("ses"), RecordingMailer("notify")
    return MailerByForce(forces, ses, lambda force: notify, local=local), ses, notify


def test_outside_the_local_stage_a_notify_force_sends_through_notify(forces):
    mailer, ses, notify = router(forces, local=False)

    assert mailer.send(message("derbyshire")) == "notify-1"
    assert ses.sent == []


def test_a_force_without_a_mail_block_sends_through_ses(forces):
    mailer, ses, notify = router(forces, local=False)

    assert mailer.send(message("thames-valley")) == "ses-1"
    assert notify.sent == []


def test_in_the_local_stage_every_force_uses_ses_so_the_local_mailbox_shows_it_all(forces):
    mailer, ses, notify = router(forces, local=True)

    mailer.send(message("derbyshire"))
    mailer.send(message("thames-valley"))

    assert [m.force_id for m in ses.sent] == ["derbyshire", "thames-valley"]
    assert notify.sent == []


def test_a_notify_force_without_its_api_key_fails_at_send_rather_than_falling_back_to_ses(forces):
    with mock_aws():
        ses = RecordingMailer("ses")
        key = api_key_reader("eu-west-2")
        mailer = MailerByForce(forces, ses, lambda force: NotifyMailer(force.mail.notify, key(force.mail.notify)),
                               local=False)

        with pytest.raises(MailNotSent, match="no GOV.UK Notify API key"):
            mailer.send(message("derbyshire"))

    assert ses.sent == []


def test_the_api_key_is_read_from_ssm_by_the_name_in_the_profile_and_kept(forces):
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-2")
        ssm.put_parameter(Name="/iag/derbyshire/notify-api-key", Value="key-one", Type="SecureString")
        read = api_key_reader("eu-west-2")(forces.get("derbyshire").mail.notify)

        assert read() == "key-one"
        ssm.put_parameter(Name="/iag/derbyshire/notify-api-key", Value="key-two", Type="SecureString",
                          Overwrite=True)
        assert read() == "key-one"  # one read per process, not one per email


def test_the_api_key_can_come_from_secrets_manager():
    force = profile("derbyshire", {"transport": "notify", "notify": {
        "template_id": TEMPLATE_ID, "api_key": {"secrets_manager_secret": "iag/derbyshire/notify"}}})
    with mock_aws():
        boto3.client("secretsmanager", region_name="eu-west-2").create_secret(
            Name="iag/derbyshire/notify", SecretString="secret-key")

        assert api_key_reader("eu-west-2")(force.mail.notify)() == "secret-key"


@pytest.mark.parametrize("stage, transport", [("prod", NotifyMailer), ("local", SesMailer)])
def test_the_container_builds_the_router_for_its_stage(forces, stage, transport):
    mailer = bootstrap._mailer(replace(Settings.from_env(), stage=stage), forces)

    assert isinstance(mailer.mailer_for("derbyshire"), transport)
    assert isinstance(mailer.mailer_for("thames-valley"), SesMailer)


# Placeholder addresses: a profile's assumed contact is on a reserved example domain, never a real police one.

def coordinator_email(force) -> EmailMessage:
    return EmailMessage(to=force.contacts["iag_coordinator"].email, subject="s", text="t", html="<p>t</p>",
                        force_id=force.id)


def test_outside_the_local_stage_an_email_to_a_placeholder_address_is_refused_and_stays_pending():
    from chalicelib.adapters.mailer_by_force import PlaceholderAddress
    from chalicelib.services.outbox import About, EmailKey, Postbox
    from tests.fakes import FakeApplicationRepository, FakeOutbox

    thames_valley = profile("thames-valley")
    mailer, ses, notify = router(Catalogue(thames_valley), local=False)
    repository = FakeApplicationRepository()
    postbox = Postbox(FakeOutbox(repository), mailer, SystemClock())
    key = EmailKey(About("application", "thames-valley", "TVP-1"), "escalation")

    with pytest.raises(PlaceholderAddress, match="iag@thames-valley.police.example is a placeholder"):
        postbox.email(key, lambda: coordinator_email(thames_valley))

    assert ses.sent == [] and notify.sent == []
    assert [entry["status"] for entry in repository.outbox.values()] == ["pending"]


def test_outside_the_local_stage_an_email_replying_to_a_placeholder_address_is_refused():
    from chalicelib.adapters.mailer_by_force import PlaceholderAddress

    mailer, ses, _ = router(Catalogue(profile("thames-valley")), local=False)
    with pytest.raises(PlaceholderAddress):
        mailer.send(replace(message("thames-valley"), reply_to="iag@thames-valley.police.example"))
    assert ses.sent == []


def test_in_the_local_stage_placeholder_addresses_receive_mail_so_the_local_mailbox_shows_it():
    thames_valley = profile("thames-valley")
    mailer, ses, _ = router(Catalogue(thames_valley), local=True)

    mailer.send(coordinator_email(thames_valley))

    assert [m.to for m in ses.sent] == ["iag@thames-valley.police.example"]


def test_an_address_the_seed_gives_is_sent_to_outside_the_local_stage():
    derbyshire = profile("derbyshire")
    mailer, ses, _ = router(Catalogue(derbyshire), local=False)

    mailer.send(replace(message("derbyshire"), to=derbyshire.contacts["recruitment"].email))

    assert [m.to for m in ses.sent] == ["helen.ham@derbyshire.police.uk"]
