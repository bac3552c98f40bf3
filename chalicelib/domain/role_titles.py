"""What each role is called where people read it: in the console, on link pages and in emails.

Kept apart from roles.py, which makes dataclasses, so that the console's first page loads no more than it needs
(tests/test_package.py counts the dataclasses made by `import app`)."""
from __future__ import annotations

# In the seeds' own words. A role that a new profile names and this table does not reads as its id in words
# ("area_commander": "Area commander"); tests/domain/test_role_titles.py asks that every role the profiles name is here.
ROLE_TITLES = {
    "iag_chair": "IAG Chair", "iag_vice_chair": "IAG Vice Chair", "police_coordinator": "IAG Police Coordinator",
    "strategic_iag_chair": "Strategic IAG Chair", "strategic_iag_vice_chair": "Strategic IAG Vice Chair",
    "local_inspector": "Local Neighbourhood Policing Inspector", "chief_superintendent": "Chief Superintendent",
    "opfcc_representative": "OPFCC representative", "assistant_chief_constable": "Assistant Chief Constable",
    "superintendent": "Superintendent", "iag_chair_of_another_group": "Chair of another IAG",
    "district_commander": "District Commander", "lpa_commander": "LPA Commander",
    "iag_coordinator": "IAG Coordinator", "vetting_unit": "Vetting Unit", "media": "Media contact",
    "recruitment": "Recruitment contact", "accessible_formats": "Accessible formats contact",
    "platform_operator": "Platform operator",
}

# Offices that belong to no group, as the console names their scope (roles.APPEAL and roles.FORCE).
SCOPE_TITLES = {"appeal": "appeals panel", "force": "force-wide"}


def role_title(role: str) -> str:
    """A role as people read it: iag_chair -> IAG Chair; one no seed names -> its id in words."""
    if role in ROLE_TITLES:
        return ROLE_TITLES[role]
    words = " ".join("IAG" if word == "iag" else word for word in role.split("_"))
    return words[:1].upper() + words[1:]


def role_words(role: str) -> str:
    """A role in a sentence: "reviewed by the IAG Chair"."""
    return "the " + role_title(role)


# Who moved an application, as the console's timeline says it (its events record these ids).
ACTOR_WORDS = {"applicant": "the applicant", "system": "the service", "panel": "the review panel",
               "appeal_panel": "the appeals panel", "screening_provider": "the screening provider"}
# The console's operator roles (domain/operators.py's Role).
OPERATOR_TITLES = {"platform": "platform operator", "force_admin": "force administrator", "coordinator": "coordinator",
                   "auditor": "auditor"}


def operator_title(role: str) -> str:
    return OPERATOR_TITLES.get(role, role.replace("_", " "))


def actor_words(actor: str) -> str:
    """"panel" -> "the review panel"; "coordinator 71b9..." -> "a coordinator (71b9...)"; a role -> "the IAG Chair"."""
    if actor in ACTOR_WORDS:
        return ACTOR_WORDS[actor]
    if actor.startswith("import by "):
        return "an import by " + actor_words(actor.removeprefix("import by "))
    kind, _, subject = actor.partition(" ")  # an operator is recorded as role and pool subject, as the access log is
    if kind in OPERATOR_TITLES and subject:
        title = OPERATOR_TITLES[kind]
        return f"{'an' if title[0] in 'aeiou' else 'a'} {title} ({subject})"
    return role_words(actor)
