"""A reply code (printed on the letter, in the SMS reminder's link) -> its case, and whether the
survey may still be answered with it; answers as the IVR accepts them, checked for one form.

A code is live only once it went out: printed in a letter batch, or in an SMS sent to the
customer. Until then it answers exactly like an unknown one (every open case has a code, but a
code nobody was sent is no way in for anybody).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from followup.models import BatchLetter, ContactAttempt, FollowupCase, SmsMessage, Store, SurveyResponse
from followup.rules.reply_code import grouped
from followup.rules.reply_code import normalise as normalise
from followup.settings import Question, Settings

#: free text is kept whole up to this length (a letter's comment box, a web text area)
TEXT_MAX = 1000


def code_went_out(session: Session, case: FollowupCase) -> bool:
    """Whether the case's code was sent: its letter is in a batch (or was mailed), or an SMS
    carrying the code (the reminder's link, a hint's example) went to the customer."""
    code = case.reply_code
    printed = or_(exists().where(BatchLetter.case_id == case.id),
                  exists().where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "letter",
                                 ContactAttempt.outcome == "sent"))
    texted = exists().where(
        SmsMessage.case_id == case.id, SmsMessage.direction == "out",
        or_(SmsMessage.body.contains(code, autoescape=True), SmsMessage.body.contains(grouped(code), autoescape=True)),
    )
    return bool(session.scalar(select(or_(printed, texted))))


def case_for_code(session: Session, code: str, *, lock: bool = False, sent_only: bool = True) -> FollowupCase | None:
    """The case of a live code; None for an unknown code and (unless ``sent_only`` is False: staff
    keying in a returned form, signed in and limited to their stores) for one that never went out.

    ``lock`` holds the case row until the caller commits, so that two answers with the same code
    are taken one after the other: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite, which has no
    row locks, a write to the row first, which takes the database's write lock before anything
    is read (a reader that only reads is never made to wait, so both would pass the check).
    """
    norm = normalise(code)
    if norm is None:
        return None
    if lock and session.get_bind().dialect.name == "sqlite":
        session.execute(update(FollowupCase).where(FollowupCase.reply_code == norm)
                        .values(reply_code=FollowupCase.reply_code))
    q = select(FollowupCase).where(FollowupCase.reply_code == norm)
    case = session.scalar(q.with_for_update() if lock else q)
    if case is None or (sent_only and not code_went_out(session, case)):
        return None
    return case


@dataclass(frozen=True)
class CodeStatus:
    """``open`` (answer now), ``answered`` (a survey was completed) or ``expired``."""

    state: str
    store_code: str


def code_status(session: Session, case: FollowupCase, settings: Settings, now: datetime) -> CodeStatus:
    store_code = session.scalar(select(Store.code).where(Store.id == case.store_id)) or ""
    answered = session.scalar(
        select(exists().where(SurveyResponse.case_id == case.id, SurveyResponse.status == "completed"))
    )
    if answered:
        return CodeStatus("answered", store_code)
    if case.state in ("closed", "complaint"):
        return CodeStatus("expired", store_code)
    mailed = session.scalar(
        select(ContactAttempt.ended_at)
        .where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "letter",
               ContactAttempt.outcome == "sent")
        .order_by(ContactAttempt.ended_at.desc())
        .limit(1)
    )
    policy = settings.stores[store_code].policy if store_code in settings.stores else None
    if mailed is not None and policy is not None and now >= mailed + policy.letter_reply_timeout:
        return CodeStatus("expired", store_code)
    return CodeStatus("open", store_code)


def parse_answers(questions: tuple[Question, ...], form: Mapping[str, str], *,
                  all_required: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Form fields (one per question id) -> (answers, errors by question id).

    Values as the IVR accepts them: ``0``-``10``, ``yes``/``no``, free text. With
    ``all_required`` (the customer's own web form) every question that is not optional must be
    answered; otherwise (a paper form keyed in by staff) at least one scored question.
    """
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in questions:
        raw = (form.get(q.id) or "").strip()
        if raw == "":
            if all_required and not q.optional:
                errors[q.id] = "required"
            continue
        if q.kind == "scale10":
            if raw.isdigit() and 0 <= int(raw) <= 10:
                answers[q.id] = str(int(raw))
            else:
                errors[q.id] = "scale"
        elif q.kind == "yesno":
            if raw.lower() in ("yes", "no"):
                answers[q.id] = raw.lower()
            else:
                errors[q.id] = "yesno"
        else:
            answers[q.id] = raw[:TEXT_MAX]
    if not errors and not any(q.kind != "text" and q.id in answers for q in questions):
        first = next(q.id for q in questions if q.kind != "text")
        errors[first] = "required"
    return answers, errors
