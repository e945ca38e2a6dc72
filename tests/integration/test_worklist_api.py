"""The call worklist over the API (CONTRACT §9) on SQLite and PostgreSQL: tokens made ``--user``,
the exact bodies, 401/403/404/409/415/422, the claim's full number never cached, and concurrent
claims from threads, each with its own client (its own request and database session).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import local, make_user
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from worklist_world import (
    DELIVERED,
    GOOD,
    at,
    calls_of,
    planned_call,
    staff_visit,
    staffed,
    user_token,
)

from followup.accounts import create_token
from followup.models import Store
from followup.runtime import Runtime
from followup.web import create_app


@pytest.fixture
def srt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    yield from staffed(backend, tmp_path, request, DELIVERED)


def api(rt: Runtime, token: str | None, method: str, path: str, body: Any = None, *,
        client: FlaskClient | None = None, **kwargs: Any) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    web = client or create_app(runtime=rt).test_client()
    return web.open(f"/api/v1/worklist{path}", method=method, json=body, headers=headers, **kwargs)


def test_the_list_as_a_call_centre_reads_it(srt: Runtime) -> None:
    staff_visit(srt, "RO1")
    token = user_token(srt, "caller1")
    at(srt, local(2026, 11, 20, 10, 30))
    resp = api(srt, token, "GET", "?store=SZ01")
    assert resp.status_code == 200, resp.get_json()
    attempt = planned_call(srt, 1).id
    assert resp.get_json() == {"next_opening": None, "calls": [{
        "attempt_id": attempt, "store_code": "SZ01", "ro_number": "RO1", "number": 1, "customer_name": "张伟",
        "phone": "138****8000", "due_at": "2026-11-20T10:00:00+08:00", "deadline_at": "2026-11-22T10:00:00+08:00",
        "claimed_by": None, "claimed_until": None, "at_risk": False, "previous": [],
        "questions": [{"id": "overall", "text": "请您为本次服务的总体满意度打分"},
                      {"id": "on_time", "text": "请问我们是否按约定的时间为您交车？"},
                      {"id": "advisor", "text": "请您为服务顾问的服务打分"},
                      {"id": "comment", "text": "请问您对我们还有其他意见或建议吗？"}]}]}
    at(srt, local(2026, 11, 20, 12, 30))
    assert api(srt, token, "GET", "?store=SZ01").get_json() == {"calls": [], "next_opening": "2026-11-20T14:00:00+08:00"}


def test_who_may_use_the_worklist_api(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    with srt.sessions() as s:
        s.add(Store(code="GZ01", name="广州店", timezone="Asia/Shanghai", created_at=DELIVERED))
        plain = create_token(s, "dms", now=DELIVERED)  # a DMS token acts for nobody
        s.commit()
    make_user(srt, "gz", "info_staff", ["GZ01"])
    at(srt, local(2026, 11, 20, 10, 30))
    assert api(srt, None, "GET", "?store=SZ01").status_code == 401
    assert api(srt, "fu_not-a-token", "GET", "?store=SZ01").status_code == 401
    assert api(srt, plain, "GET", "?store=SZ01").status_code == 403
    advisor = user_token(srt, "wang")
    assert api(srt, advisor, "GET", "?store=SZ01").status_code == 403
    assert api(srt, advisor, "POST", f"/{attempt}/claim").status_code == 403
    assert api(srt, advisor, "POST", f"/{attempt}/outcome", {"outcome": "no_answer"}).status_code == 403
    other = user_token(srt, "gz")
    assert api(srt, other, "GET", "?store=SZ01").status_code == 403
    assert api(srt, other, "POST", f"/{attempt}/claim").status_code == 404
    assert api(srt, user_token(srt, "caller1", scope="read"), "GET", "?store=SZ01").status_code == 403
    assert api(srt, user_token(srt, "caller1", scope="worklist"), "GET", "?store=SZ01").status_code == 200
    assert api(srt, user_token(srt, "boss"), "GET", "?store=SZ01").status_code == 200  # a manager of the store
    bound = user_token(srt, "caller1", store="GZ01")  # a token made --store GZ01: not for SZ01's calls
    assert api(srt, bound, "GET", "?store=SZ01").status_code == 403
    assert api(srt, bound, "POST", f"/{attempt}/claim").status_code == 404
    mine = user_token(srt, "caller1")
    assert api(srt, mine, "GET", "").status_code == 400
    assert api(srt, mine, "GET", "?store=XX99").status_code == 404
    assert api(srt, mine, "POST", "/999999/claim").status_code == 404
    assert [r.held_by for r in calls_of(srt, 1)] == [None]  # nobody got it


def test_claim_then_outcome_then_the_visit_as_the_visits_api_shows_it(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    one, two = user_token(srt, "caller1"), user_token(srt, "caller2")
    at(srt, local(2026, 11, 20, 10, 30))
    early = api(srt, one, "POST", f"/{attempt}/outcome", {"outcome": "no_answer"})
    assert early.status_code == 409 and early.get_json()["error"] == "Conflict"  # not claimed first
    claimed = api(srt, one, "POST", f"/{attempt}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json() == {"attempt_id": attempt, "phone": "+8613800138000",
                                  "claimed_until": "2026-11-20T10:45:00+08:00"}
    assert claimed.headers["Cache-Control"] == "no-store"
    taken = api(srt, two, "POST", f"/{attempt}/claim")
    assert taken.status_code == 409 and "caller1" in taken.get_json()["message"]
    assert api(srt, two, "POST", f"/{attempt}/outcome", {"outcome": "no_answer"}).status_code == 409
    listed = api(srt, two, "GET", "?store=SZ01").get_json()["calls"][0]
    assert (listed["claimed_by"], listed["claimed_until"]) == ("caller1", "2026-11-20T10:45:00+08:00")
    # bad input: 415, then 422 naming each field, nothing recorded
    assert api(srt, one, "POST", f"/{attempt}/outcome", data="outcome=answered",
               content_type="application/x-www-form-urlencoded").status_code == 415
    bad_json = api(srt, one, "POST", f"/{attempt}/outcome", data="{", content_type="application/json")
    assert bad_json.status_code == 422 and bad_json.get_json()["errors"][0]["field"] == "body"
    for body, fields in [({"outcome": "ringing"}, ["outcome"]),
                         ({"outcome": "answered", "answers": {**GOOD, "overall": 11}}, ["answers.overall"]),
                         ({"outcome": "callback_requested", "callback_at": "2026-11-19T15:00:00+08:00"}, ["callback_at"]),
                         ({"outcome": "callback_requested", "callback_at": "2026-11-20T21:00:00+08:00"}, ["callback_at"]),
                         ({"outcome": "callback_requested"}, ["callback_at"])]:
        resp = api(srt, one, "POST", f"/{attempt}/outcome", body)
        assert resp.status_code == 422, body
        assert [e["field"] for e in resp.get_json()["errors"]] == fields, body
        assert all(set(e) == {"field", "message"} for e in resp.get_json()["errors"])
    assert [(r.status, r.outcome) for r in calls_of(srt, 1)] == [("planned", None)]
    done = api(srt, one, "POST", f"/{attempt}/outcome", {"outcome": "answered", "answers": GOOD, "note": "满意"})
    assert done.status_code == 200, done.get_json()
    record = done.get_json()
    visits = create_app(runtime=srt).test_client().get(
        "/api/v1/visits/SZ01/RO1", headers={"Authorization": f"Bearer {one}"}).get_json()
    assert record == visits
    assert record["case"]["state"] == "closed" and record["case"]["outcome"] == "satisfied"
    assert [(a["number"], a["outcome"], a["made_by"], a["to"]) for a in record["case"]["attempts"]] == \
        [(1, "answered", "user:caller1", "138****8000")]
    assert record["case"]["survey"]["channel"] == "staff" and record["case"]["survey"]["answers"]["overall"] == 10
    again = api(srt, one, "POST", f"/{attempt}/outcome", {"outcome": "answered", "answers": GOOD})
    assert again.status_code == 409 and "already recorded" in again.get_json()["message"]
    assert api(srt, two, "POST", f"/{attempt}/claim").status_code == 404  # no longer on the worklist


def test_an_expired_claim_gets_409_and_nothing_is_recorded(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    token = user_token(srt, "caller1")
    at(srt, local(2026, 11, 20, 10, 30))
    assert api(srt, token, "POST", f"/{attempt}/claim").status_code == 200
    at(srt, local(2026, 11, 20, 10, 45))
    resp = api(srt, token, "POST", f"/{attempt}/outcome", {"outcome": "answered", "answers": GOOD})
    assert resp.status_code == 409
    assert [(r.status, r.outcome) for r in calls_of(srt, 1)] == [("planned", None)]


def test_concurrent_claims_from_three_call_centre_seats_one_wins(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    tokens = [user_token(srt, name) for name in ("caller1", "caller2", "caller3")]
    at(srt, local(2026, 11, 20, 10, 30))
    app = create_app(runtime=srt)
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def seat(token: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(api(srt, token, "POST", f"/{attempt}/claim", client=client).status_code)

    threads = [threading.Thread(target=seat, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(statuses) == Counter({200: 1, 409: 2})
    assert calls_of(srt, 1)[0].held_by in ("caller1", "caller2", "caller3")
