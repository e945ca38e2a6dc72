"""Validating one raw visit row (from a file or the JSON API) into a :class:`VisitRow`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import followup.intake.cells as cells
from followup.intake.phones import LANDLINE, MOBILE, normalise_phone
from followup.intake.records import RowError, VisitRow
from followup.intake.times import parse_delivered_at
from followup.settings import DEFAULT_TIMEZONE

#: How far in the future a delivery time may lie (clock skew between the DMS and us).
FUTURE_TOLERANCE = timedelta(minutes=10)
#: The zone used to check the format of ``delivered_at`` when the row's store is unknown.
FALLBACK_TZ = ZoneInfo(DEFAULT_TIMEZONE)


class _Row:
    """The state of one row being validated: its raw cells and the errors found so far."""

    def __init__(self, number: int, raw: Mapping[str, object]) -> None:
        self.number = number
        self.raw = raw
        self.errors: list[RowError] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(RowError(self.number, field, reason))

    def failed(self, field: str) -> bool:
        return any(error.field == field for error in self.errors)

    def text(self, field: str, *, nfkc: bool = False, required: bool = False) -> str | None:
        """The cleaned text of ``field``; records ``too long`` or (when required) ``missing``."""
        try:
            value = cells.cell_text(self.raw.get(field), field, nfkc=nfkc)
        except ValueError as exc:
            self.fail(field, str(exc))
            return None
        if value is None and required:
            self.fail(field, "missing")
        return value

    def compact(self, field: str) -> str | None:
        """A code written with optional spaces (plate, VIN): NFKC, no spaces, upper case."""
        value = self.text(field, nfkc=True)
        return "".join(value.split()).upper() if value else None


def _phones(row: _Row) -> tuple[str | None, str | None]:
    """``(mobile, phone)`` in E.164 from the ``mobile`` and ``phone`` cells, recording errors."""
    mobile_text, phone_text = row.text("mobile"), row.text("phone")
    mobile = phone = None
    if mobile_text is not None:
        number, kind = normalise_phone(mobile_text)
        if kind == MOBILE:
            mobile = number
        elif kind == LANDLINE and phone_text is None:
            phone = number  # a landline in the mobile column, and no other landline: keep it
        else:
            row.fail("mobile", f"not a valid mainland mobile number: {mobile_text}")
    if phone_text is not None:
        number, kind = normalise_phone(phone_text)
        if kind == MOBILE and mobile_text is None:
            mobile = number  # a mobile written in the phone column
        elif kind is not None:
            phone = number
        else:
            row.fail("phone", f"not a valid phone number: {phone_text}")
    if mobile_text is None and phone_text is None and not (row.failed("mobile") or row.failed("phone")):
        row.fail("mobile", "neither mobile nor landline")
    return mobile, phone


def _store(
    row: _Row, default_store: str | None, store_tz: Callable[[str], ZoneInfo | None]
) -> tuple[str, ZoneInfo]:
    """The row's store code (or the default one) and its zone; the fallback zone when unknown."""
    store = row.text("store_code", nfkc=True)
    if store is None and not row.failed("store_code"):
        store = (default_store or "").strip() or None
        if store is None:
            row.fail("store_code", "missing")
    if store is None:
        return "", FALLBACK_TZ
    zone = store_tz(store)
    if zone is None:
        row.fail("store_code", f"unknown store: {store}")
        return store, FALLBACK_TZ
    return store, zone


def validate_row(
    row: int,
    raw: Mapping[str, object],
    *,
    store_tz: Callable[[str], ZoneInfo | None],
    default_store: str | None,
    now: datetime,
) -> VisitRow | list[RowError]:
    """Validate and normalise one visit; return the :class:`VisitRow` or *all* of the row's errors.

    ``raw`` maps canonical field names to raw cell values (see :meth:`Table.rows` and
    :func:`api_visit_to_raw`). ``store_tz`` gives a store's zone, ``None`` for an unknown store;
    ``default_store`` is used when the row has no store code (``--store``). ``now`` is aware (a
    naive value is taken as UTC); a delivery more than 10 minutes after it is rejected.
    """
    state = _Row(row, raw)
    store_code, zone = _store(state, default_store, store_tz)
    ro_number = state.text("ro_number", nfkc=True, required=True)
    customer_name = state.text("customer_name", required=True)
    mobile, phone = _phones(state)
    address = state.text("address")
    plate, vin = state.compact("plate"), state.compact("vin")
    vehicle_model = state.text("vehicle_model")
    advisor_code = state.text("advisor_code", nfkc=True, required=True)
    advisor_name = state.text("advisor_name")

    service_type = None
    service_text = state.text("service_type", nfkc=True, required=True)
    if service_text is not None:
        try:
            service_type = cells.service_type(service_text)
        except ValueError as exc:
            state.fail("service_type", str(exc))

    delivered_at = None
    try:
        delivered_at = parse_delivered_at(raw.get("delivered_at"), zone)
    except ValueError as exc:
        state.fail("delivered_at", str(exc))
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if delivered_at is not None and delivered_at > now + FUTURE_TOLERANCE:
        state.fail("delivered_at", "delivered in the future")

    mileage_km = language = None
    try:
        mileage_km = cells.mileage(raw.get("mileage_km"))
    except ValueError as exc:
        state.fail("mileage_km", str(exc))
    try:
        language = cells.language(state.text("language", nfkc=True))
    except ValueError as exc:
        state.fail("language", str(exc))

    if state.errors:
        return state.errors
    assert ro_number and customer_name and advisor_code and service_type and delivered_at and language
    return VisitRow(
        row=row,
        store_code=store_code,
        ro_number=ro_number,
        customer_name=customer_name,
        mobile=mobile,
        phone=phone,
        address=address,
        plate=plate,
        vin=vin,
        vehicle_model=vehicle_model,
        advisor_code=advisor_code,
        advisor_name=advisor_name,
        service_type=service_type,
        delivered_at=delivered_at,
        mileage_km=mileage_km,
        language=language,
    )
