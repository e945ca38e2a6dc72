"""`followup import-visits`: stream a CSV/XLSX into visits and cases, with a row report.

Rows are validated one at a time and written in batches of :data:`BATCH` per transaction, so a
100,000-row file never sits in memory as objects. A rejected row never stops the others.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from followup.clock import Clock
from followup.intake.columns import FIELDS
from followup.intake.records import RowError, UnusableFile, VisitRow
from followup.intake.table import open_table
from followup.intake.validate import validate_row
from followup.intake.visit_upsert import accept_visit, accept_visits
from followup.runtime import sync_stores
from followup.settings import Settings

BATCH = 1000


@dataclass
class ImportReport:
    """What an import did; ``exit_code`` follows CONTRACT §3."""

    path: Path
    encoding: str | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    cases_opened: int = 0
    excluded: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: accepted rows that repeat an earlier row's (store, RO number) in the same file: the later
    #: row updated the visit (as importing it again would); counted in the summary, never rejected
    #: (the shared samples' rule: "a repeat updates, it is not an error")
    repeated: list[RowError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    #: rows that passed validation
    valid: int = 0
    #: some batches are already committed (an error after this point cannot undo them)
    committed: bool = False

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def write_csv(self, out: Path) -> None:
        """The report of CONTRACT §4: ``row, field, reason``; field named as in the file."""
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(["row", "field", "reason"])
            for e in self.errors:
                w.writerow([e.row, self.headers.get(e.field, e.field), e.reason])

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"{self.path.name}: {self.rows} rows checked (dry run, nothing imported): "
                f"{self.valid} would be imported, {self.rejected_rows} rows rejected"
            )
        verb = "imported"
        return (
            f"{self.path.name}: {self.rows} rows, {verb} {self.created} new and {self.updated} updated visits, "
            f"{self.cases_opened} follow-up cases opened, {self.excluded} excluded service type(s), "
            f"{self.rejected_rows} rows rejected"
        ) + (f"; {len(self.repeated)} rows repeated an earlier RO number of the file and updated that visit"
             if self.repeated else "")


def import_visits(
    path: Path,
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Clock,
    store: str | None = None,
    dry_run: bool = False,
    actor: str = "system",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import one file. Raises ``UnusableFile`` (nothing imported) for a file that cannot be read."""
    if store is not None and store not in settings.stores:
        raise UnusableFile(f"unknown store {store!r} (configured: {', '.join(settings.stores)})")
    report = ImportReport(path=path, dry_run=dry_run)
    now = clock.now()

    def store_tz(code: str) -> ZoneInfo | None:
        cfg = settings.stores.get(code)
        return cfg.timezone if cfg else None

    with open_table(path, store_given=store is not None) as table:
        report.encoding = table.encoding
        report.headers = {f: table.header_for(f) for f in FIELDS}
        # closing the session without a commit rolls back whatever the batch had not committed
        with sessions() as session:
            store_ids = sync_stores(session, settings)
            pending: list[VisitRow] = []
            first_rows: dict[int, int] = {}

            def flush_batch() -> None:
                if pending and not dry_run:
                    _accept_batch(session, settings, store_ids, pending, report, path, actor, now)
                    session.commit()
                    session.expunge_all()
                    report.committed = True
                pending.clear()

            try:
                for rownum, raw in table.rows():
                    report.rows += 1
                    result = validate_row(rownum, raw, store_tz=store_tz, default_store=store, now=now)
                    if isinstance(result, list):
                        report.errors.extend(result)
                    else:
                        report.valid += 1
                        pending.append(result)
                        _note_repeat(first_rows, result, report)
                    if len(pending) >= BATCH:
                        flush_batch()
                    if progress and report.rows % BATCH == 0:
                        progress(report.rows, table.total_rows)
                flush_batch()
            except UnusableFile as exc:
                # The file broke part-way (e.g. a malformed CSV line deep inside). Batches already
                # committed stay; the break is reported like a bad row so nothing is claimed
                # that did not happen. Before any commit it is a plain unusable file.
                if not report.committed:
                    raise
                pending.clear()
                session.rollback()
                report.errors.append(RowError(report.rows + 2, "file", f"reading stopped here: {exc}"))
            if progress:
                progress(report.rows, table.total_rows)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    return report


def _note_repeat(first_rows: dict[int, int], row: VisitRow, report: ImportReport) -> None:
    """Remember where each (store, RO number) first appeared; note a later row that repeats it."""
    key = hash((row.store_code, row.ro_number))  # an int per row keeps a large file's memory small
    first = first_rows.setdefault(key, row.row)
    if first != row.row:
        report.repeated.append(RowError(row.row, "ro_number", f"same RO number as row {first} of this "
                                                              "file; this later row updated that visit"))


def _accept_batch(
    session: Session,
    settings: Settings,
    store_ids: dict[str, int],
    rows: list[VisitRow],
    report: ImportReport,
    path: Path,
    actor: str,
    now: datetime,
) -> None:
    """Accept one batch, store by store; a batch the database refuses is retried row by row."""
    by_store: dict[str, list[VisitRow]] = {}
    for row in rows:
        by_store.setdefault(row.store_code, []).append(row)
    for code, group in by_store.items():
        try:
            with session.begin_nested():
                accepted = accept_visits(session, store_ids[code], settings.stores[code], group,
                                         source=f"import:{path.name}", actor=actor, now=now)
        except (DataError, IntegrityError):
            # Some row the database refuses (e.g. a value too long for its column): find it by
            # accepting the rows one at a time, each in its own savepoint, and report it like any
            # other bad row; the rest of the batch is kept.
            for row in group:
                _accept_one(session, settings, store_ids, row, report, path, actor, now)
            continue
        for acc in accepted:
            _count(report, acc.created, acc.case_id is not None)


def _count(report: ImportReport, created: bool, case_opened: bool) -> None:
    if created:
        report.created += 1
        if case_opened:
            report.cases_opened += 1
        else:
            report.excluded += 1
    else:
        report.updated += 1


def _accept_one(
    session: Session,
    settings: Settings,
    store_ids: dict[str, int],
    row: VisitRow,
    report: ImportReport,
    path: Path,
    actor: str,
    now: datetime,
) -> None:
    cfg = settings.stores[row.store_code]
    try:
        with session.begin_nested():
            acc = accept_visit(
                session, store_ids[row.store_code], cfg, row, source=f"import:{path.name}", actor=actor, now=now
            )
    except (DataError, IntegrityError) as exc:
        report.errors.append(RowError(row.row, "ro_number", f"could not be stored: {exc.orig}"))
        return
    _count(report, acc.created, acc.case is not None)
