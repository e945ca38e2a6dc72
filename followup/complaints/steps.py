"""Every complaint step is written three times in one transaction: its history row, the audit
log (R10) and, for the steps other programs care about, a webhook event (CONTRACT §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.cases.lifecycle import case_ref
from followup.models import Complaint, ComplaintStep, FollowupCase, Store
from followup.settings import Settings, StoreSettings
from followup.webhooks.outbox import emit


def store_of(session: Session, settings: Settings, store_id: int) -> StoreSettings:
    code = session.scalar(select(Store.code).where(Store.id == store_id)) or ""
    return settings.stores[code]


def record_step(
    session: Session,
    complaint: Complaint,
    kind: str,
    *,
    at: datetime,
    by: str,
    note: str | None = None,
    cause: str | None = None,
    fix: str | None = None,
    event: str | None = None,
    data: dict[str, Any] | None = None,
) -> ComplaintStep:
    """Add the step, its audit row (with ``data``) and, when ``event`` is given, its webhook event,
    whose data carries the complaint's level, status, assignee, due time, category and source."""
    step = ComplaintStep(
        complaint_id=complaint.id, at=at, kind=kind, level=complaint.level, by=by, note=note, cause=cause, fix=fix
    )
    session.add(step)
    audit.record(
        session, by, f"complaint.{kind}", at=at, store_id=complaint.store_id, case_id=complaint.case_id,
        **{**(data or {}), "complaint": complaint.id, "level": complaint.level, "assignee": complaint.assignee,
           "category": complaint.category},
        **{k: v for k, v in (("note", note), ("cause", cause), ("fix", fix)) if v},
    )
    if event is not None:
        case = session.get_one(FollowupCase, complaint.case_id)
        body = {
            **case_ref(session, case), "complaint_id": complaint.id, "level": complaint.level,
            "status": complaint.status, "assignee": complaint.assignee, "due_at": complaint.due_at.isoformat(),
            "category": complaint.category, "source": complaint.source,
            **(data or {}),
        }
        emit(session, event, body, at=at, case_id=complaint.case_id)
    return step
