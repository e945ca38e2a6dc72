"""The store's daily letter batches (R4.4) and the letters printed in each."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from followup.models.base import Base

BATCH_STATUSES = ("built", "printed", "mailed")


class LetterBatch(Base):
    """One printable batch: every letter of a store queued up to ``day``, in one PDF.

    A store gets at most one batch per day from the worker; staff may build more (``seq``).
    """

    __tablename__ = "letter_batches"
    __table_args__ = (
        UniqueConstraint("store_id", "day", "seq"),
        Index("ix_letter_batches_status", "status", "store_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    #: the store-local day the batch is for (letters queued on or before it)
    day: Mapped[date] = mapped_column(Date)
    #: 1 for the day's first batch, 2 for one staff built after it was printed, ...
    seq: Mapped[int] = mapped_column(default=1)
    #: built | printed | mailed
    status: Mapped[str] = mapped_column(String(10), default="built")
    #: letters in the PDF
    letters: Mapped[int] = mapped_column(default=0)
    #: letters held back for staff (no usable address, no-contact) when it was built
    held: Mapped[int] = mapped_column(default=0)
    #: the printable PDF, one A4 page per letter
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    #: the address list (CSV, UTF-8 with BOM so Excel reads Chinese)
    address_csv: Mapped[str] = mapped_column(Text)
    #: the label sheet (PDF, A4, 3 x 8 labels)
    labels_pdf: Mapped[bytes] = mapped_column(LargeBinary)
    #: "worker", "cli" or "user:<username>"
    built_by: Mapped[str] = mapped_column(String(80))
    built_at: Mapped[datetime]
    printed_at: Mapped[datetime | None]
    printed_by: Mapped[str | None] = mapped_column(String(80))
    mailed_at: Mapped[datetime | None]
    mailed_by: Mapped[str | None] = mapped_column(String(80))


class BatchLetter(Base):
    """A letter attempt printed in a batch; an attempt is printed in one batch only."""

    __tablename__ = "letter_batch_letters"
    __table_args__ = (Index("ix_letter_batch_letters_batch", "batch_id", "page"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("letter_batches.id"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("contact_attempts.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    #: its page in the batch PDF (1-based)
    page: Mapped[int]
    #: the post office brought it back (bad address)
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[str | None] = mapped_column(String(80))
