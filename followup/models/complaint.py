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
        # the escalate duty: open complaints past their due time
        Index(
            "ix_complaints_overdue",
            "due_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
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
    #: first customer contact due (acknowledgement SLA)
    due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    resurveys: Mapped[int] = mapped_column(default=0)


class ComplaintStep(Base):
    """One step of a complaint's history: opened, escalated, contact, resolved, reopened, closed."""

    __tablename__ = "complaint_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime]
    #: opened | escalated | acknowledged | contact | resolved | reopened | answer | closed
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int]
    by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
