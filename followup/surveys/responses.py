"""Recording a survey, whatever the channel (IVR, SMS, web, letter, staff): one way in.

The answers are stored, the R5 score computed, every other pending contact of the case
cancelled (R4.6), and the case closed as satisfied or handed to a complaint (R7).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from followup import audit
from followup.cases.lifecycle import cancel_pending, case_ref, close_case
from followup.complaints.opening import open_complaint as open_level_one
from followup.complaints.resurvey import answered_during_complaint
from followup.complaints.words import word_in_comment
from followup.models import (
    Complaint,
    FollowupCase,
    SurveyAnswer,
    SurveyResponse,
)
from followup.rules.survey_scoring import is_dissatisfied, score
from followup.settings import Settings
from followup.surveys.questions import questions_for_case, service_type_of
from followup.webhooks.outbox import emit


def record_survey(
    session: Session,
    case: FollowupCase,
    answers: Mapping[str, str | float | None],
    *,
    channel: str,
    made_by: str,
    settings: Settings,
    now: datetime,
    own_advisor_call: bool = False,
) -> SurveyResponse:
    """Store a complete survey taken at once (sandbox, web, letter, staff) and act on it."""
    resp = SurveyResponse(
        case_id=case.id, store_id=case.store_id, advisor_id=case.advisor_id, channel=channel, made_by=made_by,
        own_advisor_call=own_advisor_call, started_at=now, status="in_progress",
    )
    session.add(resp)
    session.flush()
    clean: dict[str, str | float | None] = {}
    for q in questions_for_case(session, case, settings):  # an answer to a question not asked never counts (R5)
        value = answers.get(q.id)
        if value is None or value == "":
            continue
        num = None
        if q.kind == "scale10":
            num = float(value)
        elif q.kind == "yesno":
            num = 1.0 if value in ("yes", 1, "1") else 0.0
        clean[q.id] = value
        text = None if q.kind != "text" else str(value)
        if q.kind == "yesno":
            text = "yes" if num == 1.0 else "no"
        session.add(
            SurveyAnswer(response_id=resp.id, question_id=q.id, value_num=num, value_text=text, raw=str(value), answered_at=now)
        )
    return complete_survey(session, case, resp, clean, settings=settings, now=now)


def complete_survey(
    session: Session,
    case: FollowupCase,
    resp: SurveyResponse,
    answers: Mapping[str, str | float | None],
    *,
    settings: Settings,
    now: datetime,
) -> SurveyResponse:
    """Score a response whose answers are stored, then close the case or open a complaint."""
    service_type = service_type_of(session, case)  # scored over the questions asked (R5)
    resp.score = score(answers, settings.survey, service_type)
    resp.satisfied = not is_dissatisfied(answers, resp.score, settings.survey, service_type)
    resp.status, resp.completed_at, resp.current_question = "completed", now, None
    cancel_pending(session, case.id, reason="reached")
    ref = case_ref(session, case)
    audit.record(
        session, resp.made_by, "survey.completed", at=now, store_id=case.store_id, case_id=case.id,
        channel=resp.channel, score=resp.score, satisfied=resp.satisfied,
    )
    emit(
        session, "survey.completed",
        {**ref, "channel": resp.channel, "score": resp.score, "satisfied": resp.satisfied},
        at=now, case_id=case.id,
    )
    if answered_during_complaint(session, case, resp, settings=settings, now=now, answers=answers):
        return resp  # a re-survey, or an answer while the complaint is handled (R7)
    word = word_in_comment(session, settings, case, answers)  # R7: the customer's words, whatever the scores
    if resp.satisfied and word is None:
        close_case(session, case, "satisfied", now=now, actor=resp.made_by)
    else:
        open_complaint(session, case, resp, settings=settings, now=now, ref=ref, answers=answers, word=word)
    return resp


def open_complaint(
    session: Session, case: FollowupCase, resp: SurveyResponse, *, settings: Settings, now: datetime, ref: dict[str, str],
    answers: Mapping[str, str | float | None] | None = None, word: str | None = None,
) -> Complaint:
    """R7: a dissatisfied response (or one whose comment has a complaint word) opens a level-1
    complaint (see :mod:`followup.complaints`)."""
    return open_level_one(session, case, resp, settings=settings, now=now, ref=ref, answers=answers, word=word)
