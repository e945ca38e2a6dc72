"""Raw records of a visits file: which kind it is, and its rows as lists of cells, streamed.

A *record source* is a function that opens the file afresh and returns an iterator over its rows
(the header row included), each a sequence of cell values. CSV cells are strings; XLSX cells are
what openpyxl gives (str, int, float, datetime, ``None``). XLSX files are opened with
``data_only=True``: a formula cell gives the value Excel last computed and showed, never the
formula, and nothing is ever evaluated here.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from followup.intake.records import UnusableFile

RecordSource = Callable[[], Iterator[Sequence[object]]]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
#: Refuse XLSX files that would unpack to more than this (a zip bomb, or far too big to be visits).
MAX_XLSX_UNPACKED_BYTES = 512 * 1024 * 1024


def sniff_kind(path: Path) -> str:
    """Return ``"csv"`` or ``"xlsx"`` from the file's first bytes (and its name when they disagree).

    Raises :class:`UnusableFile` for a missing or empty file, an old binary ``.xls`` workbook, or an
    ``.xlsx`` name on something that is not a zip archive.
    """
    if not path.exists():
        raise UnusableFile(f"file not found: {path}")
    if not path.is_file():
        raise UnusableFile(f"not a file: {path}")
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError as exc:
        raise UnusableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head:
        raise UnusableFile("empty file: no header row")
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE2_MAGIC):
        raise UnusableFile("binary file: old Excel .xls workbooks are not supported, save as .xlsx or CSV")
    if path.suffix.lower() in _XLSX_SUFFIXES:
        raise UnusableFile("binary file: not a valid XLSX workbook (not a zip archive)")
    return "csv"


def csv_source(path: Path, encoding: str) -> RecordSource:
    """A record source over a CSV file in ``encoding`` (comma-separated, Excel quoting)."""

    def records() -> Iterator[Sequence[object]]:
        with path.open("r", encoding=encoding, newline="") as stream:
            yield from csv.reader(stream)

    return records


class XlsxWorkbook:
    """An XLSX workbook opened read-only; :meth:`records` streams its active sheet."""

    def __init__(self, path: Path) -> None:
        """Open the workbook; raises :class:`UnusableFile` when it cannot be read as XLSX."""
        from openpyxl import load_workbook

        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise UnusableFile(f"binary file: not a valid XLSX workbook ({exc})") from exc
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise UnusableFile("XLSX workbook too large: split it into smaller files")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._book: Any = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, ...)
            raise UnusableFile(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
        sheet = self._book.active
        if sheet is None or not hasattr(sheet, "iter_rows"):
            sheet = next((ws for ws in self._book.worksheets if hasattr(ws, "iter_rows")), None)
        if sheet is None:
            self.close()
            raise UnusableFile("the XLSX workbook has no worksheet")
        self._sheet: Any = sheet

    def records(self) -> Iterator[Sequence[object]]:
        """The rows of the active sheet as tuples of cell values."""
        yield from self._sheet.iter_rows(values_only=True)

    def close(self) -> None:
        """Release the workbook's open zip file."""
        self._book.close()


def is_blank(cells: Sequence[object]) -> bool:
    """True when every cell is empty (``None`` or only whitespace)."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def csv_error(exc: csv.Error, row: int) -> UnusableFile:
    """The :class:`UnusableFile` for a CSV the ``csv`` module cannot parse at spreadsheet row ``row``."""
    return UnusableFile(f"malformed CSV near row {row}: {exc}")
