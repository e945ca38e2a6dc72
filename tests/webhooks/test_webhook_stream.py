"""The dashboard's live activity stream ``GET /events/stream`` fed by the receiver, and the home page block."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import log_in, make_user
from flask.testing import FlaskClient
from webhook_world import NOW, StreamReader

from followup.runtime import Runtime
from followup.web import create_app
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


def test_the_stream_yields_an_event_the_receiver_accepted(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_1", body(outcome="no_answer"))
    resp = client.get("/events/stream", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    reader = StreamReader(resp)
    _, item = reader.next(timeout=3)
    reader.close()
    assert item["type"] == "call.completed" and item["sse_event"] == "activity"
    assert item["text"] == "通话结束 · SZ01 RO123 · 无人接听"
    assert item["at"] == "11-20 10:00:00"  # the event's time, in the store's zone


def test_a_new_event_shows_within_a_second(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    resp = client.get("/events/stream?lang=en", buffered=False)
    reader = StreamReader(resp)
    time.sleep(0.3)  # the stream is open and waiting
    sent = time.monotonic()
    deliver(create_app(runtime=rt).test_client(), secret, "msg_2", body("survey.completed", channel="ivr",
                                                                          score=85.0, satisfied=True))
    arrived, item = reader.next(timeout=3)
    reader.close()
    assert arrived - sent < 1.0
    assert item["text"] == "Survey completed · SZ01 RO123 · phone (IVR) · score 85 · satisfied"


def test_last_event_id_resumes_after_what_was_seen(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_a", body("visit.imported", ro_number="RO1"))
    deliver(client, secret, "msg_b", body("visit.imported", ro_number="RO2"))
    first = StreamReader(client.get("/events/stream", buffered=False), want=2)
    seen = [first.next(timeout=3)[1], first.next(timeout=3)[1]]
    first.close()
    assert [s["text"] for s in seen] == ["新工单导入 · SZ01 RO1", "新工单导入 · SZ01 RO2"]
    resumed = StreamReader(client.get("/events/stream", buffered=False, headers={"Last-Event-ID": seen[0]["sse_id"]}))
    _, again = resumed.next(timeout=3)
    resumed.close()
    assert again["text"] == "新工单导入 · SZ01 RO2"


def test_other_stores_events_are_not_streamed(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, secret = staff
    deliver(client, secret, "msg_other", body("call.completed", store_code="GZ99", ro_number="RO-X"))
    deliver(client, secret, "msg_mine", body("call.completed", ro_number="RO-Y", outcome="busy"))
    reader = StreamReader(client.get("/events/stream", buffered=False))
    _, item = reader.next(timeout=3)
    reader.close()
    assert item["text"] == "通话结束 · SZ01 RO-Y · 占线"


def test_the_stream_needs_a_login(rt: Runtime) -> None:
    resp = create_app(runtime=rt).test_client().get("/events/stream")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_home_page_has_the_activity_list_and_no_inline_script(rt: Runtime, staff: tuple[FlaskClient, str]) -> None:
    client, _ = staff
    page = client.get("/").get_data(as_text=True)
    assert '<ul id="activity"' in page and 'data-stream="/events/stream"' in page
    assert '<script src="/static/activity.js"' in page
    assert "<script>" not in page and "实时动态" in page
    js = client.get("/static/activity.js").get_data(as_text=True)
    assert "EventSource" in js and "textContent" in js and "innerHTML" not in js.replace("never innerHTML", "")
