"""Who an operator is and what they may do: the port the admin entry points ask before acting.

Today the CLI runs as a local operator with the platform role (whoever can reach the local stack, or AWS with
the deployment's credentials). The operations issue puts Cognito behind this port: force administrators
(one force), IAG coordinators (groups of one force), auditors (read-only) and the platform role.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

READ, CHANGE = "read", "change"


class OperatorRefused(PermissionError):
    pass


@dataclass(frozen=True)
class Operator:
    id: str
    force_id: Optional[str]  # None: the platform role, every force
    can_change: bool = True

    def authorise(self, force_id: str, what: str) -> None:
        if self.force_id is not None and self.force_id != force_id:
            raise OperatorRefused(f"{self.id} may not act for {force_id}")
        if what == CHANGE and not self.can_change:
            raise OperatorRefused(f"{self.id} may only read")
