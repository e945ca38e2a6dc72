"""Complaints (投诉) that escalate level by level until the customer is satisfied (R7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class Complaint(Base):
    """A dissatisfied response's complaint; level 1 advisor, 2 service manager, 3 general manager."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_queue", "store_id", "status", "due_at"),
        Index("ix_complaints_case", "case_id"),
        # the escalate duty: complaints in hand (open or acknowledged) past their due time
        Index(
            "ix_complaints_overdue",
            "due_at",
            postgresql_where=text("status IN ('open', 'acknowledged')"),
            sqlite_where=text("status IN ('open', 'acknowledged')"),
        ),
        # the same duty: progress SMS due, re-surveys to look at again
        Index(
            "ix_complaints_progress_due",
            "progress_due_at",
            postgresql_where=text("progress_due_at IS NOT NULL"),
            sqlite_where=text("progress_due_at IS NOT NULL"),
        ),
        Index(
            "ix_complaints_resurvey_check",
            "resurvey_check_at",
            postgresql_where=text("resurvey_check_at IS NOT NULL"),
            sqlite_where=text("resurvey_check_at IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    level: Mapped[int] = mapped_column(default=1)
    #: open | acknowledged | resolved | closed
    status: Mapped[str] = mapped_column(String(15), default="open")
    #: username or advisor code of the person in charge at this level
    assignee: Mapped[str | None] = mapped_column(String(80))
    opened_at: Mapped[datetime]
    #: open: acknowledgement due (``ack_sla``); acknowledged: resolution due (``resolve_sla``)
    due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    resurveys: Mapped[int] = mapped_column(default=0)
    #: waiting_time | price | attitude | repair_quality | environment | other (R7)
    category: Mapped[str] = mapped_column(String(20), default="other", server_default="other")
    #: how it was opened: survey (a dissatisfied response) | words (a comment or late reply) | staff
    source: Mapped[str] = mapped_column(String(10), default="survey", server_default="survey")
    #: how it ended: satisfied | dissatisfied_closed | resolved_unconfirmed
    outcome: Mapped[str | None] = mapped_column(String(25))
    #: the customer's progress SMS falls due (set at the first acknowledgement)
    progress_due_at: Mapped[datetime | None]
    #: when the progress SMS was planned, or found impossible: it is looked at once
    progress_sms_at: Mapped[datetime | None]
    #: when the duty looks at a resolved complaint's re-survey again (reminder, timeout)
    resurvey_check_at: Mapped[datetime | None]
    #: when this resolution's re-survey reminder was planned (once per resolution)
    resurvey_reminded_at: Mapped[datetime | None]
    #: the re-survey went unanswered past ``resurvey_timeout``: a manager may close it ``resolved_unconfirmed``
    unconfirmed_at: Mapped[datetime | None]


class ComplaintStep(Base):
    """One step of a complaint's history: opened, escalated, contact, resolved, reopened, closed."""

    __tablename__ = "complaint_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime]
    #: opened | escalated | acknowledged | contact | resolved | reopened | answer | category |
    #: progress_sms | resurvey_reminder | unconfirmed | closed
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int]
    by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
