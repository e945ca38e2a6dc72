"""The rest of a month's numbers: per-question averages, the three-day-rule compliance rate (R8),
the response rate of each channel, and the customers' own words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from followup.models import Advisor, ContactAttempt, FollowupCase, Store, SurveyAnswer, SurveyResponse, Visit
from followup.privacy import mask_in_text
from followup.reports.independent import counted, with_advisor
from followup.settings import SurveySettings

#: which contact channel a survey taken on each channel answers (web: the link in letters and reminders)
ANSWERS_CONTACT = {"ivr": "call", "staff": "call", "sms": "sms", "letter": "letter", "web": "letter"}
CONTACT_CHANNELS = ("call", "sms", "letter")


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage with one decimal; None when there is nothing to divide."""
    return None if whole == 0 else round(100.0 * part / whole + 1e-9, 1)


@dataclass(frozen=True)
class QuestionAverage:
    """One survey question over the month's counted responses.

    ``average`` is the mean answer (0-10) for a scale question and the share of "yes" (percent)
    for a yes/no question.
    """

    id: str
    zh: str
    en: str
    kind: str
    answers: int
    average: float | None


def question_averages(session: Session, store: Store, start: datetime, end: datetime,
                      survey: SurveySettings) -> list[QuestionAverage]:
    rows = dict(
        (qid, (int(n), avg))
        for qid, n, avg in session.execute(
            with_advisor(
                select(SurveyAnswer.question_id, func.count(SurveyAnswer.id), func.avg(SurveyAnswer.value_num))
                .select_from(SurveyResponse)
                .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
            )
            .where(counted(store.id, start, end), SurveyAnswer.value_num.is_not(None))
            .group_by(SurveyAnswer.question_id)
        ).all()
    )
    out = []
    for q in survey.questions:
        if q.kind == "text":
            continue
        n, avg = rows.get(q.id, (0, None))
        value = None if avg is None else round(float(avg) * (100 if q.kind == "yesno" else 1) + 1e-9, 1 if q.kind == "yesno" else 2)
        out.append(QuestionAverage(q.id, q.zh, q.en, q.kind, n, value))
    return out


@dataclass(frozen=True)
class Compliance:
    """R8 over the cases whose deadline falls in the month."""

    met: int
    breached: int
    pending: int
    rate: float | None


def compliance(session: Session, store: Store, start: datetime, end: datetime) -> Compliance:
    counts = dict(session.execute(
        select(FollowupCase.three_day_rule, func.count())
        .where(FollowupCase.store_id == store.id, FollowupCase.deadline_at >= start, FollowupCase.deadline_at < end)
        .group_by(FollowupCase.three_day_rule)
    ).all())
    met, breached = int(counts.get("met", 0)), int(counts.get("breached", 0))
    return Compliance(met, breached, int(counts.get("pending", 0)), rate(met, met + breached))


@dataclass(frozen=True)
class ChannelRate:
    """Of the cases contacted on a channel, how many answered through it."""

    channel: str
    contacted: int
    answered: int
    rate: float | None


def channel_rates(session: Session, store: Store, start: datetime, end: datetime) -> list[ChannelRate]:
    """Per contact channel, over the cases whose deadline falls in the month (the month's visits)."""
    cases = select(FollowupCase.id).where(
        FollowupCase.store_id == store.id, FollowupCase.deadline_at >= start, FollowupCase.deadline_at < end
    )
    contacted = dict(session.execute(
        select(ContactAttempt.channel, func.count(distinct(ContactAttempt.case_id)))
        .where(ContactAttempt.case_id.in_(cases), ContactAttempt.kind.in_(("survey", "reminder")),
               ContactAttempt.status.in_(("done", "in_progress")))
        .group_by(ContactAttempt.channel)
    ).all())
    answered: dict[str, int] = {}
    for channel, n in session.execute(
        select(SurveyResponse.channel, func.count(distinct(SurveyResponse.case_id)))
        .where(SurveyResponse.case_id.in_(cases), SurveyResponse.status == "completed",
               SurveyResponse.is_resurvey.is_(False))
        .group_by(SurveyResponse.channel)
    ).all():
        key = ANSWERS_CONTACT.get(channel, channel)
        answered[key] = answered.get(key, 0) + int(n)
    return [
        ChannelRate(c, int(contacted.get(c, 0)), answered.get(c, 0), rate(answered.get(c, 0), int(contacted.get(c, 0))))
        for c in CONTACT_CHANNELS
    ]


@dataclass(frozen=True)
class Verbatim:
    """A customer's comment, with where it came from (phone numbers in it masked)."""

    completed_at: datetime
    ro_number: str
    advisor_code: str
    channel: str
    score: float | None
    satisfied: bool | None
    text: str


def verbatims(session: Session, store: Store, start: datetime, end: datetime, *, limit: int = 200) -> list[Verbatim]:
    """The month's free-text answers, newest first (every completed survey, re-surveys too)."""
    tz = ZoneInfo(store.timezone)
    rows = session.execute(
        select(SurveyResponse.completed_at, Visit.ro_number, Advisor.code, SurveyResponse.channel,
               SurveyResponse.score, SurveyResponse.satisfied, SurveyAnswer.value_text)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(FollowupCase, FollowupCase.id == SurveyResponse.case_id)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Advisor, Advisor.id == SurveyResponse.advisor_id)
        .where(SurveyResponse.store_id == store.id, SurveyResponse.status == "completed",
               SurveyResponse.completed_at >= start, SurveyResponse.completed_at < end,
               SurveyAnswer.value_num.is_(None), SurveyAnswer.value_text.is_not(None), SurveyAnswer.value_text != "")
        .order_by(SurveyResponse.completed_at.desc(), SurveyAnswer.id.desc())
        .limit(limit)
    ).all()
    return [
        Verbatim(at.astimezone(tz), ro, code, channel, score, satisfied, mask_in_text(text))
        for at, ro, code, channel, score, satisfied, text in rows
        if at is not None and text  # both guaranteed by the WHERE clause
    ]
