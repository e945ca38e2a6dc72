"""GET /api/v1/reports/advisors (CONTRACT §4) against the hand-computed month, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from complaints.world import add_visit, local
from flask.testing import FlaskClient
from reports.november import EXPECTED, build_november

from followup.accounts import create_token
from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def client(rt: Runtime) -> Iterator[FlaskClient]:
    with rt.sessions() as s:
        token = create_token(s, "dms", now=rt.clock.now())
        s.commit()
    with create_app(runtime=rt).test_client() as c:
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        yield c


def test_the_month_of_the_demo_store_as_r9_computes_it_by_hand(rt: Runtime, client: FlaskClient) -> None:
    build_november(rt)
    resp = client.get("/api/v1/reports/advisors?store=SZ01&month=2026-11")
    assert resp.status_code == 200
    assert resp.get_json() == {"store_code": "SZ01", "month": "2026-11", "advisors": EXPECTED}


def test_an_advisor_with_visits_and_no_survey_has_a_row(rt: Runtime, client: FlaskClient) -> None:
    add_visit(rt, "RO-V-1", delivered=local(2026, 11, 5, 10, 0), advisor="SA07")
    resp = client.get("/api/v1/reports/advisors?store=SZ01&month=2026-11")
    assert resp.get_json()["advisors"] == [{
        "code": "SA07", "name": "顾问SA07", "responses": 0, "score": None, "insufficient_sample": True,
        "bonus_cny": 0, "visits": 1, "visit_commission_cny": 3, "first_to_cny": 0, "statement_cny": 3,
        "dc_calls_on_time": 0, "dc_call_rate": 0.0}]


def test_a_month_without_visits_or_surveys_has_no_advisors(client: FlaskClient) -> None:
    assert client.get("/api/v1/reports/advisors?store=SZ01&month=2020-01").get_json() == {
        "store_code": "SZ01", "month": "2020-01", "advisors": []}


@pytest.mark.parametrize(("query", "says"), [
    ("store=SZ01&month=2026-13", "YYYY-MM"),
    ("store=SZ01", "YYYY-MM"),
    ("store=NOPE&month=2026-11", "no store with code 'NOPE'"),
    ("month=2026-11", "give the store code"),
    ("store=SZ%0001&month=2026-11", "no store"),
])
def test_bad_questions_get_400_with_a_message(client: FlaskClient, query: str, says: str) -> None:
    resp = client.get(f"/api/v1/reports/advisors?{query}")
    assert resp.status_code == 400
    assert says in resp.get_json()["message"]


def test_without_a_token_401(rt: Runtime) -> None:
    resp = create_app(runtime=rt).test_client().get("/api/v1/reports/advisors?store=SZ01&month=2026-11")
    assert resp.status_code == 401 and "advisors" not in resp.get_json()
