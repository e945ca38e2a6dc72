"""Survey responses (one per survey taken) and their answers, one row per question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base

SURVEY_CHANNELS = ("ivr", "sms", "web", "letter", "staff")


class SurveyResponse(Base):
    """A survey taken on one channel; answers are stored as they arrive."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_responses_report", "store_id", "advisor_id", "completed_at"),
        Index("ix_responses_case", "case_id"),
        # the monthly reports: one store's responses completed within a month (R9)
        Index("ix_responses_store_completed", "store_id", "completed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    #: ivr | sms | web | letter | staff
    channel: Mapped[str] = mapped_column(String(10))
    #: "ivr", "sms", "web" or "user:<username>"
    made_by: Mapped[str] = mapped_column(String(80))
    #: the advisor phoned their own customer: never counts for the bonus (R9)
    own_advisor_call: Mapped[bool] = mapped_column(default=False)
    #: in_progress | completed | incomplete
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    #: the question being asked (SMS, IVR)
    current_question: Mapped[str | None] = mapped_column(String(40))
    unreadable: Mapped[int] = mapped_column(default=0)
    is_resurvey: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    #: R5 score 0-100, one decimal
    score: Mapped[float | None]
    satisfied: Mapped[bool | None]
    #: how the answer came, to check a disputed score: for ``web`` the client's address (as the
    #: trusted proxies tell it), its user agent and the time; erased with the customer (R13)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SurveyAnswer(Base):
    """One answer to one question; ``raw`` keeps what the customer typed or pressed."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"))
    question_id: Mapped[str] = mapped_column(String(40))
    #: 0-10 for scale questions, 1/0 for yes/no
    value_num: Mapped[float | None]
    value_text: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime]


class CodeMiss(Base):
    """An unknown reply code tried at ``/s/<code>``: the guessing limiter's state, shared by every
    web process and kept across restarts; rows older than the limiter's window are purged."""

    __tablename__ = "survey_code_misses"
    __table_args__ = (Index("ix_code_misses_client_at", "client", "at"), Index("ix_code_misses_at", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the client address (an IPv6 /64) as :func:`followup.web.client_address.limit_key` gives it
    client: Mapped[str] = mapped_column(String(64))
    #: wall-clock time (guessing is measured in real seconds, also under the test clock)
    at: Mapped[datetime]
