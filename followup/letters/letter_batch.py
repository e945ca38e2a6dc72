"""Building a store's letter batch: every letter queued on or before a day and not yet printed.

A letter is held back, and its case flagged for staff, when it cannot be posted: no usable address
(empty, or too long for the envelope window), or a customer marked no-contact (R6). A letter
whose case was answered or closed meanwhile is cancelled instead of printed. A batch with no
letter is not stored and has no PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.engine.facts import usable_address
from followup.letters.address_list import address_csv
from followup.letters.content import Letter, load_letters
from followup.letters.render import labels_html, letter_html, pdf_of_pages
from followup.models import BatchLetter, ContactAttempt, FollowupCase, LetterBatch, Store
from followup.settings import Settings

#: case states in which a queued letter is no longer wanted (the customer answered, or it closed)
DONE_STATES = ("closed", "complaint")


@dataclass
class BuildResult:
    """What building a batch did; ``batch`` is None when there was nothing to print."""

    store_code: str
    day: date
    batch: LetterBatch | None = None
    added: int = 0
    held: list[tuple[int, str]] = field(default_factory=list)  # (case id, reason)
    cancelled: int = 0


def end_of_day(day: date, settings: Settings, store_code: str) -> datetime:
    """The first instant after ``day`` in the store's time zone."""
    tz = settings.stores[store_code].timezone
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def queued_letters(session: Session, store_id: int, before: datetime) -> list[ContactAttempt]:
    """Letter attempts of a store queued before ``before`` and not in any batch, oldest first."""
    return list(
        session.scalars(
            select(ContactAttempt)
            .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
            .outerjoin(BatchLetter, BatchLetter.attempt_id == ContactAttempt.id)
            .where(
                FollowupCase.store_id == store_id,
                ContactAttempt.channel == "letter",
                ContactAttempt.status == "in_progress",
                ContactAttempt.outcome == "queued",
                ContactAttempt.started_at < before,
                BatchLetter.id.is_(None),
            )
            .order_by(ContactAttempt.started_at, ContactAttempt.id)
        )
    )


def _hold_reason(letter: Letter) -> str | None:
    if letter.no_contact:
        return "letter_no_contact"
    if not usable_address(letter.address):
        return "letter_no_address"
    return None


def _flag(session: Session, case_id: int, reason: str, now: datetime, actor: str) -> None:
    case = session.get_one(FollowupCase, case_id)
    if case.flagged and case.flag_reason == reason:
        return
    case.flagged, case.flag_reason = True, reason
    audit.record(session, actor, "letter.held", at=now, store_id=case.store_id, case_id=case.id, reason=reason)


def _open_batch(session: Session, store_id: int, day: date) -> LetterBatch | None:
    """The day's latest batch while it is still only built (new letters may join it)."""
    return session.scalar(
        select(LetterBatch)
        .where(LetterBatch.store_id == store_id, LetterBatch.day == day)
        .order_by(LetterBatch.seq.desc())
        .limit(1)
    )


def build_batch(session: Session, settings: Settings, store_code: str, day: date, *, now: datetime,
                actor: str) -> BuildResult:
    """Print every queued letter of the store up to ``day`` into the day's batch; the caller commits.

    New letters join the day's batch while it is only built (it is rendered again); once that
    batch is printed, a new one is started for the same day.
    """
    result = BuildResult(store_code, day)
    store = settings.stores[store_code]
    store_id = session.scalar(select(Store.id).where(Store.code == store_code))
    if store_id is None:
        return result
    attempts = queued_letters(session, store_id, end_of_day(day, settings, store_code))
    letters = load_letters(session, settings, [a.id for a in attempts])
    printable: list[Letter] = []
    for attempt, letter in zip(attempts, letters, strict=True):
        if letter.case_state in DONE_STATES:
            attempt.status, attempt.reason = "cancelled", "reached_before_print"
            result.cancelled += 1
            continue
        reason = _hold_reason(letter)
        if reason:
            _flag(session, letter.case_id, reason, now, actor)
            result.held.append((letter.case_id, reason))
            continue
        printable.append(letter)
    if not printable:
        return result
    batch = _open_batch(session, store_id, day)
    if batch is None or batch.status != "built":
        seq = 1 if batch is None else batch.seq + 1
        batch = LetterBatch(store_id=store_id, day=day, seq=seq, status="built", built_by=actor, built_at=now,
                            pdf=b"", address_csv="", labels_pdf=b"")
        session.add(batch)
        session.flush()
        earlier: list[Letter] = []
    else:
        earlier = load_letters(session, settings, _batch_attempt_ids(session, batch.id))
    # Render before adding rows: a letter that does not fit one page is held, never split.
    everyone = earlier + printable
    pdf, too_long = pdf_of_pages([letter_html(x, store, settings, day) for x in everyone], one_page_each=True)
    for i in too_long:
        _flag(session, everyone[i].case_id, "letter_too_long", now, actor)
        result.held.append((everyone[i].case_id, "letter_too_long"))
    kept = [x for i, x in enumerate(everyone) if i not in too_long]
    new_ids = {x.attempt_id for x in printable}
    for page, letter in enumerate(kept, start=1):
        if letter.attempt_id in new_ids:
            session.add(BatchLetter(batch_id=batch.id, attempt_id=letter.attempt_id, case_id=letter.case_id, page=page))
            result.added += 1
    _renumber(session, batch.id, [x.attempt_id for x in kept])
    pages_pdf, _ = pdf_of_pages([labels_html(kept, store)], one_page_each=False)
    batch.pdf, batch.labels_pdf, batch.address_csv = pdf, pages_pdf, address_csv(kept)
    batch.letters, batch.held, batch.built_at, batch.built_by = len(kept), len(result.held), now, actor
    audit.record(session, actor, "letters.batch_built", at=now, store_id=store_id, batch=batch.id,
                 day=day.isoformat(), letters=len(kept), held=len(result.held))
    result.batch = batch
    return result


def _batch_attempt_ids(session: Session, batch_id: int) -> list[int]:
    return list(session.scalars(select(BatchLetter.attempt_id).where(BatchLetter.batch_id == batch_id)
                                .order_by(BatchLetter.page)))


def _renumber(session: Session, batch_id: int, attempt_ids: list[int]) -> None:
    session.flush()
    pages = {a: n for n, a in enumerate(attempt_ids, start=1)}
    for row in session.scalars(select(BatchLetter).where(BatchLetter.batch_id == batch_id)):
        row.page = pages.get(row.attempt_id, row.page)
