"""The follow-up case of a visit and its contact attempts (planned and made)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base

CASE_STATES = ("scheduled", "calling", "sms_survey", "letter_queued", "letter_sent", "complaint", "closed")
CASE_OUTCOMES = ("satisfied", "declined", "unreachable", "opted_out", "dissatisfied_closed", "cancelled")
THREE_DAY = ("pending", "met", "breached")


class FollowupCase(Base):
    """One per visit (R1). ``state`` and ``outcome`` use the names of CONTRACT §4."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_store_deadline", "store_id", "deadline_at"),
        Index("ix_cases_store_state", "store_id", "state"),
        Index("ix_cases_advisor", "advisor_id"),
        Index("ix_cases_rule_deadline", "three_day_rule", "deadline_at"),
        Index("ix_cases_next_check", "next_check_at"),
        # the monitor's "flagged" number: a few rows among a million
        Index("ix_cases_flagged", "store_id", postgresql_where=text("flagged IS true"),
              sqlite_where=text("flagged IS 1")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    #: the visit's advisor, copied for the reports
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    state: Mapped[str] = mapped_column(String(20), default="scheduled")
    outcome: Mapped[str | None] = mapped_column(String(30))
    #: D + 72h
    deadline_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: R8: pending | met | breached
    three_day_rule: Mapped[str] = mapped_column(String(10), default="pending")
    breach_reason: Mapped[str | None] = mapped_column(String(30))
    #: when the rule became met or breached
    rule_decided_at: Mapped[datetime | None]
    #: something a person must look at (no usable address, provider errors for an hour, ...)
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(200))
    #: when the engine must look at this case again (plan the next contact, close it);
    #: NULL while it waits for the customer or a person
    next_check_at: Mapped[datetime | None]
    #: 6-character code printed on the letter and used by the web survey (/s/<code>)
    reply_code: Mapped[str] = mapped_column(String(12), unique=True)


class ContactAttempt(Base):
    """A contact planned or made: a call, an SMS or a letter.

    Planned rows carry ``due_at`` and status ``planned``; the engine claims them, writes
    ``dispatching`` before calling the provider, then ``done`` with an outcome.
    """

    __tablename__ = "contact_attempts"
    __table_args__ = (
        Index(
            "ix_attempts_due",
            "due_at",
            postgresql_where=text("status = 'planned'"),
            sqlite_where=text("status = 'planned'"),
        ),
        Index("ix_attempts_case", "case_id", "id"),
        # the monitor's calls made / failed today
        Index("ix_attempts_call_ended", "ended_at", postgresql_where=text("channel = 'call'"),
              sqlite_where=text("channel = 'call'")),
        # /metrics: SMS finished in the last 5 minutes and hour
        Index("ix_attempts_sms_ended", "ended_at", postgresql_where=text("channel = 'sms'"),
              sqlite_where=text("channel = 'sms'")),
        Index(
            "ix_attempts_dispatching",
            "lease_until",
            postgresql_where=text("status = 'dispatching'"),
            sqlite_where=text("status = 'dispatching'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    #: call | sms | letter
    channel: Mapped[str] = mapped_column(String(10))
    #: survey | reminder | resurvey | re_remind (a re-survey's reminder) | progress (a complaint's) | reply
    kind: Mapped[str] = mapped_column(String(10), default="survey")
    #: ordinal within its channel: calls 1-3, SMS 1-2, letter 1
    number: Mapped[int] = mapped_column(default=1)
    #: planned | dispatching (claimed, provider not yet answered) | in_progress (the provider took
    #: it, its result comes by callback or, for letters, when the batch is mailed) | done |
    #: cancelled | error (given up after provider errors; flagged for staff)
    status: Mapped[str] = mapped_column(String(12), default="planned")
    outcome: Mapped[str | None] = mapped_column(String(30))
    #: destination: E.164 number, or "letter"
    destination: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    #: worker id and lease of a claimed row (multi-worker claiming)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    #: "ivr", "sms", "system", "sandbox" or "user:<username>"
    made_by: Mapped[str | None] = mapped_column(String(80))
    #: Twilio CallSid / MessageSid; unique so one provider object maps to one attempt
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    #: transient provider errors so far (not attempts, R3)
    retries: Mapped[int] = mapped_column(default=0)
    first_error_at: Mapped[datetime | None]
    #: the time the customer asked to be called back
    callback_at: Mapped[datetime | None]
    #: why it was planned (policy reason) or cancelled
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    #: the call worklist (calls_by = staff): the username of the person who claimed this planned call
    #: to make it, and until when (service clock, 15 minutes, renewed by claiming again); a claim
    #: that runs out without an outcome simply lapses. Not the worker's claimed_by/lease_until.
    held_by: Mapped[str | None] = mapped_column(String(80))
    held_until: Mapped[datetime | None]
