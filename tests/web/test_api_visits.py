"""The visits JSON API (CONTRACT §4), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from followup.accounts import create_token
from followup.models import (
    ApiToken,
    Complaint,
    ContactAttempt,
    Customer,
    FollowupCase,
    Store,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from followup.runtime import Runtime
from followup.web import create_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai, after every sample delivery


def visit(ro: str = "RO-API-0001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_code": "SZ01",
        "ro_number": ro,
        "customer": {
            "name": "张伟",
            "mobile": "+86 138 0013 8000",
            "address": "深圳市南山区科技园北区松坪山路3号",
            "language": "zh",
        },
        "vehicle": {"plate": "粤B12345", "vin": "LSVAA4182E2123456", "model": "帕萨特"},
        "advisor": {"code": "SA01", "name": "王强"},
        "service_type": "maintenance",
        "delivered_at": "2026-11-19T10:30:00+08:00",
        "mileage_km": 35210,
    }
    body.update(changes)
    return body


@pytest.fixture
def token(rt: Runtime) -> str:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        value = create_token(s, "dms", now=NOW)
        s.commit()
    return value


@pytest.fixture
def client(rt: Runtime, token: str) -> Iterator[FlaskClient]:
    app = create_app(runtime=rt)
    with app.test_client() as c:
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        yield c


def count(rt: Runtime, model: type) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def errors_of(resp: Any) -> list[dict[str, Any]]:
    body = resp.get_json()
    assert set(body) == {"errors"}, body
    for e in body["errors"]:
        assert set(e) == {"index", "field", "message"} and e["message"], e
    return list(body["errors"])


# --- authentication ---------------------------------------------------------------------------


def test_without_a_token_nothing_is_stored(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    client = create_app(runtime=rt).test_client()
    resp = client.post("/api/v1/visits", json=visit())
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "Unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/visits/SZ01/RO-API-0001").status_code == 401
    assert count(rt, Visit) == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer fu_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "fu_only-the-token", "Bearer fu_\x01ctrl"],
)
def test_a_wrong_token_is_refused(rt: Runtime, token: str, header: str) -> None:
    client = create_app(runtime=rt).test_client()
    resp = client.post("/api/v1/visits", json=visit(), headers={"Authorization": header})
    assert resp.status_code == 401
    assert count(rt, Visit) == 0


def test_a_revoked_token_is_refused(rt: Runtime, token: str) -> None:
    with rt.sessions() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None
        row.revoked_at = NOW
        s.commit()
    client = create_app(runtime=rt).test_client()
    resp = client.post("/api/v1/visits", json=visit(), headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert count(rt, Visit) == 0


def test_token_use_is_recorded(rt: Runtime, client: FlaskClient) -> None:
    assert client.get("/api/v1/visits/SZ01/NOPE").status_code == 404
    with rt.sessions() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None and row.last_used_at == NOW


# --- POST /api/v1/visits ----------------------------------------------------------------------


def test_one_visit_creates_its_case_with_the_72h_deadline(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit())
    assert resp.status_code == 201
    assert resp.get_json() == {
        "store_code": "SZ01", "ro_number": "RO-API-0001", "created": True, "case_state": "scheduled",
    }
    with rt.sessions() as s:
        v, case, cust = s.execute(
            select(Visit, FollowupCase, Customer)
            .join(FollowupCase, FollowupCase.visit_id == Visit.id)
            .join(Customer, Customer.id == Visit.customer_id)
        ).one()
        assert v.ro_number == "RO-API-0001" and v.source == "api:dms"
        assert v.delivered_at == datetime(2026, 11, 19, 2, 30, tzinfo=UTC)
        assert v.mileage_km == 35210
        assert case.deadline_at == v.delivered_at + timedelta(hours=72)
        assert (case.state, case.three_day_rule) == ("scheduled", "pending")
        assert cust.mobile == "+8613800138000" and cust.name == "张伟"


def test_the_same_visit_again_updates_it_and_keeps_one_case(rt: Runtime, client: FlaskClient) -> None:
    assert client.post("/api/v1/visits", json=visit()).status_code == 201
    with rt.sessions() as s:
        case_id = s.scalar(select(FollowupCase.id))
    again = client.post("/api/v1/visits", json=visit(mileage_km=35300, advisor={"code": "SA02", "name": "李娜"}))
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    assert count(rt, Visit) == 1 and count(rt, FollowupCase) == 1
    with rt.sessions() as s:
        assert s.scalar(select(FollowupCase.id)) == case_id
        assert s.scalar(select(Visit.mileage_km)) == 35300
    record = client.get("/api/v1/visits/SZ01/RO-API-0001").get_json()
    assert record["advisor"] == {"code": "SA02", "name": "李娜"}


def test_a_batch_is_created_together(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json={"visits": [visit("RO-B1"), visit("RO-B2", customer={
        "name": "Ann Lee", "phone": "0755-26605049", "language": "en"})]})
    assert resp.status_code == 201
    assert [(v["ro_number"], v["created"]) for v in resp.get_json()["visits"]] == [("RO-B1", True), ("RO-B2", True)]
    assert count(rt, Visit) == 2 and count(rt, FollowupCase) == 2
    with rt.sessions() as s:
        landline = s.scalar(select(Customer).where(Customer.name == "Ann Lee"))
        assert landline is not None and landline.mobile is None and landline.phone == "+8675526605049"
        assert landline.language == "en"
    again = client.post("/api/v1/visits", json={"visits": [visit("RO-B1"), visit("RO-B2")]})
    assert again.status_code == 200
    assert count(rt, Visit) == 2


def test_numbers_are_accepted_for_codes(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(ro_number=26110099, customer={"name": "王芳", "mobile": 13800138001}))
    assert resp.status_code == 201, resp.get_json()
    assert client.get("/api/v1/visits/SZ01/26110099").status_code == 200


def test_an_internal_visit_is_stored_without_a_case(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(service_type="内部"))
    assert resp.status_code == 201
    assert resp.get_json()["case_state"] is None
    assert count(rt, Visit) == 1 and count(rt, FollowupCase) == 0
    assert client.get("/api/v1/visits/SZ01/RO-API-0001").get_json()["case"] is None


def test_invalid_json_is_422_with_an_error_list(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", data='{"store_code": "SZ01",', content_type="application/json")
    assert resp.status_code == 422
    [err] = errors_of(resp)
    assert err["field"] == "body" and err["index"] is None and "invalid JSON" in err["message"]
    assert count(rt, Visit) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"[1, 2]", "body"),
        (b'"a visit"', "body"),
        (b'{"visits": "RO1"}', "visits"),
        (b'{"visits": []}', "visits"),
        (b'{"ro_number": "\xff"}', "body"),
    ],
)
def test_bodies_that_are_not_visits(rt: Runtime, client: FlaskClient, body: bytes, field: str) -> None:
    resp = client.post("/api/v1/visits", data=body, content_type="application/json")
    assert resp.status_code == 422
    assert [e["field"] for e in errors_of(resp)] == [field]


def test_wrong_types_name_the_field_and_the_index(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(customer="张伟 13800138000", ro_number=["RO1"]))
    assert resp.status_code == 422
    errors = errors_of(resp)
    assert {(e["index"], e["field"]) for e in errors} == {(0, "customer"), (0, "ro_number")}
    # the customer's text is not echoed back with its phone number
    assert "13800138000" not in resp.get_data(as_text=True)

    resp = client.post(
        "/api/v1/visits",
        json={"visits": [visit("RO-OK"), visit("RO-X", customer={"name": "张伟", "mobile": [138]}, mileage_km="far")]},
    )
    assert resp.status_code == 422
    assert {(e["index"], e["field"]) for e in errors_of(resp)} == {(1, "customer.mobile"), (1, "mileage_km")}
    assert count(rt, Visit) == 0


def test_every_problem_of_a_visit_is_reported_at_once(rt: Runtime, client: FlaskClient) -> None:
    body = visit(ro_number=["RO1"], advisor={"name": "王强"}, service_type="洗车")
    resp = client.post("/api/v1/visits", json=body)
    assert resp.status_code == 422
    fields = {e["field"]: e["message"] for e in errors_of(resp)}
    assert set(fields) == {"ro_number", "advisor.code", "service_type"}
    assert fields["advisor.code"] == "missing"
    assert "洗车" in fields["service_type"]
    # a landline of the wrong type is not also "neither mobile nor landline"
    resp = client.post("/api/v1/visits", json=visit(customer={"name": "张伟", "phone": 75526605049}))
    assert resp.status_code == 201  # numbers are fine for phones
    resp = client.post("/api/v1/visits", json=visit("RO-P", customer={"name": "张伟", "phone": ["0755"]}))
    assert [e["field"] for e in errors_of(resp)] == ["customer.phone"]


def test_missing_required_fields_use_the_json_paths(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json={"store_code": "SZ01"})
    assert resp.status_code == 422
    fields = {e["field"] for e in errors_of(resp)}
    assert {"ro_number", "customer.name", "customer.mobile", "advisor.code", "service_type", "delivered_at"} <= fields
    assert all(e["index"] == 0 for e in errors_of(resp))


def test_a_batch_with_one_bad_visit_stores_nothing(rt: Runtime, client: FlaskClient) -> None:
    items = [visit("RO-1"), visit("RO-2"), visit("RO-3", customer={"name": "李四", "mobile": "12345"}), visit("RO-4")]
    resp = client.post("/api/v1/visits", json={"visits": items})
    assert resp.status_code == 422
    assert [(e["index"], e["field"]) for e in errors_of(resp)] == [(2, "customer.mobile")]
    assert count(rt, Visit) == 0 and count(rt, FollowupCase) == 0 and count(rt, Customer) == 0


def test_an_unknown_store_is_refused(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(store_code="BJ99"))
    assert resp.status_code == 422
    [err] = errors_of(resp)
    assert err["field"] == "store_code" and "BJ99" in err["message"]
    assert count(rt, Visit) == 0


def test_a_visit_delivered_in_the_future_is_refused(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(delivered_at="2026-11-21T09:00:00+08:00"))
    assert resp.status_code == 422
    [err] = errors_of(resp)
    assert err == {"index": 0, "field": "delivered_at", "message": "delivered in the future"}
    assert count(rt, Visit) == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:00-08:00", "2026-13-40 10:00"])
def test_impossible_delivery_times_are_422(rt: Runtime, client: FlaskClient, when: str) -> None:
    resp = client.post("/api/v1/visits", json=visit(delivered_at=when))
    assert resp.status_code == 422
    assert [e["field"] for e in errors_of(resp)] == ["delivered_at"]
    assert count(rt, Visit) == 0


def test_a_late_visit_is_stored_as_breached(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json=visit(delivered_at="2026-11-10T10:00:00+08:00"))
    assert resp.status_code == 201
    case = client.get("/api/v1/visits/SZ01/RO-API-0001").get_json()["case"]
    assert (case["three_day_rule"], case["breach_reason"]) == ("breached", "late_intake")


def test_an_invalid_phone_is_not_echoed_back_in_full(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post(
        "/api/v1/visits", json=visit(customer={"name": "张伟", "mobile": "0755-26605049", "phone": "0755-26605050"})
    )
    assert resp.status_code == 422
    [err] = errors_of(resp)
    assert err["field"] == "customer.mobile"
    text = resp.get_data(as_text=True)
    assert "26605049" not in text and "5049" in text


def test_wrong_content_type_is_415(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", data=json.dumps(visit()), content_type="text/plain")
    assert resp.status_code == 415
    assert "application/json" in resp.get_json()["message"]
    resp = client.post("/api/v1/visits", data={"store_code": "SZ01"})
    assert resp.status_code == 415
    assert count(rt, Visit) == 0


def test_json_with_a_charset_is_fine(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post(
        "/api/v1/visits", data=json.dumps(visit()).encode(), content_type="application/json; charset=utf-8"
    )
    assert resp.status_code == 201


def test_deeply_nested_json_is_422_not_500(rt: Runtime, client: FlaskClient) -> None:
    depth = 100_000
    resp = client.post("/api/v1/visits", data="[" * depth + "]" * depth, content_type="application/json")
    assert resp.status_code == 422
    assert errors_of(resp)[0]["field"] == "body"
    nested = '{"visits": [' + '{"a": ' * depth + "1" + "}" * depth + "]}"
    assert client.post("/api/v1/visits", data=nested, content_type="application/json").status_code == 422


def test_a_body_over_2_mb_is_413(rt: Runtime, client: FlaskClient) -> None:
    big = json.dumps({"visits": [visit(f"RO-{i}", note="x" * 1000) for i in range(2_200)]})
    assert len(big) > 2 * 1024 * 1024
    resp = client.post("/api/v1/visits", data=big, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "Request Entity Too Large"
    assert count(rt, Visit) == 0


def test_too_many_visits_in_one_batch(rt: Runtime, client: FlaskClient) -> None:
    resp = client.post("/api/v1/visits", json={"visits": [{}] * 1001})
    assert resp.status_code == 422
    assert errors_of(resp)[0]["field"] == "visits"


# --- GET /api/v1/visits/<store>/<ro> ------------------------------------------------------------

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


def test_get_shows_the_visit_and_its_case(rt: Runtime, client: FlaskClient) -> None:
    assert client.post("/api/v1/visits", json=visit()).status_code == 201
    resp = client.get("/api/v1/visits/SZ01/RO-API-0001")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["store_code"] == "SZ01" and body["ro_number"] == "RO-API-0001"
    assert body["delivered_at"] == "2026-11-19T10:30:00+08:00"
    assert body["advisor"] == {"code": "SA01", "name": "王强"}
    case = body["case"]
    assert set(case) >= {
        "state", "outcome", "deadline_at", "three_day_rule", "breach_reason", "attempts", "survey", "complaint",
    }
    assert case["state"] == "scheduled" and case["outcome"] is None
    assert case["deadline_at"] == "2026-11-22T10:30:00+08:00"
    assert ISO_WITH_OFFSET.match(case["deadline_at"])
    assert case["three_day_rule"] == "pending" and case["breach_reason"] is None
    assert isinstance(case["attempts"], list)
    assert case["survey"] is None and case["complaint"] is None


def test_phones_are_masked_in_attempts_and_never_shown_in_full(rt: Runtime, client: FlaskClient) -> None:
    assert client.post("/api/v1/visits", json=visit()).status_code == 201
    with rt.sessions() as s:
        case = s.scalar(select(FollowupCase))
        assert case is not None
        s.add_all(
            [
                ContactAttempt(
                    case_id=case.id, channel="call", number=1, status="done", outcome="no_answer",
                    destination="+8613800138000", due_at=NOW - timedelta(hours=3),
                    started_at=NOW - timedelta(hours=3), ended_at=NOW - timedelta(hours=3) + timedelta(seconds=30),
                    made_by="ivr", provider_id="CA" + "0" * 32, created_at=NOW,
                ),
                ContactAttempt(
                    case_id=case.id, channel="call", number=2, status="planned", destination="+8613800138000",
                    due_at=NOW + timedelta(hours=14), created_at=NOW,
                ),
                ContactAttempt(
                    case_id=case.id, channel="letter", number=1, status="planned", destination="letter",
                    due_at=NOW + timedelta(days=3), created_at=NOW,
                ),
            ]
        )
        s.commit()
    resp = client.get("/api/v1/visits/SZ01/RO-API-0001")
    text = resp.get_data(as_text=True)
    assert "13800138000" not in text and "8613800138000" not in text
    done, planned, letter = resp.get_json()["case"]["attempts"]
    assert done["to"] == planned["to"] == "138****8000"
    assert (done["channel"], done["number"], done["status"], done["outcome"]) == ("call", 1, "done", "no_answer")
    assert done["started_at"] == "2026-11-20T17:00:00+08:00" and done["ended_at"] == "2026-11-20T17:00:30+08:00"
    assert done["made_by"] == "ivr" and done["provider_id"] == "CA" + "0" * 32
    assert planned["number"] == 2 and planned["due_at"] == "2026-11-21T10:00:00+08:00"
    assert planned["started_at"] is None and planned["outcome"] is None
    assert letter["channel"] == "letter" and letter["to"] == "深圳市"


def test_survey_and_complaint_are_shown(rt: Runtime, client: FlaskClient) -> None:
    assert client.post("/api/v1/visits", json=visit()).status_code == 201
    with rt.sessions() as s:
        case = s.scalar(select(FollowupCase))
        assert case is not None
        resp = SurveyResponse(
            case_id=case.id, store_id=case.store_id, advisor_id=case.advisor_id, channel="sms", made_by="sms",
            status="completed", started_at=NOW, completed_at=NOW + timedelta(minutes=5), score=45.0,
            satisfied=False,
        )
        s.add(resp)
        s.flush()
        s.add_all(
            [
                SurveyAnswer(response_id=resp.id, question_id="overall", value_num=4, raw="4", answered_at=NOW),
                SurveyAnswer(
                    response_id=resp.id, question_id="comment", value_text="请打 13800138000 找我，不要打 0755-26605049",
                    raw="x", answered_at=NOW,
                ),
            ]
        )
        s.add(
            Complaint(
                case_id=case.id, store_id=case.store_id, response_id=resp.id, level=1, status="open",
                opened_at=NOW + timedelta(minutes=5), due_at=NOW + timedelta(hours=24, minutes=5),
            )
        )
        case.state = "complaint"
        s.commit()
    http = client.get("/api/v1/visits/SZ01/RO-API-0001")
    body = http.get_json()["case"]
    assert body["state"] == "complaint"
    assert body["survey"]["channel"] == "sms" and body["survey"]["score"] == 45.0
    assert body["survey"]["satisfied"] is False
    assert body["survey"]["completed_at"] == "2026-11-20T20:05:00+08:00"
    assert body["survey"]["answers"]["overall"] == 4
    assert "138****8000" in body["survey"]["answers"]["comment"]
    assert body["complaint"] == {
        "level": 1, "status": "open", "opened_at": "2026-11-20T20:05:00+08:00", "due_at": "2026-11-21T20:05:00+08:00",
    }
    text = http.get_data(as_text=True)
    assert "13800138000" not in text and "26605049" not in text


def test_an_unknown_visit_is_404_json(rt: Runtime, client: FlaskClient) -> None:
    resp = client.get("/api/v1/visits/SZ01/RO-NOPE")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "Not Found"
    assert client.get("/api/v1/visits/BJ99/RO-NOPE").status_code == 404
    assert client.get("/api/v1/visits/SZ01/RO%00X").status_code == 404


def test_the_store_in_the_path_must_match(rt: Runtime, client: FlaskClient) -> None:
    assert client.post("/api/v1/visits", json=visit()).status_code == 201
    with rt.sessions() as s:
        s.add(Store(code="SZ02", name="深圳二店", timezone="Asia/Shanghai", created_at=NOW))
        s.commit()
    assert client.get("/api/v1/visits/SZ02/RO-API-0001").status_code == 404
