"""Force profiles: what one force's documents say about its IAGs, as objects.

Built from a profile file that `schemas/force.schema.json` has already
checked, so constructors trust their input's shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

from .group_kind import GroupKind as GroupKind  # in a light module of its own: domain/roles.py needs it at start
from .postcodes import in_districts


@dataclass(frozen=True)
class Contact:
    name: str
    email: Optional[str] = None
    phone: Optional[str] = None

    def address(self) -> str:
        """The email address to write to: a contact the product emails must have one in the profile."""
        if not self.email:
            raise ValueError(f"the force profile gives {self.name} no email address")
        return self.email


@dataclass(frozen=True)
class PackDocument:
    """A document of the application pack, served on the force's pages and emailed on request."""
    title: str
    file: str


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str


@dataclass(frozen=True)
class MeetingSeries:
    name: str
    interval_months: int
    minimum_per_year: int
    venue: str
    online_option: bool
    optional: bool = False
    weekday: Optional[str] = None
    time_of_day: Optional[str] = None
    start_time: Optional[str] = None
    office_hours: Optional[dict[str, Any]] = None
    duration_minutes: Optional[int] = None
    week_of_month: Optional[int] = None  # 1..4, or -1 for the last such weekday
    first_month: Optional[int] = None
    agenda_by: tuple[str, ...] = ()

    def describe(self, venue: bool = True) -> str:
        """Plain English, e.g. 'Every 2 months, on a Tuesday evening, at Force HQ, or online.'
        Without the venue when it is not known (a placeholder)."""
        often = self.how_often()
        when = ""
        if self.weekday and self.time_of_day:
            when = f", on a {self.weekday.capitalize()} {_time_words(self.time_of_day)}"
        elif self.time_of_day:
            when = f", {_time_words(self.time_of_day)}"
        online = ", with an option to join online" if self.online_option else ""
        return f"{often}{when}, at {self.venue}{online}." if venue else f"{often}{when}{online}."

    def how_often(self) -> str:
        """e.g. 'Every 2 months': what a member commits to, without the day, time or place."""
        return _how_often(self.interval_months, self.minimum_per_year)


def _how_often(interval_months: int, minimum_per_year: int) -> str:
    if interval_months == 1:
        return "Every month"
    if interval_months == 12:
        return "Once a year"
    if 12 % interval_months == 0 and interval_months >= 3:
        return f"At least {minimum_per_year} times a year"
    return f"Every {interval_months} months"


def _time_words(time_of_day: str) -> str:
    return {"office_hours": "during office hours"}.get(time_of_day, time_of_day)


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    kind: GroupKind
    area: str
    accepts_applicants: bool
    commitment: str
    meetings: tuple[MeetingSeries, ...]
    called_for_incidents: bool
    screening: str
    panel: tuple[str, ...]
    closed_reason: Optional[str] = None
    maximum_age: Optional[int] = None
    requirements: tuple[Requirement, ...] = ()
    composition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    opens: date
    closes: Optional[date]
    groups: Optional[frozenset[str]]  # None: every group

    def covers(self, group_id: str) -> bool:
        return self.groups is None or group_id in self.groups

    def is_open_on(self, day: date) -> bool:
        return self.opens <= day and (self.closes is None or day <= self.closes)


@dataclass(frozen=True)
class Openness:
    open: bool
    reason: Optional[str] = None


@dataclass(frozen=True)
class EligibilityPolicy:
    minimum_age: int
    area_connection: frozenset[str]
    independence_exclusions: tuple[str, ...]
    convictions_bar: bool


@dataclass(frozen=True)
class ReviewPolicy:
    panel: tuple[str, ...]
    outcome_rule: str
    informal_discussion: str
    reminder_after_days: int
    escalate_after_days: int
    link_valid_days: int


@dataclass(frozen=True)
class AppealPolicy:
    panel: tuple[str, ...]
    window_days: int


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    file: str
    version: str
    to_sign: bool = False


@dataclass(frozen=True)
class OnboardingPolicy:
    offer_valid_days: int
    reminder_after_days: int
    agreement_valid_days: int
    term_years: int
    dates_shown: int
    documents: tuple[Document, ...]

    @property
    def agreement(self) -> Document:
        return next(d for d in self.documents if d.to_sign)


@dataclass(frozen=True)
class MembershipPolicy:
    """After joining (profile "membership"; the seeds state none of these, so each is a placeholder)."""
    term_reminder_days: int = 60
    rescreening_lead_days: int = 90
    link_valid_days: int = 30


@dataclass(frozen=True)
class MeetingBusiness:
    """Agenda, papers and actions (profile "meeting_business"; placeholders too)."""
    agenda_deadline_days: int = 14
    papers_days_before: int = 7
    papers_link_minutes: int = 15
    action_reminder_days: int = 7


@dataclass(frozen=True)
class NotifySettings:
    """A force's GOV.UK Notify service: one generic email template and where its API key is kept."""
    template_id: str
    api_key_source: str  # "ssm_parameter" or "secrets_manager_secret"
    api_key_name: str
    reply_to_ids: dict[str, str] = field(default_factory=dict)  # reply-to address -> Notify reply-to id
    default_reply_to_id: Optional[str] = None

    def reply_to_id(self, address: Optional[str]) -> Optional[str]:
        return self.reply_to_ids.get((address or "").lower(), self.default_reply_to_id)

    def has_reply_to(self, address: Optional[str]) -> bool:
        return (address or "").lower() in self.reply_to_ids


@dataclass(frozen=True)
class MailSettings:
    transport: str = "ses"  # or "notify"
    notify: Optional[NotifySettings] = None


@dataclass(frozen=True)
class Population:
    """The area's population shares (percent) per equality question and category, with their source."""
    area: str
    source: str
    as_of: date
    shares: dict[str, dict[str, float]]
    url: Optional[str] = None


class UnknownGroup(LookupError):
    """Data names a group its force's profile does not have."""


@dataclass(frozen=True)
class ForceProfile:
    id: str
    name: str
    area_name: str
    reference_prefix: str
    postcode_districts: tuple[str, ...]
    residency_evidence_required: bool
    contacts: dict[str, Contact]
    accessible_formats: tuple[str, ...]
    application_pack_on_request: bool
    eligibility: EligibilityPolicy
    screening_valid_for_months: int
    screening_provider: str
    review: ReviewPolicy
    appeal: AppealPolicy
    unsuccessful_retention_months: int
    onboarding: OnboardingPolicy
    campaigns: tuple[Campaign, ...]
    groups: tuple[Group, ...]
    placeholders: tuple[dict[str, Any], ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    mail: MailSettings = field(default_factory=MailSettings)
    population: Optional[Population] = None  # None: the equality report has no comparison column
    membership: MembershipPolicy = field(default_factory=MembershipPolicy)
    meeting_business: MeetingBusiness = field(default_factory=MeetingBusiness)
    pack_documents: tuple[PackDocument, ...] = ()

    def pack_document(self, file: str) -> Optional[PackDocument]:
        return next((d for d in self.pack_documents if d.file == file), None)

    def group(self, group_id: str) -> Optional[Group]:
        return next((g for g in self.groups if g.id == group_id), None)

    def require_group(self, group_id: str) -> Group:
        """A group data is held for: a profile that lost it fails loudly here, not as an error on None later."""
        group = self.group(group_id)
        if group is None:
            raise UnknownGroup(f"{self.id} has no group {group_id!r}")
        return group

    def openness(self, group: Group, today: date) -> Openness:
        """Whether a group takes applications on `today`, and if not, why, in words for the applicant."""
        if not group.accepts_applicants:
            return Openness(False, group.closed_reason or f"The {group.name} is not open to applicants.")
        campaigns = [c for c in self.campaigns if c.covers(group.id)]
        if not campaigns or any(c.is_open_on(today) for c in campaigns):
            return Openness(True)
        upcoming = sorted(c.opens for c in campaigns if c.opens > today)
        if upcoming:
            return Openness(False, f"Applications to the {group.name} open on {_long_date(upcoming[0])}.")
        return Openness(False, f"The recruitment campaign for the {group.name} has closed.")

    def in_area(self, postcode: str) -> bool:
        return in_districts(postcode, self.postcode_districts)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ForceProfile":
        default_screening = data["screening"]["default"]
        review = data["review"]
        groups = tuple(
            _group(g, default_screening=default_screening, default_panel=tuple(review["panel"]))
            for g in data["groups"]
        )
        eligibility = data["eligibility"]
        return cls(
            id=data["id"],
            name=data["name"],
            area_name=data["area_name"],
            reference_prefix=data["reference_prefix"],
            postcode_districts=tuple(data["area"]["postcode_districts"]),
            residency_evidence_required=data["area"].get("residency_evidence_required", False),
            contacts={role: Contact(**c) for role, c in data["contacts"].items()},
            accessible_formats=tuple(data["application_pack"]["accessible_formats"]),
            application_pack_on_request=data["application_pack"].get("on_request", False),
            pack_documents=tuple(PackDocument(**d) for d in data["application_pack"]["documents"]),
            eligibility=EligibilityPolicy(
                minimum_age=eligibility["minimum_age"],
                area_connection=frozenset(eligibility["area_connection"]),
                independence_exclusions=tuple(eligibility["independence_exclusions"]),
                convictions_bar=eligibility["convictions_bar"],
            ),
            screening_valid_for_months=data["screening"]["valid_for_months"],
            screening_provider=data["screening"]["provider"],
            review=ReviewPolicy(**{**review, "panel": tuple(review["panel"])}),
            appeal=AppealPolicy(panel=tuple(data["appeal"]["panel"]), window_days=data["appeal"]["window_days"]),
            unsuccessful_retention_months=data["retention"]["unsuccessful_months"],
            onboarding=OnboardingPolicy(**{**data["onboarding"], "documents": tuple(
                Document(**d) for d in data["onboarding"]["documents"])}),
            campaigns=tuple(_campaign(c) for c in data["campaigns"]),
            groups=groups,
            placeholders=tuple(data["placeholders"]),
            raw=data,
            mail=_mail(data.get("mail")),
            population=_population(data["population"]) if "population" in data else None,
            membership=MembershipPolicy(**data.get("membership", {})),
            meeting_business=MeetingBusiness(**data.get("meeting_business", {})),
        )


def _group(data: dict[str, Any], *, default_screening: str, default_panel: tuple[str, ...]) -> Group:
    return Group(
        id=data["id"],
        name=data["name"],
        kind=GroupKind(data["kind"]),
        area=data["area"],
        accepts_applicants=data["accepts_applicants"],
        commitment=data["commitment"],
        meetings=tuple(
            MeetingSeries(**{**m, "agenda_by": tuple(m.get("agenda_by", ()))}) for m in data["meetings"]
        ),
        called_for_incidents=data["called_for_incidents"],
        screening=data.get("screening", default_screening),
        panel=tuple(data.get("panel", default_panel)),
        closed_reason=data.get("closed_reason"),
        maximum_age=data.get("maximum_age"),
        requirements=tuple(Requirement(**r) for r in data.get("requirements", ())),
        composition=data.get("composition", {}),
    )


def _mail(data: Optional[dict[str, Any]]) -> MailSettings:
    if not data or data["transport"] == "ses":
        return MailSettings()
    notify = data["notify"]
    [(source, name)] = notify["api_key"].items()
    return MailSettings("notify", NotifySettings(
        template_id=notify["template_id"], api_key_source=source, api_key_name=name,
        reply_to_ids={address.lower(): id_ for address, id_ in notify.get("reply_to_ids", {}).items()},
        default_reply_to_id=notify.get("default_reply_to_id")))


def _population(data: dict[str, Any]) -> Population:
    return Population(area=data["area"], source=data["source"], as_of=date.fromisoformat(data["as_of"]),
                      shares={q: dict(c) for q, c in data["shares"].items()}, url=data.get("url"))


def _campaign(data: dict[str, Any]) -> Campaign:
    groups = data["groups"]
    return Campaign(
        id=data["id"],
        name=data["name"],
        opens=date.fromisoformat(data["opens"]),
        closes=date.fromisoformat(data["closes"]) if data["closes"] else None,
        groups=None if groups == "all" else frozenset(groups),
    )


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"
