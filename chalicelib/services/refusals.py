"""The refusals that routes catch from several services, in a module that imports nothing.

A route module imports these when the Lambda starts; the service that raises one (with the domain behind it) is
imported only when a request first calls it (bootstrap.py). Each is still importable from its service's module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.links import LinkProblem


class NotFound(LookupError):
    pass


class AdminConflict(Exception):
    """The request is understood but cannot be done in the application's present state."""


class InvalidRequest(ValueError):
    pass


class Unauthenticated(Exception):
    """No token, or one the operator pool did not issue (bad signature, expired, another pool or client)."""


class LinkRefused(Exception):
    """An emailed link that cannot act: unknown, expired, used or superseded (`problem` says which)."""

    def __init__(self, problem: LinkProblem):
        super().__init__(problem.value)
        self.problem = problem
