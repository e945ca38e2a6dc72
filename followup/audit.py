"""Append to the audit log (R10). There is deliberately no update or delete here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from followup.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    at: datetime,
    store_id: int | None = None,
    case_id: int | None = None,
    **detail: Any,
) -> None:
    """Add one audit row in the caller's transaction."""
    session.add(AuditEntry(at=at, actor=actor, action=action, store_id=store_id, case_id=case_id, detail=detail))


def record_many(
    session: Session,
    actor: str,
    entries: Sequence[tuple[str, int | None, dict[str, Any]]],
    *,
    at: datetime,
    store_id: int | None = None,
) -> None:
    """Add one audit row per ``(action, case_id, detail)``, in order, with one INSERT (an import's batch)."""
    if entries:
        session.execute(insert(AuditEntry.__table__), [  # type: ignore[arg-type]
            {"at": at, "actor": actor, "action": action, "store_id": store_id, "case_id": case_id, "detail": detail}
            for action, case_id, detail in entries
        ])
