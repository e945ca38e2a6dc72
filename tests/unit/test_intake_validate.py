"""Validating visit rows: the shared samples end to end, each field's rules, and API objects."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup.intake import RowError, VisitRow, api_visit_to_raw, open_table, validate_row

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, tzinfo=UTC)
GOOD: dict[str, object] = {
    "store_code": "SZ01",
    "ro_number": "RO1",
    "customer_name": "张三",
    "mobile": "13800138000",
    "phone": "",
    "advisor_code": "SA01",
    "service_type": "保养",
    "delivered_at": "2026/11/20 16:30",
}


def store_tz(code: str) -> ZoneInfo | None:
    return {"SZ01": SHANGHAI, "LDN1": ZoneInfo("Europe/London")}.get(code)


def check(raw: dict[str, object], *, default_store: str | None = None, now: datetime = NOW) -> VisitRow:
    result = validate_row(2, raw, store_tz=store_tz, default_store=default_store, now=now)
    assert isinstance(result, VisitRow), result
    return result


def errors(
    raw: dict[str, object], *, default_store: str | None = None, now: datetime = NOW
) -> set[tuple[str, str]]:
    result = validate_row(2, raw, store_tz=store_tz, default_store=default_store, now=now)
    assert isinstance(result, list), result
    assert all(isinstance(e, RowError) and e.row == 2 for e in result)
    return {(e.field, e.reason) for e in result}


def sample(name: str) -> list[VisitRow | list[RowError]]:
    with open_table(SAMPLES / name) as table:
        return [
            validate_row(n, raw, store_tz=store_tz, default_store=None, now=NOW) for n, raw in table.rows()
        ]


# --- the shared samples ---------------------------------------------------------------------------


def test_dms_gbk_sample_all_valid() -> None:
    rows = sample("visits_dms_gbk.csv")
    assert len(rows) == 40 and all(isinstance(r, VisitRow) for r in rows)
    by_ro = {r.ro_number: r for r in rows if isinstance(r, VisitRow)}
    for ro, landline in (("RO26110007", "+8675526610006"), ("RO26110023", "+8675526610022")):
        assert (by_ro[ro].mobile, by_ro[ro].phone) == (None, landline)
    assert by_ro["RO26110012"].mobile == "+8613800130012"
    assert by_ro["RO26110031"].service_type == "internal"
    assert by_ro["RO26110003"].service_type == "insurance"  # 事故
    first = by_ro["RO26110001"]
    assert first.delivered_at == datetime(2026, 11, 18, 0, 40, tzinfo=UTC)  # 2026/11/18 08:40 local
    assert (first.mileage_km, first.language, first.plate, first.advisor_name) == (
        136133,
        "zh",
        "粤B6A879",
        "王强",
    )


def test_utf8_bom_sample_all_valid_with_the_right_instants() -> None:
    rows = sample("visits_utf8_bom.csv")
    assert len(rows) == 20 and all(isinstance(r, VisitRow) for r in rows)
    by_ro = {r.ro_number: r for r in rows if isinstance(r, VisitRow)}
    assert {ro for ro, r in by_ro.items() if r.language == "en"} == {"WO26110006", "WO26110015"}
    expected = {
        "WO26110001": datetime(2026, 11, 19, 0, 35),  # 2026-11-19T08:35:00+08:00
        "WO26110002": datetime(2026, 11, 19, 1, 28),  # 2026-11-19 09:28 local
        "WO26110003": datetime(2026, 11, 19, 2, 21),  # 2026-11-19T02:21:00Z
        "WO26110004": datetime(2026, 11, 19, 3, 14),  # 2026-11-19 11:14:00 local
        "WO26110005": datetime(2026, 11, 19, 4, 7),  # 2026/11/19 12:07 local
        "WO26110013": datetime(2026, 11, 20, 0, 34),  # 2026-11-20T00:34:00Z
    }
    for ro, instant in expected.items():
        assert by_ro[ro].delivered_at == instant.replace(tzinfo=UTC), ro
    assert by_ro["WO26110001"].mobile == "+8613800138000"
    assert by_ro["WO26110004"].service_type == "maintenance"  # 保养 under an English header
    assert by_ro["WO26110010"].phone == "+8675588881234"


def test_xlsx_sample_gives_the_same_visits_as_the_csv() -> None:
    from_csv, from_xlsx = sample("visits_utf8_bom.csv"), sample("visits.xlsx")
    assert len(from_xlsx) == 20
    for a, b in zip(from_csv, from_xlsx, strict=True):
        assert isinstance(a, VisitRow) and isinstance(b, VisitRow)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)


def test_errors_sample_rejects_exactly_the_five_bad_rows() -> None:
    rows = sample("visits_with_errors.csv")
    found = {(e.row, e.field) for r in rows if isinstance(r, list) for e in r}
    assert found == {
        (4, "ro_number"),
        (6, "mobile"),
        (8, "delivered_at"),
        (10, "service_type"),
        (12, "mobile"),
    }
    reasons = {e.row: e.reason for r in rows if isinstance(r, list) for e in r}
    assert reasons == {
        4: "missing",
        6: "not a valid mainland mobile number: 12345",
        8: "delivered in the future",
        10: "unknown service type: 洗车",
        12: "neither mobile nor landline",
    }
    valid = [r for r in rows if isinstance(r, VisitRow)]
    assert len(valid) == 7
    assert [(r.advisor_code, r.mileage_km) for r in valid if r.ro_number == "RO2611E0002"] == [
        ("SA02", 24049),
        ("SA03", 24059),
    ]


# --- field rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("maintenance", "maintenance"),
        ("Maintenance", "maintenance"),
        (" 保养 ", "maintenance"),
        ("repair", "repair"),
        ("维修", "repair"),
        ("warranty", "warranty"),
        ("保修", "warranty"),
        ("insurance", "insurance"),
        ("事故", "insurance"),
        ("保险", "insurance"),
        ("事故/保险", "insurance"),
        ("事故／保险", "insurance"),
        ("quick", "quick"),
        ("快修", "quick"),
        ("internal", "internal"),
        ("内部", "internal"),
        ("ＱＵＩＣＫ", "quick"),
    ],
)
def test_service_types(written: str, canonical: str) -> None:
    assert check({**GOOD, "service_type": written}).service_type == canonical


@pytest.mark.parametrize(
    ("written", "reason"), [("洗车", "unknown service type: 洗车"), ("", "missing"), (None, "missing")]
)
def test_bad_service_types(written: object, reason: str) -> None:
    assert errors({**GOOD, "service_type": written}) == {("service_type", reason)}


def test_store_from_row_else_default() -> None:
    assert check({**GOOD, "store_code": None}, default_store="SZ01").store_code == "SZ01"
    assert check({**GOOD, "store_code": "ＳＺ０１"}).store_code == "SZ01"
    assert check(GOOD, default_store="LDN1").store_code == "SZ01"
    assert errors({**GOOD, "store_code": ""}) == {("store_code", "missing")}
    assert errors({**GOOD, "store_code": "XX99"}) == {("store_code", "unknown store: XX99")}


def test_delivered_at_uses_the_store_zone() -> None:
    london = check({**GOOD, "store_code": "LDN1"})
    assert london.delivered_at == datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    assert check(GOOD).delivered_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_future_tolerance_is_ten_minutes() -> None:
    delivered = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert check(GOOD, now=delivered - timedelta(minutes=10)).delivered_at == delivered
    assert errors(GOOD, now=delivered - timedelta(minutes=11)) == {
        ("delivered_at", "delivered in the future")
    }
    assert check(GOOD, now=datetime(2026, 11, 20, 8, 20)).ro_number == "RO1"  # a naive now is UTC
    assert errors(GOOD, now=datetime(2026, 11, 20, 8, 19)) == {("delivered_at", "delivered in the future")}


@pytest.mark.parametrize(
    ("value", "reason"),
    [("11/19 10:00", "no year"), ("", "missing"), ("soon", "not a date and time: soon")],
)
def test_bad_delivery_times(value: object, reason: str) -> None:
    assert errors({**GOOD, "delivered_at": value}) == {("delivered_at", reason)}


@pytest.mark.parametrize(
    ("mobile", "phone", "expected"),
    [
        ("13800138000", "", ("+8613800138000", None)),
        ("", "0755-26605049", (None, "+8675526605049")),
        ("", "13800138001", ("+8613800138001", None)),  # a mobile in the phone column
        ("13800138000", "13800138001", ("+8613800138000", "+8613800138001")),
        ("0755-26605049", None, (None, "+8675526605049")),  # a landline in the mobile column
        (13800138002, None, ("+8613800138002", None)),
        (13800138002.0, None, ("+8613800138002", None)),
        ("１３８００１３８０００", None, ("+8613800138000", None)),
    ],
)
def test_phone_columns(mobile: object, phone: object, expected: tuple[str | None, str | None]) -> None:
    visit = check({**GOOD, "mobile": mobile, "phone": phone})
    assert (visit.mobile, visit.phone) == expected


@pytest.mark.parametrize(
    ("mobile", "phone", "expected"),
    [
        ("", "", {("mobile", "neither mobile nor landline")}),
        (None, None, {("mobile", "neither mobile nor landline")}),
        ("12345", "", {("mobile", "not a valid mainland mobile number: 12345")}),
        ("12345", "0755-26605049", {("mobile", "not a valid mainland mobile number: 12345")}),
        ("13800138000", "26605049", {("phone", "not a valid phone number: 26605049")}),
        ("0755-26605048", "0755-26605049", {("mobile", "not a valid mainland mobile number: 0755-26605048")}),
    ],
)
def test_bad_phone_columns(mobile: object, phone: object, expected: set[tuple[str, str]]) -> None:
    assert errors({**GOOD, "mobile": mobile, "phone": phone}) == expected


@pytest.mark.parametrize(
    ("value", "km"),
    [
        ("59455", 59455),
        (59455, 59455),
        (59455.0, 59455),
        ("59,455", 59455),
        ("59455 km", 59455),
        ("５９４５５", 59455),
        ("", None),
        (None, None),
        ("0", 0),
    ],
)
def test_mileage(value: object, km: int | None) -> None:
    assert check({**GOOD, "mileage_km": value}).mileage_km == km


@pytest.mark.parametrize("value", ["abc", -1, 1.5, "1e9999999", True, "12.5", float("inf"), "NaN"])
def test_bad_mileage(value: object) -> None:
    assert {field for field, _ in errors({**GOOD, "mileage_km": value})} == {"mileage_km"}


@pytest.mark.parametrize(
    ("value", "language"), [(None, "zh"), ("", "zh"), ("zh", "zh"), ("EN", "en"), (" en ", "en")]
)
def test_language(value: object, language: str) -> None:
    assert check({**GOOD, "language": value}).language == language


def test_bad_language() -> None:
    assert errors({**GOOD, "language": "fr"}) == {("language", "unknown language: fr (expected zh or en)")}


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-Lee", '@HYPERLINK("x")'])
def test_formula_like_text_is_kept_as_text(text: str) -> None:
    assert check({**GOOD, "customer_name": text, "address": text}).customer_name == text


def test_text_cleaning() -> None:
    visit = check(
        {
            **GOOD,
            "ro_number": " ＲＯ１２３ ",
            "customer_name": " 张\x00三 ",
            "plate": " 粤b 12345 ",
            "vin": "lsv3esf44ta913909",
            "advisor_code": "ＳＡ０１",
            "advisor_name": "  ",
            "address": None,
        }
    )
    assert (visit.ro_number, visit.customer_name, visit.plate) == ("RO123", "张三", "粤B12345")
    assert (visit.vin, visit.advisor_code, visit.advisor_name, visit.address) == (
        "LSV3ESF44TA913909",
        "SA01",
        None,
        None,
    )
    assert check({**GOOD, "ro_number": 26110001.0, "advisor_code": 7}).ro_number == "26110001"


@pytest.mark.parametrize(
    ("field", "length", "limit"), [("customer_name", 5000, 200), ("address", 301, 300), ("ro_number", 65, 64)]
)
def test_too_long_fields(field: str, length: int, limit: int) -> None:
    assert errors({**GOOD, field: "x" * length}) == {
        (field, f"too long ({length} characters, at most {limit})")
    }


def test_longest_accepted_address() -> None:
    assert check({**GOOD, "address": "路" * 300}).address == "路" * 300


def test_all_errors_of_a_row_are_returned() -> None:
    bad = {
        "store_code": "XX",
        "mobile": "1",
        "service_type": "洗车",
        "delivered_at": "2030-01-01 10:00",
        "mileage_km": "lots",
        "language": "fr",
    }
    assert {field for field, _ in errors(bad)} == {
        "store_code",
        "ro_number",
        "customer_name",
        "mobile",
        "advisor_code",
        "service_type",
        "delivered_at",
        "mileage_km",
        "language",
    }


# --- the JSON API's visit object ------------------------------------------------------------------

API_VISIT: dict[str, object] = {
    "store_code": "SZ01",
    "ro_number": "RO7",
    "customer": {
        "name": "Daniel Wong",
        "mobile": "+86 138 0013 8005",
        "phone": None,
        "address": "深圳市福田区",
        "language": "en",
        "vip": True,
    },
    "vehicle": {"plate": "粤BD37215", "vin": "LSVDGAKG0TC901396", "model": "途观L"},
    "advisor": {"code": "SA01", "name": "王强"},
    "service_type": "maintenance",
    "delivered_at": "2026-11-19T13:00:00+08:00",
    "mileage_km": "92566",
    "source": "dms",
}


def test_api_visit_round_trip() -> None:
    raw, problems = api_visit_to_raw(API_VISIT)
    assert problems == []
    visit = check(raw)
    assert (visit.customer_name, visit.mobile, visit.language) == ("Daniel Wong", "+8613800138005", "en")
    assert (visit.plate, visit.vehicle_model, visit.advisor_name) == ("粤BD37215", "途观L", "王强")
    assert (visit.delivered_at, visit.mileage_km) == (datetime(2026, 11, 19, 5, 0, tzinfo=UTC), 92566)


def test_api_numbers_accepted_where_sensible() -> None:
    obj = {
        **API_VISIT,
        "ro_number": 26110007,
        "mileage_km": 92566.0,
        "customer": {"name": "王", "mobile": 13800138005},
    }
    raw, problems = api_visit_to_raw(obj)
    assert problems == []
    assert check(raw).ro_number == "26110007"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"customer": "Daniel"}, [("customer", "must be an object")]),
        ({"vehicle": ["粤B1"]}, [("vehicle", "must be an object")]),
        ({"ro_number": ["RO7"]}, [("ro_number", "must be a string or a whole number")]),
        ({"ro_number": 1.5}, [("ro_number", "must be a string or a whole number")]),
        ({"service_type": 1}, [("service_type", "must be a string")]),
        ({"delivered_at": 46345.5}, [("delivered_at", "must be a string (ISO 8601 date and time)")]),
        ({"mileage_km": True}, [("mileage_km", "must be a number")]),
        (
            {"advisor": {"code": {"id": 1}, "name": "王强"}},
            [("advisor.code", "must be a string or a whole number")],
        ),
    ],
)
def test_api_type_errors(change: dict[str, object], expected: list[tuple[str, str]]) -> None:
    raw, problems = api_visit_to_raw({**API_VISIT, **change})
    assert problems == expected


@pytest.mark.parametrize("obj", [None, [], "visit", 3])
def test_api_visit_not_an_object(obj: object) -> None:
    assert api_visit_to_raw(obj) == ({}, [("visit", "must be an object")])


def test_api_missing_parts_are_missing_fields() -> None:
    raw, problems = api_visit_to_raw({"store_code": "SZ01"})
    assert problems == []
    assert {field for field, _ in errors(raw)} == {
        "ro_number",
        "customer_name",
        "mobile",
        "advisor_code",
        "service_type",
        "delivered_at",
    }
