"""Staff mark a batch printed, then mailed (its letters count as sent, R4.4), or a letter returned.

Marking mailed ends each letter attempt as ``sent`` on that day: the case moves to
``letter_sent`` and the reply timeout (``letter_reply_timeout``) runs from then. A letter the
post office brings back (bad address) closes its case as ``unreachable``, flagged for staff.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.cases.lifecycle import close_case
from followup.models import BatchLetter, ContactAttempt, FollowupCase, LetterBatch


class MailingError(Exception):
    """The step is not possible in the batch's or letter's current state (shown to staff as is)."""


def mark_printed(session: Session, batch: LetterBatch, *, now: datetime, actor: str) -> None:
    """The batch came out of the printer; no letter joins it any more."""
    if batch.status != "built":
        raise MailingError(f"batch is already {batch.status}")
    batch.status, batch.printed_at, batch.printed_by = "printed", now, actor
    audit.record(session, actor, "letters.batch_printed", at=now, store_id=batch.store_id, batch=batch.id)


def mark_mailed(session: Session, batch: LetterBatch, *, now: datetime, actor: str) -> int:
    """The batch went to the post: every letter in it is sent; returns how many cases moved on."""
    if batch.status == "mailed":
        raise MailingError("batch is already mailed")
    if batch.status == "built":
        batch.printed_at, batch.printed_by = now, actor
    batch.status, batch.mailed_at, batch.mailed_by = "mailed", now, actor
    moved = 0
    rows = session.execute(
        select(ContactAttempt, FollowupCase)
        .join(BatchLetter, BatchLetter.attempt_id == ContactAttempt.id)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .where(BatchLetter.batch_id == batch.id)
        .order_by(BatchLetter.page)
    ).all()
    for attempt, case in rows:
        if attempt.status != "in_progress":
            continue
        attempt.status, attempt.outcome, attempt.ended_at = "done", "sent", now
        audit.record(session, actor, "letter.mailed", at=now, store_id=case.store_id, case_id=case.id,
                     attempt=attempt.id, batch=batch.id)
        if case.state == "letter_queued":
            case.state = "letter_sent"
            case.next_check_at = now  # the planner starts the reply timeout from here
            moved += 1
    audit.record(session, actor, "letters.batch_mailed", at=now, store_id=batch.store_id, batch=batch.id,
                 letters=len(rows))
    return moved


def mark_returned(session: Session, item: BatchLetter, *, now: datetime, actor: str) -> bool:
    """The post office brought the letter back; True when its case closed as ``unreachable``."""
    batch = session.get_one(LetterBatch, item.batch_id)
    if batch.status != "mailed":
        raise MailingError("only a mailed letter can come back")
    if item.returned_at is not None:
        raise MailingError("letter is already marked returned")
    item.returned_at, item.returned_by = now, actor
    attempt = session.get_one(ContactAttempt, item.attempt_id)
    attempt.outcome = "returned"
    case = session.get_one(FollowupCase, item.case_id)
    audit.record(session, actor, "letter.returned", at=now, store_id=case.store_id, case_id=case.id,
                 attempt=attempt.id, batch=batch.id)
    if case.state in ("closed", "complaint"):
        return False  # the customer answered anyway: nothing to close
    case.flagged, case.flag_reason = True, "letter_returned"
    close_case(session, case, "unreachable", now=now, actor=actor)
    return True
