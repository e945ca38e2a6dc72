"""Entry points of the daily letter batch: ``followup letters build`` and the worker's duty."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import exists, select

from followup.letters.letter_batch import BuildResult, build_batch
from followup.models import LetterBatch, Store
from followup.runtime import Runtime


def batch_files(batch: LetterBatch, store_code: str) -> dict[str, str]:
    """The file names of a batch: ``SZ01-2026-11-20-1.pdf`` and its address list and labels."""
    stem = f"{store_code}-{batch.day.isoformat()}-{batch.seq}"
    return {"pdf": f"{stem}.pdf", "csv": f"{stem}-addresses.csv", "labels": f"{stem}-labels.pdf"}


def write_batch(batch: LetterBatch, store_code: str, out: Path) -> list[Path]:
    """Write the batch's PDF, address list and label sheet into ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    names = batch_files(batch, store_code)
    paths = [out / names["pdf"], out / names["csv"], out / names["labels"]]
    paths[0].write_bytes(batch.pdf)
    paths[1].write_text(batch.address_csv, encoding="utf-8", newline="")
    paths[2].write_bytes(batch.labels_pdf)
    return paths


def build_cli(rt: Runtime, *, store: str | None, day: str | None, out: Path | None) -> None:
    """``followup letters build``: build (or bring up to date) each store's batch and write its files."""
    codes = [store] if store else list(rt.settings.stores)
    for code in codes:
        if code not in rt.settings.stores:
            raise click.UsageError(f"unknown store {code!r} (configured: {', '.join(rt.settings.stores)})")
    now = rt.clock.now()
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        raise click.BadParameter(f"not a date (YYYY-MM-DD): {day!r}", param_hint="--date") from None
    target = out or rt.settings.letters.out_dir
    for code in codes:
        the_day = when or now.astimezone(rt.settings.stores[code].timezone).date()
        with rt.sessions() as s:
            result = build_batch(s, rt.settings, code, the_day, now=now, actor="cli")
            s.commit()
            for case_id, reason in result.held:
                click.echo(f"{code}: letter of case {case_id} held for staff ({reason})", err=True)
            batch = result.batch or _unmailed_batch(s, code, the_day)
            if batch is None:
                click.echo(f"{code}: no letter queued on or before {the_day.isoformat()}: no PDF written")
                continue
            for path in write_batch(batch, code, target):
                click.echo(str(path))


def _unmailed_batch(session: Any, store_code: str, day: date) -> LetterBatch | None:
    """The day's latest batch not yet mailed (the CLI writes it again when nothing new came)."""
    return session.scalar(
        select(LetterBatch)
        .join(Store, Store.id == LetterBatch.store_id)
        .where(Store.code == store_code, LetterBatch.day == day, LetterBatch.status != "mailed")
        .order_by(LetterBatch.seq.desc())
        .limit(1)
    )


def build_due_batches(rt: Runtime, now: datetime) -> dict[str, Any]:
    """The worker's duty: each store's batch once a day, at or after ``letters.batch_time`` local.

    A day with a batch is not built again (staff may build more from the panel); a day with no
    letter yet is looked at again on the next tick.
    """
    built = letters = 0
    for code, store in rt.settings.stores.items():
        local = now.astimezone(store.timezone)
        if local.time() < rt.settings.letters.batch_time:
            continue
        with rt.sessions() as s:
            done = s.scalar(select(exists().where(
                LetterBatch.store_id == select(Store.id).where(Store.code == code).scalar_subquery(),
                LetterBatch.day == local.date(),
            )))
            if done:
                continue
            result: BuildResult = build_batch(s, rt.settings, code, local.date(), now=now, actor="worker")
            s.commit()
            if result.batch is not None:
                built += 1
                letters += result.added
    return {"letter_batches": built, "letters": letters}
