"""Jinja2 templates for pages and emails. Autoescaping is on for every .html template:
whatever a person typed is shown as text, never as markup."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

from chalicelib.domain.wording import looks_like_a_name

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Imported on first render, not at cold start: JSON routes that send no email never pay for jinja2.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,  # a missing value is a bug, not an empty string on a public page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # A name typed into a public form is repeated in an email only when it looks like a name (domain/wording.py).
    env.tests["a_name"] = looks_like_a_name
    env.filters["greeting"] = lambda name: f"Dear {name}," if looks_like_a_name(name) else "Hello,"
    env.filters["shown_name"] = lambda name: name if looks_like_a_name(name) else "(a name we do not repeat by email)"
    return env


def render(template: str, /, **context) -> str:
    return environment().get_template(template).render(**context)
