"""The JSON API's visit object (CONTRACT §4), flattened into the raw row :func:`validate_row` takes."""

from __future__ import annotations

from collections.abc import Mapping

#: Canonical field → where it sits in the API's visit object (nested objects joined by ``.``).
API_FIELD_PATHS: dict[str, str] = {
    "store_code": "store_code",
    "ro_number": "ro_number",
    "customer_name": "customer.name",
    "mobile": "customer.mobile",
    "phone": "customer.phone",
    "address": "customer.address",
    "language": "customer.language",
    "plate": "vehicle.plate",
    "vin": "vehicle.vin",
    "vehicle_model": "vehicle.model",
    "advisor_code": "advisor.code",
    "advisor_name": "advisor.name",
    "service_type": "service_type",
    "delivered_at": "delivered_at",
    "mileage_km": "mileage_km",
}

_INTEGER_OK = {"store_code", "ro_number", "mobile", "phone", "advisor_code"}
_NESTED = ("customer", "vehicle", "advisor")


def _check(field: str, value: object) -> str | None:
    """The type error of one leaf value, or ``None`` when its JSON type is acceptable."""
    if value is None or isinstance(value, str):
        return None
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if field == "mileage_km":
        return None if is_number else "must be a number"
    if field in _INTEGER_OK and isinstance(value, int) and not isinstance(value, bool):
        return None
    if field == "delivered_at":
        return "must be a string (ISO 8601 date and time)"
    return "must be a string or a whole number" if field in _INTEGER_OK else "must be a string"


def unknown_fields(obj: object) -> list[str]:
    """The paths of keys the API does not know (``"note"``, ``"customer.wechat"``): ignored, but named
    back to the sender so that a misspelt field (``"adress"``) does not vanish unnoticed."""
    if not isinstance(obj, Mapping):
        return []
    known = set(API_FIELD_PATHS.values())
    found = [str(k) for k in obj if str(k) not in known and k not in _NESTED]
    for name in _NESTED:
        part = obj.get(name)
        if isinstance(part, Mapping):
            found += [f"{name}.{k}" for k in part if f"{name}.{k}" not in known]
    return sorted(found)


def api_visit_to_raw(obj: object) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """Flatten one API visit object into ``({canonical field: raw value}, type errors)``.

    Type errors are ``(path, message)`` pairs where ``path`` is the field's place in the JSON
    (``"customer.mobile"``, or ``"customer"`` for a nested part that is not an object, ``"visit"``
    for a visit that is not an object); see :data:`API_FIELD_PATHS` to name :func:`validate_row`'s
    errors the same way. A field with a type error is left out of the raw dict, so ``validate_row``
    may report it again as ``missing``: callers drop those duplicates. Numbers are accepted for
    codes, RO numbers and phone numbers, numeric strings for ``mileage_km``; unknown keys are ignored.
    """
    if not isinstance(obj, Mapping):
        return {}, [("visit", "must be an object")]
    errors: list[tuple[str, str]] = []
    parts: dict[str, Mapping[str, object]] = {}
    for name in _NESTED:
        part = obj.get(name)
        if part is None:
            parts[name] = {}
        elif isinstance(part, Mapping):
            parts[name] = part
        else:
            parts[name] = {}
            errors.append((name, "must be an object"))
    raw: dict[str, object] = {}
    for field, path in API_FIELD_PATHS.items():
        head, _, leaf = path.partition(".")
        value = parts[head].get(leaf) if leaf else obj.get(head)
        problem = _check(field, value)
        if problem is None:
            raw[field] = value
        else:
            errors.append((path, problem))
    return raw, errors
