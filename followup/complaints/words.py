"""R7: the customer's own words open a complaint whatever the scores said.

A survey comment, or a late reply (an SMS that came when no survey was waiting), containing one of
the store's complaint words (``[complaints] words``, or the store's own ``complaint_words``) opens a
level-1 complaint whose category is read from the text. A case whose complaint is still open gets
the text noted on it instead of a second complaint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.complaints.opening import NOT_REOPENED, open_from_words
from followup.complaints.resurvey import active_complaint
from followup.complaints.steps import record_step
from followup.models import Complaint, FollowupCase, Store
from followup.rules.complaint_words import complaint_word
from followup.settings import Settings


def store_words(session: Session, settings: Settings, store_id: int) -> tuple[str, ...]:
    code = session.scalar(select(Store.code).where(Store.id == store_id)) or ""
    return settings.complaints.words_for(code)


def word_in_comment(session: Session, settings: Settings, case: FollowupCase,
                    answers: Mapping[str, object]) -> str | None:
    """The complaint word in a survey's comment, or None."""
    return complaint_word(str(answers.get("comment") or ""), store_words(session, settings, case.store_id))


def late_reply(session: Session, settings: Settings, case: FollowupCase, text: str, *, now: datetime,
               by: str = "sms", where: str = "late SMS reply") -> Complaint | None:
    """A reply that came when no survey was waiting: noted on the case's open complaint, or, when it
    has a complaint word, a new complaint (even on a closed case); None when neither."""
    complaint = active_complaint(session, case.id)
    if complaint is not None:
        record_step(session, complaint, "answer", at=now, by=by, note=f"{where}: {text}"[:2000])
        return complaint
    word = complaint_word(text, store_words(session, settings, case.store_id))
    if word is None or case.outcome in NOT_REOPENED:
        return None
    return open_from_words(session, case, text[:2000], word, settings=settings, now=now, by=by, where=where)
