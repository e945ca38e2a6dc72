"""Security of ``/twilio/*`` (issue #10): every route Twilio calls refuses a missing, wrong or altered
``X-Twilio-Signature`` and one computed for another URL, and changes nothing when it does; behind a
proxy the signature is checked against ``PUBLIC_BASE_URL`` (the https address Twilio called), never
against the internal address the request arrived at. The routes are read from ``app.url_map``, so a
new ``/twilio/`` route is covered without editing this file. SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.twilio_emulator import TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, sign, tick_at
from flask import Flask
from sqlalchemy import func, select

from followup.models import AuditEntry, ContactAttempt, IvrCall, SmsMessage, TwilioCallback, WebhookEvent
from followup.runtime import Runtime
from followup.web import create_app

INTERNAL = "http://10.1.2.3:8000"  # where the proxy forwards to (never contacted: the test client)


def twilio_routes(app: Flask) -> list[str]:
    routes = sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/"))
    assert routes, "no /twilio/ routes registered"
    return routes


def test_every_twilio_route_is_a_signature_checked_post() -> None:
    app = create_app_for_listing()
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/")]
    assert {r.rule for r in rules} >= {"/twilio/voice/answer", "/twilio/voice/gather", "/twilio/voice/status",
                                       "/twilio/sms/status", "/twilio/sms/inbound"}
    for r in rules:
        assert r.methods is not None and r.methods - {"OPTIONS", "HEAD"} == {"POST"}, r.rule


def create_app_for_listing() -> Flask:
    from followup.runtime import build_runtime
    from followup.settings import load_settings

    rt = build_runtime(load_settings({"FOLLOWUP_ENV": "test", "DATABASE_URL": "sqlite://"}))
    return create_app(runtime=rt)


def snapshot(rt: Runtime) -> tuple[object, ...]:
    """Everything a Twilio request could change."""
    with rt.sessions() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m)) for m in
                       (TwilioCallback, SmsMessage, IvrCall, WebhookEvent, AuditEntry))
        attempts = tuple(s.execute(select(ContactAttempt.id, ContactAttempt.status, ContactAttempt.outcome)
                                   .order_by(ContactAttempt.id)).all())
    return counts, attempts


def form(call_sid: str, attempt: int) -> dict[str, str]:
    """Parameters that would change something on any of the routes (status, keypress, SMS)."""
    return {"AccountSid": "ACe48d698e99f0ad6a1c9c3e7f6ce05ea7", "CallSid": call_sid, "CallStatus": "completed",
            "MessageSid": "SM" + "9" * 32, "MessageStatus": "undelivered", "Digits": "1",
            "From": "+8613800138000", "To": "+8675512345678", "Body": "退订"}


@pytest.fixture
def placed(twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> tuple[Runtime, str, int]:
    """A call in progress (SID saved), so that a forged request would have something to change."""
    from datetime import UTC, datetime

    import_visit(twilio_rt, tmp_path)
    tick_at(twilio_rt, datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    (call,) = emulator.created("Calls")
    with twilio_rt.sessions() as s:
        attempt = s.scalars(select(ContactAttempt.id).where(ContactAttempt.provider_id == call.sid)).one()
    return twilio_rt, call.sid or "", attempt


FORGERIES = ["missing", "empty", "wrong token", "altered parameter", "added parameter", "another path",
             "another query", "internal http URL", "http instead of https", "another host"]


def forged(kind: str, path: str, query: str, params: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """(the parameters sent, the signature header) of one kind of forgery for ``path?query``."""
    url = f"{PUBLIC}{path}?{query}"
    if kind == "missing":
        return params, None
    if kind == "empty":
        return params, ""
    if kind == "wrong token":
        return params, sign(url, params, token="0" * 32)
    if kind == "altered parameter":
        return {**params, "Digits": "2"}, sign(url, params)
    if kind == "added parameter":
        return {**params, "AnsweredBy": "human"}, sign(url, params)
    if kind == "another path":
        other = "/twilio/sms/inbound" if path != "/twilio/sms/inbound" else "/twilio/voice/status"
        return params, sign(f"{PUBLIC}{other}?{query}", params)
    if kind == "another query":
        return params, sign(f"{PUBLIC}{path}?{query}0", params)
    if kind == "internal http URL":
        return params, sign(f"{INTERNAL}{path}?{query}", params)
    if kind == "http instead of https":
        return params, sign(f"{PUBLIC.replace('https://', 'http://')}{path}?{query}", params)
    if kind == "another host":
        return params, sign(f"https://evil.example{path}?{query}", params)
    raise AssertionError(kind)


def test_forged_requests_are_refused_on_every_route_and_change_nothing(placed: tuple[Runtime, str, int]) -> None:
    rt, sid, attempt = placed
    app = create_app(runtime=rt)
    client = app.test_client()
    before = snapshot(rt)
    refused = []
    for path in twilio_routes(app):
        query = f"attempt={attempt}&step=intro"
        for kind in FORGERIES:
            params, signature = forged(kind, path, query, form(sid, attempt))
            headers = {} if signature is None else {"X-Twilio-Signature": signature}
            resp = client.post(f"{path}?{query}", data=params, headers=headers, base_url=INTERNAL)
            assert resp.status_code == 403, (path, kind, resp.status_code)
            assert b"Response" not in resp.data  # no TwiML: nothing was read
            refused.append((path, kind))
    assert len(refused) == len(twilio_routes(app)) * len(FORGERIES)
    assert snapshot(rt) == before, "a refused request changed something"


def test_behind_a_proxy_the_public_https_url_is_what_twilio_signed(placed: tuple[Runtime, str, int]) -> None:
    rt, sid, attempt = placed
    app = create_app(runtime=rt)
    client = app.test_client()
    proxy_headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost", "X-Forwarded-For": "54.172.60.1"}
    for path in twilio_routes(app):
        query = f"attempt={attempt}&step=intro"
        params = {**form(sid, attempt), "CallStatus": "ringing", "MessageStatus": "sent", "Body": "你好"}
        internal = sign(f"{INTERNAL}{path}?{query}", params)
        resp = client.post(f"{path}?{query}", data=params, base_url=INTERNAL,
                           headers={**proxy_headers, "X-Twilio-Signature": internal})
        assert resp.status_code == 403, (path, "a signature over the internal http URL passed")
        public = sign(f"{PUBLIC}{path}?{query}", params)
        resp = client.post(f"{path}?{query}", data=params, base_url=INTERNAL,
                           headers={**proxy_headers, "X-Twilio-Signature": public})
        assert resp.status_code in (200, 204), (path, resp.status_code, resp.get_data(as_text=True)[:200])
    with rt.sessions() as s:  # the accepted ones were really handled
        assert s.scalar(select(TwilioCallback.status).where(TwilioCallback.sid == sid)) == "ringing"
        assert s.scalar(select(SmsMessage.body).where(SmsMessage.direction == "in")) == "你好"


def unknown_attempt_answer(path: str, query: str) -> int:
    """What a correctly signed request about an attempt that does not exist gets: the voice routes
    hang up (or refuse a request without a readable attempt), callbacks are acknowledged (and kept),
    an inbound SMS is an inbound SMS (it names no attempt)."""
    answers = {"/twilio/voice/answer": 200 if query.startswith("attempt=999999") else 400,
               "/twilio/voice/gather": 200 if query.startswith("attempt=999999") else 400,
               "/twilio/voice/status": 204, "/twilio/sms/status": 204, "/twilio/sms/inbound": 200}
    assert path in answers, f"say here what {path} answers for an attempt that does not exist"
    return answers[path]


def test_a_valid_signature_for_an_unknown_attempt_is_answered_not_crashed(placed: tuple[Runtime, str, int]) -> None:
    rt, sid, _attempt = placed
    app = create_app(runtime=rt)
    client = app.test_client()
    _, attempts = snapshot(rt)
    for path in twilio_routes(app):
        for query in ("attempt=999999&step=intro", "attempt=abc", ""):
            params = {**form("CA" + "1" * 32, 999999), "CallStatus": "ringing", "MessageStatus": "sent"}
            url = f"{PUBLIC}{path}" + (f"?{query}" if query else "")
            before = snapshot(rt)
            resp = client.post(f"{path}" + (f"?{query}" if query else ""), data=params,
                               headers={"X-Twilio-Signature": sign(url, params)})
            assert resp.status_code == unknown_attempt_answer(path, query), (path, query, resp.status_code)
            if path.startswith("/twilio/voice/") and resp.status_code == 200:
                assert "<Hangup" in resp.get_data(as_text=True) and "<Gather" not in resp.get_data(as_text=True)
            if path in ("/twilio/voice/answer", "/twilio/voice/gather"):
                assert snapshot(rt) == before, (path, query, "an unknown attempt's call changed something")
    with rt.sessions() as s:
        kept = s.execute(select(TwilioCallback.sid, TwilioCallback.status, TwilioCallback.pending)
                         .order_by(TwilioCallback.sid)).all()
        ivr_calls = s.scalar(select(func.count()).select_from(IvrCall))
    # the call in progress is untouched, no attempt or IVR call was made up; the callbacks about SIDs
    # no attempt carries are kept, not applied (once each, however often they came)
    assert snapshot(rt)[1] == attempts and ivr_calls == 0
    assert kept == [("CA" + "1" * 32, "ringing", True), ("SM" + "9" * 32, "sent", True)]
