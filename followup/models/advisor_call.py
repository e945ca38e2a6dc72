"""The service advisor's own 3-day call (服务顾问3日DC回访, R11): one task per visit.

Not a survey and not a contact attempt: it never creates a survey response, never counts in the
advisor's score and never uses one of the information staff's three attempts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class AdvisorCall(Base):
    """A visit's DC-call task for its service advisor, open until the advisor records it."""

    __tablename__ = "advisor_calls"
    __table_args__ = (
        # the advisor's home page: their open tasks, due soonest first
        Index("ix_advisor_calls_open", "advisor_id", "due_at", postgresql_where=text("done_at IS NULL"),
              sqlite_where=text("done_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: one task per visit
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    #: the visit's advisor, who owes the call (follows the visit while the task is open)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    #: delivery + 72h, UTC; a call recorded by then is on time
    due_at: Mapped[datetime]
    #: when the call was recorded; None while open
    done_at: Mapped[datetime | None]
    #: whether the advisor reached the customer
    reached: Mapped[bool | None]
    #: what the advisor noted about the call
    note: Mapped[str | None] = mapped_column(Text)
    #: who recorded it: "user:<username>"
    made_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
