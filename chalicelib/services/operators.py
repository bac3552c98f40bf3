"""The operator ports: who is asking (verified by the operator pool) and the record of what they read.

The rules of who may do what are data in `domain/operators.py`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Protocol

from chalicelib.domain.operators import Operator, OperatorRefused, Permission, Role, operator_from_claims
from chalicelib.services.ports import Unauthenticated as Unauthenticated  # a port type, re-exported

__all__ = ["AccessLog", "Operator", "OperatorRefused", "OperatorTokens", "Permission", "Role", "Unauthenticated",
           "operator_from_claims"]


class OperatorTokens(Protocol):
    def operator(self, token: str) -> Operator:
        """The operator a pool-issued ID token names; Unauthenticated or OperatorRefused otherwise."""


class AccessLog(Protocol):
    """Every operator read of personal data, kept after erasure: it names the operator and the reference only."""

    def record(self, operator: Operator, force_id: str, action: str, at: datetime, *,
               reference: Optional[str] = None, group_id: Optional[str] = None) -> None: ...

    def reads_of(self, force_id: str, reference: str) -> list[dict[str, Any]]: ...

    def month(self, force_id: str, month: datetime) -> list[dict[str, Any]]: ...
