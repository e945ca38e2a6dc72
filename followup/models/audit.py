"""The append-only audit log (R10). The application never updates or deletes a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class AuditEntry(Base):
    """Who (user, ivr, sms, system) did what, when; on PostgreSQL a trigger refuses UPDATE/DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_case", "case_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    #: "user:<username>", "ivr", "sms", "web", "api:<token>", "system"
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TestClockRow(Base):
    """The persistent test clock (CONTRACT §6): one row, moved only by `followup clock`."""

    __tablename__ = "test_clock"
    __test__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    now: Mapped[datetime]
