"""Bad input to ``POST /api/v1/visits`` (issue #10): a clear answer each time, nothing stored half.

Already covered in ``tests/web/test_api_visits.py``: deeply nested JSON (100,000 levels, 422),
a body over 2 MB (413), the wrong content type (415), numbers for codes. Here: a 10 MB body,
10,000 levels inside a visit (422), numbers written as strings, and unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup.accounts import create_token
from followup.models import Customer, Visit
from followup.runtime import Runtime
from followup.web import create_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def visit(ro: str = "RO-BAD-0001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_code": "SZ01", "ro_number": ro,
        "customer": {"name": "张伟", "mobile": "+86 138 0013 8000", "address": "深圳市南山区科技园北区松坪山路3号"},
        "advisor": {"code": "SA01", "name": "王强"}, "service_type": "maintenance",
        "delivered_at": "2026-11-19T10:30:00+08:00", "mileage_km": 35210,
    }
    body.update(changes)
    return body


@pytest.fixture
def client(rt: Runtime) -> Iterator[FlaskClient]:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        token = create_token(s, "dms", now=NOW)
        s.commit()
    with create_app(runtime=rt).test_client() as c:
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        yield c


def visits(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Visit)) or 0


def test_a_10_mb_body_is_413_and_stores_nothing(rt: Runtime, client: FlaskClient) -> None:
    body = json.dumps({"visits": [visit(f"RO-{i}", note="x" * 5000) for i in range(2_000)]})
    assert len(body) > 10 * 2**20
    resp = client.post("/api/v1/visits", data=body, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "Request Entity Too Large"
    assert visits(rt) == 0


def test_ten_thousand_levels_inside_a_visit_are_refused_as_a_body_error(rt: Runtime, client: FlaskClient) -> None:
    deep = '{"x": ' * 10_000 + "1" + "}" * 10_000
    for field in ('"service_type": "maintenance"', '"mileage_km": 35210'):
        body = json.dumps(visit()).replace(field, f"{field.split(':')[0]}: {deep}")
        resp = client.post("/api/v1/visits", data=body, content_type="application/json")
        assert resp.status_code == 422  # not a 500: the parser's recursion limit is answered as bad JSON
        [error] = resp.get_json()["errors"]
        assert error["field"] == "body" and "invalid JSON" in error["message"]
    assert visits(rt) == 0


def test_numbers_written_as_strings_are_read(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(ro_number="26110042", mileage_km="35210",
                                                   customer={"name": "张伟", "mobile": "13800138000"}))
    assert resp.status_code == 201, resp.get_json()
    with rt.sessions() as s:
        stored = s.scalars(select(Visit)).one()
        mobile = s.get_one(Customer, stored.customer_id).mobile
    assert (stored.ro_number, stored.mileage_km, mobile) == ("26110042", 35210, "+8613800138000")


def test_a_word_where_a_number_belongs_names_the_field(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(mileage_km="三万五"))
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == ["mileage_km"]
    assert visits(rt) == 0


def test_unknown_fields_are_ignored_and_named_back(rt: Runtime, client: FlaskClient) -> None:
    body = visit(note="VIP", customer={"name": "张伟", "mobile": "13800138000", "adress": "深圳市南山区", "wechat": "zw"})
    resp = client.post("/api/v1/visits", json=body)
    assert resp.status_code == 201
    assert resp.get_json()["ignored_fields"] == ["customer.adress", "customer.wechat", "note"]
    with rt.sessions() as s:
        customer = s.get_one(Customer, s.scalars(select(Visit)).one().customer_id)
    assert customer.address is None  # the misspelt field was not guessed at; the sender was told instead
    plain = client.post("/api/v1/visits", json=visit("RO-BAD-0002"))
    assert "ignored_fields" not in plain.get_json()
