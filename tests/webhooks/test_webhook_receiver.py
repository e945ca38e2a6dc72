"""The admin panel's receiver ``POST /webhooks/events``: verified on the raw body, stored once per id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from webhook_world import NOW

from followup.models import ReceivedEvent
from followup.runtime import Runtime
from followup.web import create_app
from followup.webhooks.signing import new_secret, sign_headers
from followup.webhooks.subscribers import panel_subscriber, rotate_secret, sync_subscribers

BODY = json.dumps({"type": "call.completed", "timestamp": NOW.isoformat(),
                   "data": {"store_code": "SZ01", "ro_number": "RO123", "outcome": "no_answer"}})


@pytest.fixture
def panel(rt: Runtime) -> tuple[FlaskClient, str]:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, NOW)
        sub = panel_subscriber(s)
        assert sub is not None and sub.secret.startswith("whsec_") and sub.url.endswith("/webhooks/events")
        s.commit()
        return create_app(runtime=rt).test_client(), sub.secret


def post(client: FlaskClient, body: str, headers: dict[str, str]) -> int:
    return client.post("/webhooks/events", data=body.encode(), headers=headers).status_code


def stored(rt: Runtime) -> list[ReceivedEvent]:
    with rt.sessions() as s:
        return list(s.scalars(select(ReceivedEvent)))


def now_wall() -> datetime:
    return datetime.now(UTC)


def test_a_signed_event_is_stored_and_answered_204(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, secret = panel
    assert post(client, BODY, sign_headers("msg_ok", BODY, [secret], now_wall())) == 204
    (row,) = stored(rt)
    assert (row.webhook_id, row.type, row.occurred_at) == ("msg_ok", "call.completed", NOW)
    assert row.data == {"store_code": "SZ01", "ro_number": "RO123", "outcome": "no_answer"}


def test_no_signature_is_rejected(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, _ = panel
    assert post(client, BODY, {"content-type": "application/json"}) == 401
    headers = sign_headers("msg_1", BODY, [panel[1]], now_wall())
    del headers["webhook-signature"]
    assert post(client, BODY, headers) == 401
    assert stored(rt) == []


@pytest.mark.parametrize("signature", ["v1,AAAA", "garbage", "v2,abc", "v1,not base64!!", ""])
def test_a_wrong_signature_is_rejected(rt: Runtime, panel: tuple[FlaskClient, str], signature: str) -> None:
    client, _ = panel
    headers = sign_headers("msg_1", BODY, [new_secret()], now_wall())  # someone else's secret
    assert post(client, BODY, headers) == 401
    headers["webhook-signature"] = signature
    assert post(client, BODY, headers) == 401
    assert stored(rt) == []


def test_a_valid_signature_over_an_altered_body_is_rejected(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, secret = panel
    headers = sign_headers("msg_1", BODY, [secret], now_wall())
    assert post(client, BODY.replace("no_answer", "answered"), headers) == 401
    assert post(client, BODY + " ", headers) == 401
    assert stored(rt) == []


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_more_than_five_minutes_off_is_rejected(rt: Runtime, panel: tuple[FlaskClient, str], skew: int) -> None:
    client, secret = panel
    assert post(client, BODY, sign_headers("msg_1", BODY, [secret], now_wall() + timedelta(seconds=skew))) == 401
    assert stored(rt) == []
    # just inside the window is fine
    inside = 290 if skew > 0 else -290
    assert post(client, BODY, sign_headers("msg_1", BODY, [secret], now_wall() + timedelta(seconds=inside))) == 204


def test_a_replayed_id_is_accepted_once_with_no_second_effect(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, secret = panel
    headers = sign_headers("msg_same", BODY, [secret], now_wall())
    assert post(client, BODY, headers) == 204
    assert post(client, BODY, headers) == 204  # the sender's retry: answered, so it stops
    assert post(client, BODY, sign_headers("msg_same", BODY, [secret], now_wall())) == 204
    assert len(stored(rt)) == 1


def test_the_old_secret_still_verifies_during_rotation(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, old = panel
    with rt.sessions() as s:
        sub = panel_subscriber(s)
        assert sub is not None
        new = rotate_secret(sub, NOW)
        s.commit()
    assert post(client, BODY, sign_headers("msg_a", BODY, [new, old], now_wall())) == 204
    assert post(client, BODY, sign_headers("msg_b", BODY, [old], now_wall())) == 204
    rt.clock.set(NOW + timedelta(hours=25))  # type: ignore[attr-defined]
    assert post(client, BODY, sign_headers("msg_c", BODY, [old], now_wall())) == 401
    assert [r.webhook_id for r in stored(rt)] == ["msg_a", "msg_b"]


def test_a_signed_body_that_is_not_an_event_is_rejected(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, secret = panel
    for body in ("[1, 2]", "not json", '{"no": "type"}'):
        assert post(client, body, sign_headers("msg_x", body, [secret], now_wall())) == 401
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReceivedEvent)) == 0


def test_the_receiver_needs_no_csrf_token_but_the_panel_still_does(rt: Runtime, panel: tuple[FlaskClient, str]) -> None:
    client, secret = panel
    assert post(client, BODY, sign_headers("msg_1", BODY, [secret], now_wall())) == 204
    assert client.post("/logout").status_code == 400  # a form without its token is still refused
