"""The scheduler's ``escalate`` duty: every complaint left unacknowledged past its due time
moves up one level (R7), with its step, audit row and ``complaint.escalated`` event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.complaints.assignment import assignee_for
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, FollowupCase
from followup.rules.complaint_levels import MAX_LEVEL, ComplaintFacts, next_escalation
from followup.settings import Settings


def escalate_due(session: Session, settings: Settings, now: datetime, *, limit: int = 500) -> int:
    """Escalate the overdue open complaints (oldest due first); returns how many moved. Caller commits."""
    overdue = session.scalars(
        select(Complaint)
        .where(Complaint.status == "open", Complaint.due_at <= now, Complaint.level < MAX_LEVEL)
        .order_by(Complaint.due_at, Complaint.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    moved = 0
    for complaint in overdue:
        step = next_escalation(ComplaintFacts(complaint.level, complaint.status, complaint.due_at), now,
                               settings.complaints)
        if step is None:
            continue
        case = session.get_one(FollowupCase, complaint.case_id)
        previous = complaint.assignee
        complaint.level, complaint.due_at = step.level, step.due_at
        complaint.assignee = assignee_for(session, case, step.level, store_of(session, settings, case.store_id))
        record_step(
            session, complaint, "escalated", at=now, by="system",
            note=f"not acknowledged by {previous or '-'} in time",
            event="complaint.escalated", data={"from_assignee": previous, "reason": "not_acknowledged"},
        )
        moved += 1
    return moved
