"""The value types of visit intake: the unusable-file error, a row error and a validated visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class UnusableFile(Exception):
    """The whole file cannot be imported.

    ``str(exc)`` is one line saying why; it is shown to the user as is and the import exits
    with status 2 without importing anything.
    """


@dataclass(frozen=True)
class RowError:
    """One problem with one field of one row.

    ``row`` is the spreadsheet row number (the header is row 1, the first data row is 2); for the
    JSON API it is the 0-based index of the visit in the request. ``field`` is the canonical field
    name (the importer maps it back to the file's header), ``reason`` a short English reason.
    """

    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class VisitRow:
    """A visit that passed validation, with every value normalised.

    Phone numbers are E.164 (``+8613800138000``); ``delivered_at`` is timezone-aware UTC;
    ``service_type`` is one of ``maintenance``, ``repair``, ``warranty``, ``insurance``, ``quick``,
    ``internal``; ``language`` is ``zh`` or ``en``.
    """

    row: int
    store_code: str
    ro_number: str
    customer_name: str
    mobile: str | None
    phone: str | None
    address: str | None
    plate: str | None
    vin: str | None
    vehicle_model: str | None
    advisor_code: str
    advisor_name: str | None
    service_type: str
    delivered_at: datetime
    mileage_km: int | None
    language: str
