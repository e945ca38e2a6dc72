"""The dashboard's live activity, fed by the receiver: ``GET /events/recent`` (what the page asks
every few seconds), ``GET /events/stream`` (the same for ``EventSource`` clients, answered at once)
and the home page block. Nothing is held open (#19 finding 1: held streams starved the webhooks)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import log_in, make_user
from flask.testing import FlaskClient
from sqlalchemy import select
from webhook_world import NOW, StreamReader

from followup.models import User
from followup.runtime import Runtime
from followup.web import create_app
from followup.web.webhooks.asks_in_flight import ASKS, ASKS_PER_USER
from followup.webhooks.signing import sign_headers
from followup.webhooks.subscribers import panel_subscriber, sync_subscribers


def body(type_: str = "call.completed", **data: object) -> str:
    return json.dumps({"type": type_, "timestamp": NOW.isoformat(),
                       "data": {"store_code": "SZ01", "ro_number": "RO123", **data}})


@pytest.fixture
def staff(rt: Runtime) -> Iterator[tuple[FlaskClient, str]]:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, NOW)
        sub = panel_subscriber(s)
        assert sub is not None
        s.commit()
        secret = sub.secret
    make_user(rt, "staff1")
    client = create_app(runtime=rt).test_client()
    log_in(client, "staff1")
    yield client, secret


def deliver(client: FlaskClient, secret: str, msg_id: str, text: str) -> None:
    resp = client.post("/webhooks/events", data=text.encode(),
                       headers=sign_headers(msg_id, text, [secret], datetime.now(UTC)))
    assert resp.status_code == 204


def recent(client: FlaskClient, last_id: int | None = None, *, lang: str = "") -> dict:  # type: ignore[type-arg]
    query = [f"last_id={last_id}"] if last_id is not None else []
    query += [f"lang={lang}"] if lang else []
    resp = client.get("/events/recent" + ("?" + "&".join(query) if query else ""))
    assert resp.status_code == 200 and resp.mimetype == "application/json", resp.status_code
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.get_json()  # type: ignore[no-any-return]


def test_the_page_gets_an_event_the_receiver_accepted(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_1", body(outcome="no_answer"))
    got = recent(client)
    assert [e["text"] for e in got["events"]] == ["通话结束 · SZ01 RO123 · 无人接听"]
    event = got["events"][0]
    assert event["type"] == "call.completed" and event["at"] == "11-20 10:00:00"  # in the store's zone
    assert got["last_id"] == event["id"] and got["poll_seconds"] == 3


def test_a_new_event_is_in_the_next_ask(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    first = recent(client, lang="en")
    assert first["events"] == []
    deliver(create_app(runtime=rt).test_client(), secret, "msg_2",
            body("survey.completed", channel="ivr", score=85.0, satisfied=True))
    got = recent(client, first["last_id"])
    assert [e["text"] for e in got["events"]] == ["Survey completed · SZ01 RO123 · phone (IVR) · score 85 · satisfied"]
    assert recent(client, got["last_id"])["events"] == []  # asked again: nothing twice


def test_last_id_resumes_after_what_was_seen(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_a", body("visit.imported", ro_number="RO1"))
    deliver(client, secret, "msg_b", body("visit.imported", ro_number="RO2"))
    seen = recent(client)["events"]
    assert [s["text"] for s in seen] == ["新工单导入 · SZ01 RO1", "新工单导入 · SZ01 RO2"]
    again = recent(client, seen[0]["id"])["events"]
    assert [s["text"] for s in again] == ["新工单导入 · SZ01 RO2"]


def test_other_stores_events_are_not_shown(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_other", body("call.completed", store_code="GZ99", ro_number="RO-X"))
    deliver(client, secret, "msg_mine", body("call.completed", ro_number="RO-Y", outcome="busy"))
    assert [e["text"] for e in recent(client)["events"]] == ["通话结束 · SZ01 RO-Y · 占线"]
    assert [e["text"] for e in recent(client, 0)["events"]] == ["通话结束 · SZ01 RO-Y · 占线"]


def test_the_event_stream_answers_at_once_and_ends(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    """``EventSource`` clients: the events, a ``retry`` to ask again, and the answer ends (not held)."""
    client, secret = staff
    deliver(client, secret, "msg_a", body("visit.imported", ro_number="RO1"))
    deliver(client, secret, "msg_b", body("visit.imported", ro_number="RO2"))
    started = time.monotonic()
    resp = client.get("/events/stream")
    took = time.monotonic() - started
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream" and took < 1.0
    assert text.startswith("retry: 3000\n\n") and text.count("event: activity") == 2
    reader = StreamReader(client.get("/events/stream", buffered=False, headers={"Last-Event-ID": "0"}), want=5)
    reader.close()  # returns: the answer ended with fewer events than asked for
    first = reader.next(timeout=1)[1]
    assert first["text"] == "新工单导入 · SZ01 RO1" and first["sse_event"] == "activity"
    resumed = StreamReader(client.get("/events/stream", buffered=False, headers={"Last-Event-ID": first["sse_id"]}))
    assert resumed.next(timeout=1)[1]["text"] == "新工单导入 · SZ01 RO2"
    resumed.close()


def test_the_stream_moves_last_event_id_past_events_the_user_may_not_see(
        rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_mine", body("visit.imported", ro_number="RO1"))
    deliver(client, secret, "msg_other", body("visit.imported", store_code="GZ99", ro_number="RO-X"))
    text = client.get("/events/stream").get_data(as_text=True)
    last = recent(client)["last_id"]
    assert "RO-X" not in text and text.rstrip().endswith(f"id: {last}")


def test_the_activity_needs_a_login(rt: Runtime) -> None:
    client = create_app(runtime=rt).test_client()
    for path in ("/events/recent", "/events/stream"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_more_asks_of_one_user_at_once_than_allowed_get_429(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, _ = staff
    with rt.sessions() as s:
        uid = s.scalars(select(User.id).where(User.username == "staff1")).one()
    held = [ASKS.ask(uid) for _ in range(ASKS_PER_USER)]
    for h in held:
        h.__enter__()
    try:
        for path in ("/events/recent", "/events/stream"):
            resp = client.get(path)
            assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        make_user(rt, "staff2")  # another user is not limited by staff1's asks
        other = create_app(runtime=rt).test_client()
        log_in(other, "staff2")
        assert other.get("/events/recent").status_code == 200
    finally:
        for h in held:
            h.__exit__(None, None, None)
    assert client.get("/events/recent").status_code == 200


def test_the_home_page_has_the_activity_list_and_no_inline_script(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, _ = staff
    page = client.get("/").get_data(as_text=True)
    assert '<ul id="activity"' in page and 'data-recent="/events/recent"' in page
    assert '<script src="/static/activity.js"' in page
    assert "<script>" not in page and "实时动态" in page
    js = client.get("/static/activity.js").get_data(as_text=True)
    assert "fetch(" in js and "last_id=" in js and "EventSource" not in js
    assert "textContent" in js and "innerHTML" not in js.replace("never innerHTML", "")
