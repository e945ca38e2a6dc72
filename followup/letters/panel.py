"""What the admin panel's letters pages show, limited to the stores a user may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from followup.letters.letter_batch import queued_letters
from followup.models import BatchLetter, ContactAttempt, Customer, FollowupCase, LetterBatch, Store, Visit
from followup.rules.reply_code import grouped
from followup.settings import Settings


@dataclass(frozen=True)
class BatchRow:
    batch: LetterBatch
    store_code: str


@dataclass(frozen=True)
class LetterRow:
    item: BatchLetter
    customer_name: str
    city: str
    ro_number: str
    #: as printed on the letter, grouped for reading
    reply_code: str
    case_state: str
    case_outcome: str | None
    attempt_outcome: str | None


def batches(session: Session, stores: Sequence[str], *, limit: int = 60) -> list[BatchRow]:
    rows = session.execute(
        select(LetterBatch, Store.code)
        .join(Store, Store.id == LetterBatch.store_id)
        .where(Store.code.in_(list(stores)))
        .order_by(LetterBatch.day.desc(), LetterBatch.seq.desc(), LetterBatch.id.desc())
        .limit(limit)
    ).all()
    return [BatchRow(b, code) for b, code in rows]


def waiting(session: Session, settings: Settings, stores: Sequence[str], now: datetime) -> dict[str, int]:
    """Letters queued and not yet in a batch, per store."""
    out: dict[str, int] = {}
    for code in stores:
        store_id = session.scalar(select(Store.id).where(Store.code == code))
        out[code] = 0 if store_id is None else len(queued_letters(session, store_id, now))
    return out


def held(session: Session, stores: Sequence[str]) -> int:
    """Cases flagged because their letter cannot be printed or came back."""
    return session.scalar(
        select(func.count())
        .select_from(FollowupCase)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(Store.code.in_(list(stores)), FollowupCase.flagged.is_(True),
               FollowupCase.flag_reason.like("letter%"), FollowupCase.state != "closed")
    ) or 0


def batch_in_stores(session: Session, batch_id: int, stores: Sequence[str]) -> BatchRow | None:
    row = session.execute(
        select(LetterBatch, Store.code).join(Store, Store.id == LetterBatch.store_id)
        .where(LetterBatch.id == batch_id, Store.code.in_(list(stores)))
    ).first()
    return None if row is None else BatchRow(row[0], row[1])


def letters_of(session: Session, batch_id: int) -> list[LetterRow]:
    rows = session.execute(
        select(BatchLetter, Customer, Visit, FollowupCase, ContactAttempt)
        .join(FollowupCase, FollowupCase.id == BatchLetter.case_id)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(ContactAttempt, ContactAttempt.id == BatchLetter.attempt_id)
        .where(BatchLetter.batch_id == batch_id)
        .order_by(BatchLetter.page)
    ).all()
    out = []
    for item, customer, visit, case, attempt in rows:
        address = customer.address or ""
        city = address[: address.find("市") + 1] if "市" in address else address[:6]
        out.append(LetterRow(item, customer.name, city, visit.ro_number, grouped(case.reply_code), case.state, case.outcome,
                             attempt.outcome))
    return out
