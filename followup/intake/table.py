"""Opening a visits file (CSV or XLSX): headers mapped to canonical fields, rows streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from followup.intake.columns import map_headers
from followup.intake.encoding import detect_encoding
from followup.intake.records import UnusableFile
from followup.intake.sources import RecordSource, XlsxWorkbook, csv_error, csv_source, is_blank, sniff_kind


class Table:
    """An opened CSV or XLSX file: headers mapped, rows streamed.

    Built by :func:`open_table`, which has already read the whole file once (to check its
    encoding and count its rows), so every problem with the file as a whole is known before the
    first row is returned.
    """

    def __init__(
        self,
        path: Path,
        kind: str,
        encoding: str | None,
        source: RecordSource,
        *,
        store_given: bool,
        workbook: XlsxWorkbook | None = None,
    ) -> None:
        """Read the header row and count the data rows; raises :class:`UnusableFile`."""
        self.path = path
        self.kind = kind
        self.encoding = encoding
        self._source = source
        self._workbook = workbook
        self._open: list[Iterator[Sequence[object]]] = []
        self.header_row = 0
        self._columns: dict[int, tuple[str, str]] = {}
        self.total_rows = 0
        try:
            self._scan(store_given)
        except BaseException:
            self.close()
            raise

    def _numbered(self) -> Iterator[tuple[int, Sequence[object]]]:
        """All records, numbered as a spreadsheet shows them (the first row is 1)."""
        records = self._source()
        self._open.append(records)
        number = 0
        try:
            for number, cells in enumerate(records, start=1):
                yield number, cells
        except csv.Error as exc:
            raise csv_error(exc, number + 1) from exc
        finally:
            if records in self._open:
                self._open.remove(records)
            close = getattr(records, "close", None)
            if close is not None:
                close()

    def _scan(self, store_given: bool) -> None:
        for number, cells in self._numbered():
            if not self.header_row:
                if is_blank(cells):
                    continue
                self.header_row = number
                self._columns = map_headers(list(cells), store_given=store_given)
            elif not is_blank(cells):
                self.total_rows += 1
        if not self.header_row:
            raise UnusableFile("empty file: no header row")

    def header_for(self, field: str) -> str:
        """The column's name as written in the file (fallback: the canonical field name)."""
        for mapped, written in self._columns.values():
            if mapped == field:
                return written or field
        return field

    @property
    def fields(self) -> tuple[str, ...]:
        """The canonical fields this file has a column for, in column order."""
        return tuple(field for field, _ in self._columns.values())

    def rows(self) -> Iterator[tuple[int, dict[str, object]]]:
        """Yield ``(spreadsheet row number, {canonical field: raw cell value})`` for each data row.

        Streams the file; fully empty rows are skipped (their numbers are not reused). A field whose
        cell is absent from a short row has the value ``None``.
        """
        for number, cells in self._numbered():
            if number <= self.header_row or is_blank(cells):
                continue
            width = len(cells)
            yield (
                number,
                {
                    field: (cells[index] if index < width else None)
                    for index, (field, _) in self._columns.items()
                },
            )

    def close(self) -> None:
        """Close the file (and any iteration still open over it)."""
        for records in list(self._open):
            close = getattr(records, "close", None)
            if close is not None:
                close()
        self._open.clear()
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def __enter__(self) -> Table:
        """Use the table in a ``with`` block; it is closed on leaving."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the table."""
        self.close()


#: the largest file accepted (about 300,000 visits): larger ones are refused before any row is read
MAX_FILE_BYTES = 50 * 2**20


def open_table(path: str | Path, *, store_given: bool = False) -> Table:
    """Open a CSV or XLSX visits file, check it as a whole and map its header row.

    ``store_given`` makes the ``store_code`` column optional (the store comes from ``--store``).
    Raises :class:`UnusableFile` with a one-line reason when nothing of the file can be imported.
    """
    file = Path(path)
    kind = sniff_kind(file)
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:  # a store's export is a few MB; this is a wrong file or years at once
        raise UnusableFile(f"file too large ({size / 2**20:.0f} MB, at most {MAX_FILE_BYTES // 2**20} MB): "
                           "split it into smaller files")
    if kind == "xlsx":
        workbook = XlsxWorkbook(file)
        return Table(file, "xlsx", None, workbook.records, store_given=store_given, workbook=workbook)
    encoding = detect_encoding(file)
    return Table(file, "csv", encoding, csv_source(file, encoding), store_given=store_given)
