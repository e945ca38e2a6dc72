"""Surveys taken step by step (IVR, SMS): each answer is stored the moment it arrives.

A dropped call or an SMS conversation that stops half-way keeps what the customer already said;
:func:`finish` scores what is stored through :func:`surveys.complete_survey`, the one way a
survey ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import FollowupCase, SurveyAnswer, SurveyResponse
from followup.settings import Question, Settings
from followup.surveys.responses import complete_survey


def open_response(session: Session, case: FollowupCase, channel: str, *, made_by: str, now: datetime,
                  first: str | None, resurvey: bool = False) -> SurveyResponse:
    """A new in-progress response on ``channel`` whose first question is ``first``."""
    resp = SurveyResponse(
        case_id=case.id, store_id=case.store_id, advisor_id=case.advisor_id, channel=channel, made_by=made_by,
        started_at=now, status="in_progress", current_question=first, is_resurvey=resurvey,
    )
    session.add(resp)
    session.flush()
    return resp


def record_answer(session: Session, resp: SurveyResponse, q: Question, value: str, *, raw: str,
                  now: datetime) -> None:
    """Store (or replace) one answer: ``"0"``-``"10"``, ``"yes"``/``"no"`` or text."""
    num: float | None = None
    text: str | None = None
    if q.kind == "scale10":
        num = float(value)
    elif q.kind == "yesno":
        num, text = (1.0, "yes") if value == "yes" else (0.0, "no")
    else:
        text = value
    row = session.scalar(
        select(SurveyAnswer).where(SurveyAnswer.response_id == resp.id, SurveyAnswer.question_id == q.id)
    )
    if row is None:
        row = SurveyAnswer(response_id=resp.id, question_id=q.id, answered_at=now)
        session.add(row)
    row.value_num, row.value_text, row.raw, row.answered_at = num, text, raw[:2000], now
    session.flush()


def stored_answers(session: Session, resp: SurveyResponse) -> dict[str, str]:
    """The answers stored so far, as the scoring expects them (``"7"``, ``"yes"``, text)."""
    out: dict[str, str] = {}
    for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == resp.id)):
        if a.value_text in ("yes", "no") and a.value_num is not None:
            out[a.question_id] = a.value_text
        elif a.value_num is not None:
            out[a.question_id] = f"{a.value_num:g}"
        else:
            out[a.question_id] = a.value_text or ""
    return out


def next_question(questions: Sequence[Question], after: str | None, *, answered: set[str],
                  kinds: tuple[str, ...] = ("scale10", "yesno", "text")) -> Question | None:
    """The first of ``questions`` (the case's, :func:`~followup.surveys.questions.questions_for_case`)
    after ``after`` (or the first of all) of ``kinds`` not yet answered."""
    qs = list(questions)
    start = 0 if after is None else next((i + 1 for i, q in enumerate(qs) if q.id == after), len(qs))
    return next((q for q in qs[start:] if q.kind in kinds and q.id not in answered), None)


def finish(session: Session, case: FollowupCase, resp: SurveyResponse, *, settings: Settings,
           now: datetime) -> SurveyResponse:
    """Score and close the survey with what is stored (R5), then act on it (R7)."""
    return complete_survey(session, case, resp, stored_answers(session, resp), settings=settings, now=now)
