"""The composition root: builds each service from settings the first time a request needs it, once per
process (a warm Lambda or a flow process reuses it), and wires them here and nowhere else.

Nothing here runs at import, so a cold start pays only for what a request uses, and tests replace any of the
container's fields with `override(...)` (a new container: everything else is built again from them).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Optional, Protocol

# What container() builds for every request is imported here, so at the Lambda's cold start (`import app`):
# the DynamoDB layer (pynamodb, botocore), the force profiles, the clock and the workflow gateway.
from chalicelib.adapters import dynamodb
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from chalicelib.adapters.force_contacts import ContactsFromHolders
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.prefect_gateway import PrefectGateway
from chalicelib.adapters.schema_validation import validate
from chalicelib.adapters.system import SystemClock, random_bytes
from chalicelib.adapters.templates import render
from chalicelib.settings import Settings

# Each service, and each store only some services use, is imported where it is first built: a request loads only
# the services it calls, and the cold start none of them (tests/test_package.py checks it).
if TYPE_CHECKING:
    from chalicelib.adapters.dynamodb.access import DynamoAccessLog
    from chalicelib.adapters.dynamodb.callouts import DynamoCalloutStore
    from chalicelib.adapters.dynamodb.drafts import DynamoDraftStore
    from chalicelib.adapters.dynamodb.elections import DynamoElectionStore
    from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore
    from chalicelib.adapters.dynamodb.meeting_business import DynamoMeetingRecords
    from chalicelib.adapters.dynamodb.meetings import DynamoMeetingStore
    from chalicelib.adapters.dynamodb.membership import DynamoMemberStore
    from chalicelib.adapters.dynamodb.reports import DynamoReportStore
    from chalicelib.adapters.dynamodb.strategic import DynamoStrategicStore
    from chalicelib.adapters.s3_documents import S3Documents
    from chalicelib.domain.forces import ForceProfile, NotifySettings
    from chalicelib.services.admin import AdminService
    from chalicelib.services.alerts import AlertService, AlertStore
    from chalicelib.services.business_admin import BusinessAdmin
    from chalicelib.services.callouts import CalloutService
    from chalicelib.services.console import ConsoleService
    from chalicelib.services.data_protection import DataProtectionService, Evidence
    from chalicelib.services.drafts import DraftService
    from chalicelib.services.elections import ElectionService
    from chalicelib.services.events import MessageBus
    from chalicelib.services.intake import IntakeService
    from chalicelib.services.joining import Documents, JoiningService
    from chalicelib.services.mail_feedback import MailFeedbackService
    from chalicelib.services.meeting_business import MeetingBusinessService, PaperFiles
    from chalicelib.services.meetings import MeetingService
    from chalicelib.services.member_import import MemberImportService
    from chalicelib.services.membership import MembershipService
    from chalicelib.services.notifications import ApplicantNotifier
    from chalicelib.services.operators import OperatorTokens
    from chalicelib.services.outbox import Outbox, Postbox
    from chalicelib.services.pack_requests import PackRequestService
    from chalicelib.services.ports import ApplicationRepository, Clock, ForceCatalogue, Mailer, Workflow
    from chalicelib.services.reports import ReportService
    from chalicelib.services.review import ReviewService
    from chalicelib.services.roles import RoleService
    from chalicelib.services.screening import ScreeningProvider
    from chalicelib.services.strategic import StrategicService
    from chalicelib.services.subject_access import SubjectAccessService

    class PrivateBucket(Documents, PaperFiles, Evidence, Protocol):
        """The private bucket as joining, meeting papers and data protection each use it (S3Documents)."""


@dataclass(frozen=True)
class Container:
    settings: Settings
    forces: ForceCatalogue
    repository: ApplicationRepository
    clock: Clock
    mailer: Mailer
    workflow: Workflow
    review_store: DynamoReviewStore

    def warm(self) -> None:
        """Build now what every flow run would build again: the force profiles (loaded and checked) and the AWS
        clients (botocore parses a large JSON model for each), and the modules of every service and store, which
        a request imports on first use. flows/warm_start.py calls it in the process runs fork from."""
        import importlib
        import pkgutil

        import boto3

        from chalicelib import services

        for package in (services, dynamodb):
            for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
                importlib.import_module(module.name)
        self.forces.all()
        dynamodb.warm_connections()
        for service in ("sesv2", "s3", "cognito-idp"):
            boto3.client(service, region_name=self.settings.region, endpoint_url=self.settings.aws_endpoint)

    @cached_property
    def postbox(self) -> Postbox:
        from chalicelib.services.outbox import Postbox

        return Postbox(self.outbox, self.mailer, self.clock, bus=self.bus)

    @cached_property
    def notifier(self) -> ApplicantNotifier:
        from chalicelib.services.notifications import ApplicantNotifier

        return ApplicantNotifier(self.postbox, render, self.settings.public_base_url)

    documents: Optional[PrivateBucket] = None  # S3Documents; built when first needed
    screening: Optional[ScreeningProvider] = None  # None: as the settings say
    operator_tokens: Optional[OperatorTokens] = None  # CognitoTokens; built when an admin route first needs it

    # The DynamoDB stores, each built (and its module imported) when a service first needs it.
    @cached_property
    def joining_store(self) -> DynamoJoiningStore:
        from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore

        return DynamoJoiningStore()

    @cached_property
    def callout_store(self) -> DynamoCalloutStore:
        from chalicelib.adapters.dynamodb.callouts import DynamoCalloutStore

        return DynamoCalloutStore()

    @cached_property
    def strategic_store(self) -> DynamoStrategicStore:
        from chalicelib.adapters.dynamodb.strategic import DynamoStrategicStore

        return DynamoStrategicStore()

    @cached_property
    def election_store(self) -> DynamoElectionStore:
        from chalicelib.adapters.dynamodb.elections import DynamoElectionStore

        return DynamoElectionStore()

    @cached_property
    def meeting_store(self) -> DynamoMeetingStore:
        from chalicelib.adapters.dynamodb.meetings import DynamoMeetingStore

        return DynamoMeetingStore()

    @cached_property
    def member_store(self) -> DynamoMemberStore:
        from chalicelib.adapters.dynamodb.membership import DynamoMemberStore

        return DynamoMemberStore()

    @cached_property
    def meeting_records(self) -> DynamoMeetingRecords:
        from chalicelib.adapters.dynamodb.meeting_business import DynamoMeetingRecords

        return DynamoMeetingRecords()

    @cached_property
    def access_log(self) -> DynamoAccessLog:
        from chalicelib.adapters.dynamodb.access import DynamoAccessLog

        return DynamoAccessLog()

    @cached_property
    def report_store(self) -> DynamoReportStore:
        from chalicelib.adapters.dynamodb.reports import DynamoReportStore

        return DynamoReportStore()

    @cached_property
    def draft_store(self) -> DynamoDraftStore:
        from chalicelib.adapters.dynamodb.drafts import DynamoDraftStore

        return DynamoDraftStore()

    @cached_property
    def outbox(self) -> Outbox:
        from chalicelib.adapters.dynamodb.outbox import DynamoOutbox

        return DynamoOutbox()

    @cached_property
    def alert_store(self) -> AlertStore:
        from chalicelib.adapters.dynamodb.alerts import DynamoAlertStore

        return DynamoAlertStore()

    @cached_property
    def _files(self) -> PrivateBucket:
        return self.documents or _documents(self.settings)

    def operators(self) -> OperatorTokens:
        """The operator pool's token checks: every container that container() builds has them."""
        from chalicelib.services.operators import Unauthenticated

        if self.operator_tokens is None:
            raise Unauthenticated("no operator pool is configured")
        return self.operator_tokens

    @cached_property
    def drafts(self) -> DraftService:
        from chalicelib.services.drafts import DraftService

        return DraftService(self.draft_store, self.postbox, render, self.clock, random_bytes,
                            self.settings.public_base_url, self.settings.form_secret)

    @cached_property
    def reports(self) -> ReportService:
        from chalicelib.adapters.equality_questions import equality_questions
        from chalicelib.services.reports import ReportService

        return ReportService(self.forces, self.report_store, self.clock, equality_questions())

    @cached_property
    def bus(self) -> MessageBus:
        """Who handles what a service announces: after the panel's decision, joining takes over."""
        from chalicelib.services.events import EmailDue, EmailFailing, MessageBus, OfficeFilled, PanelDecided, TroubleSeen

        bus = MessageBus()
        bus.subscribe(PanelDecided, lambda event: self.joining.panel_decided(event))
        bus.subscribe(EmailDue, lambda event: self.joining.email_due(event))
        bus.subscribe(OfficeFilled, lambda event: self.roles.office_filled(
            event.force_id, event.group_id, event.office, event.name, event.email) and None)
        # Trouble reaches the platform operator and the coordinator (services/alerts.py).
        bus.subscribe(EmailFailing, lambda event: self.alerts.email_failing(event) and None)
        bus.subscribe(TroubleSeen, lambda event: self.alerts.seen(event) and None)
        return bus

    @cached_property
    def alerts(self) -> AlertService:
        from chalicelib.services.alerts import AlertService

        return AlertService(self.forces, self.postbox, render, self.alert_store, self.review_store, self.clock,
                            runs_url=self.settings.prefect_api_url.rstrip("/").removesuffix("/api"))

    @cached_property
    def mail_feedback(self) -> MailFeedbackService:
        """Bounces and complaints SES tells later (api/mail_feedback.py)."""
        from chalicelib.adapters.dynamodb.mail_feedback import DynamoMailFeedback
        from chalicelib.services.mail_feedback import MailFeedbackService

        return MailFeedbackService(DynamoMailFeedback(), self.alerts)

    @cached_property
    def review(self) -> ReviewService:
        from chalicelib.services.notifications import ReviewMail
        from chalicelib.services.review import ReviewService, withdraw_link

        base_url = self.settings.public_base_url
        def issue_withdraw_link(application):
            # Stored when the email that carries it is built (the flow's first pass, or reconciliation): the request
            # that took the application wrote nothing but the application's own transaction.
            link, url = withdraw_link(application, random_bytes, base_url)
            self.review_store.add_links([link])
            return link, url

        mail = ReviewMail(self.postbox, render, self.repository, self.forces, base_url, issue_withdraw_link,
                          bus=self.bus)
        return ReviewService(self.forces, self.repository, self.review_store, mail, self.workflow, self.clock,
                             random_bytes, base_url, bus=self.bus, actions=self.joining_store)

    @cached_property
    def callouts(self) -> CalloutService:
        from chalicelib.services.callouts import CalloutParts, CalloutService

        return CalloutService(CalloutParts(
            forces=self.forces, members=self.joining_store, store=self.callout_store, links=self.review_store,
            postbox=self.postbox, render=render, clock=self.clock, random_bytes=random_bytes,
            base_url=self.settings.public_base_url, workflow=self.workflow, member_links=self.membership.links_for))

    @cached_property
    def meetings(self) -> MeetingService:
        from chalicelib.services.meetings import MeetingParts, MeetingService

        return MeetingService(MeetingParts(
            forces=self.forces, store=self.meeting_store, members=self.joining_store, postbox=self.postbox,
            render=render, clock=self.clock, holidays=_bank_holidays, calendar_file=_calendar_file,
            random_bytes=random_bytes, member_links=self.membership.member_links,
            answer_link=self.meeting_business.answer_link))

    @cached_property
    def meeting_business(self) -> MeetingBusinessService:
        from chalicelib.services.meeting_business import BusinessParts, MeetingBusinessService

        return MeetingBusinessService(BusinessParts(
            forces=self.forces, meetings=self.meeting_store, members=self.joining_store, records=self.meeting_records,
            files=self._files, panel=self.review_store, links=self.review_store, postbox=self.postbox,
            render=render, clock=self.clock, random_bytes=random_bytes, base_url=self.settings.public_base_url,
            member_links=self.membership.member_links))

    @cached_property
    def membership(self) -> MembershipService:
        from chalicelib.services.membership import MembershipParts, MembershipService

        return MembershipService(MembershipParts(
            forces=self.forces, store=self.member_store, links=self.review_store, postbox=self.postbox, render=render,
            clock=self.clock, random_bytes=random_bytes, base_url=self.settings.public_base_url,
            data_requests=self.data_protection))

    @cached_property
    def elections(self) -> ElectionService:
        from chalicelib.services.elections import ElectionService

        return ElectionService(self.forces, self.election_store, self.joining_store, self.postbox, render, self.clock,
                               random_bytes, self.settings.public_base_url, self.settings.form_secret, bus=self.bus,
                               member_links=self.membership.links_for)

    @cached_property
    def strategic(self) -> StrategicService:
        from chalicelib.services.strategic import StrategicParts, StrategicService

        return StrategicService(StrategicParts(
            forces=self.forces, members=self.joining_store, people=self.review_store, store=self.strategic_store,
            postbox=self.postbox, render=render, clock=self.clock, random_bytes=random_bytes,
            base_url=self.settings.public_base_url, workflow=self.workflow, holidays=_bank_holidays,
            calendar_file=_calendar_file, member_links=self.membership.links_for))

    @cached_property
    def joining(self) -> JoiningService:
        from chalicelib.services.joining import JoiningService, Parts
        from chalicelib.services.joining_mail import JoiningMail

        base_url = self.settings.public_base_url
        return JoiningService(Parts(
            forces=self.forces, repository=self.repository, store=self.joining_store, links=self.review_store,
            postbox=self.postbox, mail=JoiningMail(render, lambda application: (
                f"{base_url}/forces/{application.force_id}/applications/{application.reference}/confirmation"),
                member_links=self.membership.links_for),
            documents=self.documents or _documents(self.settings), screening=self.screening or _screening(self),
            clock=self.clock, random_bytes=random_bytes, base_url=base_url,
            review=self.review,
            calendar_file=_calendar_file, holidays=_bank_holidays))

    @cached_property
    def data_protection(self) -> DataProtectionService:
        from chalicelib.adapters.dynamodb.data_protection import DynamoDataProtection
        from chalicelib.services.data_protection import DataProtectionService

        return DataProtectionService(self.forces, DynamoDataProtection(), self.clock, render,
                                     evidence=self._files)

    @cached_property
    def subject_access(self) -> SubjectAccessService:
        from chalicelib.adapters.dynamodb.subject_access import DynamoSubjectAccessStore
        from chalicelib.services.subject_access import SubjectAccessService

        return SubjectAccessService(self.forces, DynamoSubjectAccessStore(), self.data_protection, self.postbox,
                                    render, self.clock, random_bytes, self.settings.public_base_url)

    @cached_property
    def intake(self) -> IntakeService:
        from chalicelib.services.intake import IntakeService

        return IntakeService(self.forces, self.repository, validate, self.clock, random_bytes, self.review)

    @cached_property
    def admin(self) -> AdminService:
        from chalicelib.services.admin import AdminParts, AdminService

        return AdminService(AdminParts(
            forces=self.forces, repository=self.repository, workflow=self.workflow, access_log=self.access_log,
            clock=self.clock, review=lambda: self.review, joining=lambda: self.joining, reviewers=self.review_store,
            reports=lambda: self.reports, data_protection=lambda: self.data_protection, roles=lambda: self.roles,
            subject_access=lambda: self.subject_access))

    @cached_property
    def business_admin(self) -> BusinessAdmin:
        from chalicelib.services.business_admin import BusinessAdmin, BusinessAdminParts

        return BusinessAdmin(BusinessAdminParts(
            forces=self.forces, callouts=self.callouts, meetings=self.meetings, elections=self.elections,
            strategic=self.strategic, access_log=self.access_log, clock=self.clock))

    @cached_property
    def roles(self) -> RoleService:
        from chalicelib.services.roles import RoleParts, RoleService

        return RoleService(RoleParts(
            forces=self.forces, holders=self.review_store, access_log=self.access_log, clock=self.clock,
            review=lambda: self.review, joining=lambda: self.joining,
            contacts_changed=getattr(self.forces, "forget", lambda force_id: None), strategic=lambda: self.strategic))

    @cached_property
    def member_import(self) -> MemberImportService:
        from chalicelib.adapters.dynamodb.members import DynamoMemberImport
        from chalicelib.services.events import OfficeFilled
        from chalicelib.services.member_import import MemberImportParts, MemberImportService

        documents = self.documents or _documents(self.settings)
        return MemberImportService(MemberImportParts(
            forces=self.forces, store=DynamoMemberImport(), validate=validate, clock=self.clock, postbox=self.postbox,
            render=render, holidays=_bank_holidays, links=self.review_store, random_bytes=random_bytes,
            base_url=self.settings.public_base_url, fingerprint=documents.fingerprint,
            office_filled=lambda *filled: self.bus.ask(OfficeFilled(*filled)), member_links=self.membership.member_links))

    @cached_property
    def console(self) -> ConsoleService:
        from chalicelib.services.console import ConsoleParts, ConsoleService

        return ConsoleService(ConsoleParts(
            forces=self.forces, repository=self.repository, workflow=self.workflow,
            decisions=(self.review_store, self.joining_store), roles=self.roles.list, meetings=self.meetings,
            incidents=self.callout_store, elections=self.election_store, cycles=self.strategic_store,
            actions=self.meeting_records, members=self.joining_store, access_log=self.access_log, clock=self.clock))

    @cached_property
    def pack_requests(self) -> PackRequestService:
        from chalicelib.adapters.pack_files import ShippedPackFiles
        from chalicelib.services.pack_requests import PackRequestService

        return PackRequestService(self.forces, self.repository, validate, self.clock, self.notifier, ShippedPackFiles())


def _operator_tokens(settings: Settings):
    from chalicelib.adapters.cognito_standing import CognitoStanding
    from chalicelib.adapters.cognito_tokens import CognitoTokens, fetch_keys
    from chalicelib.services.operators import Unauthenticated

    if not settings.operator_pool_id or not settings.operator_client_id:
        raise Unauthenticated("no operator pool is configured (IAG_COGNITO_POOL_ID, IAG_COGNITO_CLIENT_ID)")
    return CognitoTokens(settings.operator_issuer, settings.operator_client_id,
                         fetch_keys(settings.operator_jwks_url, moto_endpoint=settings.aws_endpoint),
                         standing=CognitoStanding(settings.operator_pool_id, settings.region, settings.aws_endpoint))


def _notify(force: ForceProfile) -> NotifySettings:
    if force.mail.notify is None:  # MailerByForce asks only for forces whose profile chooses Notify
        raise ValueError(f"{force.id} does not send through GOV.UK Notify")
    return force.mail.notify


def _mailer(settings: Settings, forces: ForceCatalogue) -> Mailer:
    """SES for every force, except those whose profile chooses GOV.UK Notify (outside the local stage)."""
    from chalicelib.adapters.mailer_by_force import MailerByForce
    from chalicelib.adapters.notify_mailer import NotifyMailer, api_key_reader
    from chalicelib.adapters.ses_mailer import SesMailer

    api_key = api_key_reader(settings.region, settings.aws_endpoint)
    return MailerByForce(forces, SesMailer(settings.mail_from, settings.region, settings.aws_endpoint),
                         lambda force: NotifyMailer(_notify(force), api_key(_notify(force))),
                         local=settings.is_local)


def _calendar_file(meetings, **options) -> bytes:
    from chalicelib.adapters.calendar_ics import calendar_file  # icalendar only when a calendar is sent

    return calendar_file(meetings, **options)


def _bank_holidays(years) -> frozenset:
    from chalicelib.adapters.bank_holidays import bank_holidays

    return bank_holidays(years)


def _documents(settings: Settings) -> S3Documents:
    from chalicelib.adapters.s3_documents import S3Documents

    return S3Documents(settings.documents_bucket, settings.region, settings.aws_endpoint)


def _screening(container: Container) -> ScreeningProvider:
    from chalicelib.services.screening import SimulatedScreening, VettingUnitByEmail

    if container.settings.screening_provider == "simulated":
        return SimulatedScreening()
    return VettingUnitByEmail(container.mailer, render)


class _LazyTokens:
    """Settings are checked, and keys fetched, only when an admin route is first called."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._tokens = None

    def operator(self, token: str):
        return self._built().operator(token)

    def claims(self, token: str) -> dict:
        return self._built().claims(token)

    def sign_out(self, token: str) -> None:
        self._built().sign_out(token)

    def _built(self):
        if self._tokens is None:
            self._tokens = _operator_tokens(self._settings)
        return self._tokens


_container: Optional[Container] = None


def container() -> Container:
    global _container
    if _container is None:
        settings = Settings.from_env()
        dynamodb.configure(settings)
        forces = ContactsFromHolders(FileForceCatalogue(), DynamoReviewStore(), ttl=settings.contacts_ttl_seconds)
        _container = Container(
            settings=settings, forces=forces, repository=dynamodb.DynamoApplicationRepository(),
            clock=SystemClock(), mailer=_mailer(settings, forces),
            workflow=_workflow(settings),
            review_store=DynamoReviewStore(), documents=_documents(settings))
        _container = replace(_container, operator_tokens=_LazyTokens(settings))
    return _container


def _workflow(settings: Settings) -> PrefectGateway:
    secret = settings.prefect_api_key
    if settings.prefect_auth == "auth-string":
        return PrefectGateway(settings.prefect_api_url, auth_string=secret, ui_url=settings.prefect_ui_url)
    return PrefectGateway(settings.prefect_api_url, secret, ui_url=settings.prefect_ui_url)


def override(**parts) -> Container:
    """Swap parts (clock, forces, repository, settings...) of the running container, e.g. in tests."""
    global _container
    _container = replace(container(), **parts)
    return _container


def reset() -> None:
    global _container
    _container = None
