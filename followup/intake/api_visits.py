"""Visits posted to the JSON API: validated like file rows, stored all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from followup.intake.payload import API_FIELD_PATHS, api_visit_to_raw, unknown_fields
from followup.intake.records import RowError, VisitRow
from followup.intake.validate import validate_row
from followup.intake.visit_upsert import accept_visit
from followup.privacy import mask_in_text
from followup.runtime import sync_stores
from followup.settings import Settings

MAX_BATCH = 1000


@dataclass(frozen=True)
class ApiError:
    index: int | None
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


def split_body(body: object) -> tuple[list[object], bool] | ApiError:
    """One visit object or ``{"visits": [...]}`` -> (items, is_batch)."""
    if isinstance(body, dict) and "visits" in body:
        items = body["visits"]
        if not isinstance(items, list):
            return ApiError(None, "visits", "must be a list of visit objects")
        if not items:
            return ApiError(None, "visits", "must not be empty")
        if len(items) > MAX_BATCH:
            return ApiError(None, "visits", f"at most {MAX_BATCH} visits per request")
        return items, True
    if isinstance(body, dict):
        return [body], False
    return ApiError(None, "body", "expected a visit object or {\"visits\": [...]}")


_PHONE_FIELDS = ("mobile", "phone")
_PHONE_PATHS = frozenset({"customer.mobile", "customer.phone"})


def _reported(path: str, given: bool, typed: set[str]) -> bool:
    """True when ``path``'s problem is already reported as a type error (``given``: it had a value)."""
    if path in typed or any(path.startswith(t + ".") for t in typed):
        return True
    # "neither mobile nor landline" after a mobile or phone of the wrong type
    return path in _PHONE_PATHS and not given and bool(typed & _PHONE_PATHS)


def _validate(
    index: int, raw: dict[str, object], store_tz: Callable[[str], ZoneInfo | None], now: datetime
) -> VisitRow | list[RowError]:
    try:
        return validate_row(index, raw, store_tz=store_tz, default_store=None, now=now)
    except OverflowError:
        # A delivery time at the edge of the calendar (year 1, 9999) that cannot be moved to UTC.
        result = validate_row(index, {**raw, "delivered_at": None}, store_tz=store_tz, default_store=None, now=now)
        others = [e for e in result if e.field != "delivered_at"] if isinstance(result, list) else []
        return [RowError(index, "delivered_at", "date out of range"), *others]


def accept_api_visits(
    session: Session, settings: Settings, items: list[object], *, token_name: str, now: datetime
) -> tuple[list[dict[str, Any]], list[ApiError]]:
    """Validate every item; store them all only when every one is valid. The caller commits."""

    def store_tz(code: str) -> ZoneInfo | None:
        cfg = settings.stores.get(code)
        return cfg.timezone if cfg else None

    rows: list[VisitRow] = []
    errors: list[ApiError] = []
    for index, item in enumerate(items):
        raw, type_errors = api_visit_to_raw(item)
        errors.extend(ApiError(index, API_FIELD_PATHS.get(f, f), m) for f, m in type_errors)
        if any(path == "visit" for path, _ in type_errors):
            continue
        result = _validate(index, raw, store_tz, now)
        if isinstance(result, VisitRow):
            if not type_errors:
                rows.append(result)
            continue
        # Every problem of the visit at once, but not twice: a field with a wrong JSON type (or
        # inside a part that is not an object) was left out, so its "missing" is dropped.
        typed = {path for path, _ in type_errors}
        for e in result:
            path = API_FIELD_PATHS.get(e.field, e.field)
            if _reported(path, raw.get(e.field) is not None, typed):
                continue
            message = mask_in_text(e.reason, only_valid=False) if e.field in _PHONE_FIELDS else e.reason
            errors.append(ApiError(index, path, message))
    if errors:
        return [], errors
    store_ids = sync_stores(session, settings)
    results = []
    ignored = {index: unknown_fields(item) for index, item in enumerate(items)}
    for index, row in enumerate(rows):
        acc = accept_visit(
            session, store_ids[row.store_code], settings.stores[row.store_code], row,
            source=f"api:{token_name}", actor=f"api:{token_name}", now=now,
        )
        results.append(
            {
                "store_code": row.store_code,
                "ro_number": row.ro_number,
                "created": acc.created,
                "case_state": acc.case.state if acc.case else None,
                **({"ignored_fields": ignored[index]} if ignored[index] else {}),
            }
        )
    return results, []
