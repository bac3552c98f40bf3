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


def role_title(role: str) -> str:
    """A role as people read it: iag_chair -> IAG Chair; one no seed names -> its id in words."""
    if role in ROLE_TITLES:
        return ROLE_TITLES[role]
    words = " ".join("IAG" if word == "iag" else word for word in role.split("_"))
    return words[:1].upper() + words[1:]


def role_words(role: str) -> str:
    """A role in a sentence: "reviewed by the IAG Chair"."""
    return "the " + role_title(role)
