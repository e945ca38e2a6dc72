"""What the Twilio integration keeps: callbacks seen (once each), IVR call progress, pacing slots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base


class TwilioCallback(Base):
    """One (SID, status) Twilio reported; the unique key makes a repeated callback a no-op.

    A callback whose SID no attempt carries yet (it beat the worker's commit, or the worker died
    in between) is kept ``pending`` with its parameters and applied once the SID is known.
    """

    __tablename__ = "twilio_callbacks"
    __table_args__ = (UniqueConstraint("sid", "status"), Index("ix_twilio_callbacks_pending", "pending"),
                      Index("ix_twilio_callbacks_received", "received_at"))  # /metrics: callbacks per 5 minutes
    id: Mapped[int] = mapped_column(primary_key=True)
    #: CallSid or MessageSid
    sid: Mapped[str] = mapped_column(String(64))
    #: CallStatus / MessageStatus as Twilio wrote it
    status: Mapped[str] = mapped_column(String(30))
    #: call | sms
    kind: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime]
    #: the ``attempt`` of the callback URL (set for kept callbacks)
    attempt_id: Mapped[int | None]
    #: the callback's form parameters as JSON (kept callbacks only)
    params: Mapped[str | None] = mapped_column(Text)
    #: kept, not applied yet: no attempt had this SID when it arrived
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IvrCall(Base):
    """Where one automated call is in the IVR survey, so each keypress is kept as it arrives."""

    __tablename__ = "ivr_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("contact_attempts.id"))
    #: the IVR survey response holding the answers given so far
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    #: intro | <question id> | slot | done
    step: Mapped[str] = mapped_column(String(40), default="intro")
    #: re-prompts used on the current step (one is allowed, R5)
    reprompts: Mapped[int] = mapped_column(default=0)
    #: what the customer chose: declined | callback_requested | None (took the survey or hung up)
    choice: Mapped[str | None] = mapped_column(String(20))
    #: 1 this evening, 2 tomorrow morning, 3 tomorrow afternoon
    callback_slot: Mapped[int | None]
    updated_at: Mapped[datetime]


class PacingSlot(Base):
    """The next wall-clock instant (epoch seconds) one more call or SMS may go, per account/sender."""

    __tablename__ = "pacing_slots"
    #: "call:<AccountSid>" or "sms:<sender number>"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_free_at: Mapped[float] = mapped_column(Float)
