"""A reply code (printed on the letter, in the SMS reminder's link) -> its case, and whether the
survey may still be answered with it; answers as the IVR accepts them, checked for one form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from followup.intake.visit_upsert import REPLY_CODE_ALPHABET
from followup.models import ContactAttempt, FollowupCase, Store, SurveyResponse
from followup.settings import Question, Settings

_CODE = re.compile(rf"[{REPLY_CODE_ALPHABET}]{{6}}")
#: free text is kept whole up to this length (a letter's comment box, a web text area)
TEXT_MAX = 1000


def normalise(code: str) -> str | None:
    """``ab c234`` -> ``ABC234``; None when it cannot be a reply code."""
    text = re.sub(r"[\s-]", "", code or "").upper()
    return text if _CODE.fullmatch(text) else None


def case_for_code(session: Session, code: str) -> FollowupCase | None:
    norm = normalise(code)
    if norm is None:
        return None
    return session.scalar(select(FollowupCase).where(FollowupCase.reply_code == norm))


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
