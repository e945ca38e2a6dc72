"""The scheduler's complaint duty (the tick's ``escalate``), R7 "逐级汇报" and "until satisfied":

* every complaint in hand past its ``due_at`` moves up one level: not acknowledged in time, or
  acknowledged and not resolved in time (step, audit row, ``complaint.escalated``);
* a complaint still unresolved ``progress_sms_after`` its first acknowledgement gets the customer's
  one progress SMS planned (:mod:`followup.complaints.progress_sms`);
* a resolved complaint's unanswered re-survey is reminded once, then offered to a manager's close
  (:func:`followup.complaints.resurvey.check_resurvey`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.complaints.assignment import assignee_for
from followup.complaints.progress_sms import plan_progress_sms
from followup.complaints.resurvey import check_resurvey
from followup.complaints.steps import record_step, store_of
from followup.models import Complaint, FollowupCase
from followup.rules.complaint_levels import IN_HAND, MAX_LEVEL, ComplaintFacts, next_escalation
from followup.settings import Settings

#: the step's note per reason, as staff read it on the complaint's page
WHY = {"not_acknowledged": "not acknowledged by {who} in time", "not_resolved": "not resolved by {who} in time"}


def escalate_due(session: Session, settings: Settings, now: datetime, *, limit: int = 500) -> int:
    """Escalate the overdue complaints in hand (oldest due first); returns how many moved. Caller commits."""
    overdue = session.scalars(
        select(Complaint)
        .where(Complaint.status.in_(IN_HAND), Complaint.due_at <= now, Complaint.level < MAX_LEVEL)
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
        complaint.status, complaint.acknowledged_at = "open", None  # the new level takes it up itself
        complaint.assignee = assignee_for(session, case, step.level, store_of(session, settings, case.store_id))
        record_step(
            session, complaint, "escalated", at=now, by="system",
            note=WHY[step.reason].format(who=previous or "-"),
            event="complaint.escalated", data={"from_assignee": previous, "reason": step.reason},
        )
        moved += 1
    return moved


def complaint_duty(session: Session, settings: Settings, now: datetime, *, limit: int = 500) -> dict[str, int]:
    """Everything due on complaints at ``now``; the counts a tick prints. Caller commits."""
    escalated = escalate_due(session, settings, now, limit=limit)
    progress = 0
    for complaint in session.scalars(
        select(Complaint).where(Complaint.progress_due_at <= now).order_by(Complaint.progress_due_at, Complaint.id)
        .limit(limit).with_for_update(skip_locked=True)
    ).all():
        progress += plan_progress_sms(session, complaint, settings, now)
    checks = {"remind": 0, "unconfirmed": 0, "wait": 0}
    for complaint in session.scalars(
        select(Complaint).where(Complaint.resurvey_check_at <= now).order_by(Complaint.resurvey_check_at, Complaint.id)
        .limit(limit).with_for_update(skip_locked=True)
    ).all():
        checks[check_resurvey(session, complaint, settings, now)] += 1
    return {"escalated": escalated, "progress_sms": progress, "resurvey_reminders": checks["remind"],
            "unconfirmed": checks["unconfirmed"]}
