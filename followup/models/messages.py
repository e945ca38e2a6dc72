"""Every SMS in and out, kept whole: late replies and unknown senders are shown to staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class SmsMessage(Base):
    """One SMS; inbound ones are never dropped, even from an unknown number."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_case", "case_id"), Index("ix_sms_from", "from_number", "received_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    #: in | out
    direction: Mapped[str] = mapped_column(String(3))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"))
    from_number: Mapped[str] = mapped_column(String(40))
    to_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str | None] = mapped_column(String(20))
    #: what the service made of it: answer, optout, optin, help, unreadable, late, unknown_sender
    handling: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime]
