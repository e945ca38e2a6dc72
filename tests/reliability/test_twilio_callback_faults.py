"""Fault 5 of issue #10: Twilio's callbacks repeated, reordered, unknown, early, or arriving while the
database is away. The app runs in a real threaded HTTP server on 127.0.0.1 (werkzeug), the calls
go through the loopback emulator, and every test counts what changed. SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from fakes.twilio_emulator import Recorded, TwilioEmulator
from fakes.twilio_env import PUBLIC, import_visit, sign, tick_at, twilio_env
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from followup.clock import TestClock
from followup.db import make_session_factory
from followup.models import ContactAttempt, SmsMessage, TwilioCallback, WebhookEvent
from followup.runtime import Runtime, build_runtime
from followup.settings import load_settings
from followup.web import create_app

CALL_AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
SMS_AT = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)


@dataclass
class Live:
    """The app served on 127.0.0.1; :meth:`post` sends a request the way Twilio does."""

    server: BaseWSGIServer

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def post(self, public_url: str, params: dict[str, str]) -> requests.Response:
        parts = urlsplit(public_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return requests.post(self.base + path, data=params, timeout=30,
                             headers={"X-Twilio-Signature": sign(public_url, params)})


def serve(rt: Runtime) -> Iterator[Live]:
    server = make_server("127.0.0.1", 0, create_app(runtime=rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(server)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def live(twilio_rt: Runtime) -> Iterator[Live]:
    yield from serve(twilio_rt)


def placed_call(rt: Runtime, emu: TwilioEmulator, tmp_path: Path) -> tuple[Recorded, ContactAttempt]:
    import_visit(rt, tmp_path)
    tick_at(rt, CALL_AT)
    (call,) = emu.created("Calls")
    with rt.sessions() as s:
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.provider_id == call.sid)).one()
    assert a.status == "in_progress"
    return call, a


def status_params(call: Recorded, status: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": call.account or "", "CallSid": call.sid or "", "CallStatus": status, "To": call.one("To"),
            "From": call.one("From"), "Direction": "outbound-api", **extra}


def counted(rt: Runtime, call_sid: str) -> tuple[int, list[tuple[str, bool]], tuple[str, str | None]]:
    """call.completed events, stored (status, pending) callbacks, and the attempt's (status, outcome)."""
    with rt.sessions() as s:
        events = s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.type == "call.completed"))
        kept = [(c.status, c.pending) for c in s.scalars(select(TwilioCallback).where(TwilioCallback.sid == call_sid)
                                                          .order_by(TwilioCallback.id))]
        a = s.scalars(select(ContactAttempt).where(ContactAttempt.provider_id == call_sid)).one()
        return int(events or 0), kept, (a.status, a.outcome)


def test_the_same_status_callback_five_times_at_once_changes_the_call_once(
        twilio_rt: Runtime, emulator: TwilioEmulator, live: Live, tmp_path: Path) -> None:
    call, _a = placed_call(twilio_rt, emulator, tmp_path)
    params = status_params(call, "busy", CallDuration="0")
    barrier = threading.Barrier(5)

    def one() -> int:
        barrier.wait()
        return live.post(call.one("StatusCallback"), params).status_code

    with ThreadPoolExecutor(5) as pool:
        codes = list(pool.map(lambda _: one(), range(5)))
    assert codes == [204] * 5
    assert counted(twilio_rt, call.sid or "") == (1, [("busy", False)], ("done", "busy"))


def test_completed_before_ringing_and_an_unknown_status_change_nothing_backwards(
        twilio_rt: Runtime, emulator: TwilioEmulator, live: Live, tmp_path: Path) -> None:
    call, _a = placed_call(twilio_rt, emulator, tmp_path)
    url = call.one("StatusCallback")
    assert live.post(url, status_params(call, "exploded")).status_code == 204  # a status Twilio may add one day
    assert counted(twilio_rt, call.sid or "") == (0, [("exploded", False)], ("in_progress", None))
    assert live.post(url, status_params(call, "no-answer")).status_code == 204
    assert live.post(url, status_params(call, "ringing")).status_code == 204  # late: stored, changes nothing
    assert counted(twilio_rt, call.sid or "") == (
        1, [("exploded", False), ("no-answer", False), ("ringing", False)], ("done", "no_answer"))


def test_a_callback_that_beats_the_workers_commit_is_kept_and_applied(
        twilio_rt: Runtime, emulator: TwilioEmulator, live: Live, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path)
    answers: list[int] = []

    def twilio_calls_back_at_once(rec: Recorded) -> None:
        # before the emulator answers the worker: no row has this SID yet
        params = {"AccountSid": rec.account or "", "CallSid": rec.sid or "", "CallStatus": "busy",
                  "To": rec.one("To"), "From": rec.one("From")}
        answers.append(live.post(rec.one("StatusCallback"), params).status_code)

    emulator.on_create = twilio_calls_back_at_once
    counts = tick_at(twilio_rt, CALL_AT)
    (call,) = emulator.created("Calls")
    assert answers == [204]
    assert counts["callbacks_applied"] == 1  # the tick's twilio_callbacks duty, right after dispatch
    assert counted(twilio_rt, call.sid or "") == (1, [("busy", False)], ("done", "busy"))


def test_a_callback_for_a_call_we_never_made_is_kept_not_dropped(
        twilio_rt: Runtime, emulator: TwilioEmulator, live: Live, tmp_path: Path) -> None:
    sid = "CA" + "e" * 32
    params = {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "CallStatus": "completed", "To": "+8613800138000",
              "From": "+8675512345678"}
    assert live.post(f"{PUBLIC}/twilio/voice/status?attempt=424242", params).status_code == 204
    tick_at(twilio_rt, CALL_AT)
    with twilio_rt.sessions() as s:
        kept = s.scalars(select(TwilioCallback).where(TwilioCallback.sid == sid)).one()
    assert (kept.status, kept.pending, kept.attempt_id) == ("completed", True, 424242)
    assert '"CallStatus": "completed"' in (kept.params or "")


# -- an inbound SMS while the database is away ---------------------------------------------------

class DbProxy:
    """A TCP relay to PostgreSQL that can be cut (connections dropped, new ones refused) and restored."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.up = True
        self.socks: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                conn.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            with contextlib.suppress(OSError):
                x.close()

    def cut(self) -> None:
        self.up = False
        for sock in self.socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.socks = []

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Outage:
    """Makes the web app's database unavailable and back: a cut TCP path (PostgreSQL) or a write
    lock held past the busy timeout (SQLite)."""

    def __init__(self, rt: Runtime, emu: TwilioEmulator) -> None:
        url = make_url(rt.settings.database_url)
        self.lock: sqlite3.Connection | None = None
        self.proxy: DbProxy | None = None
        if url.get_backend_name() == "sqlite":
            self.path = str(url.database)
            engine = create_engine(rt.settings.database_url, connect_args={"timeout": 0.5})
            sessions = make_session_factory(engine)
            self.web = Runtime(rt.settings, engine, sessions, TestClock(sessions))
        else:
            self.proxy = DbProxy(url.port or 5432)
            proxied = url.set(port=self.proxy.port).render_as_string(hide_password=False)
            self.web = build_runtime(load_settings(twilio_env(emu, proxied)))

    def begin(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            self.lock = sqlite3.connect(self.path, isolation_level=None)
            self.lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        elif self.lock is not None:
            self.lock.execute("ROLLBACK")
            self.lock.close()

    def close(self) -> None:
        self.web.engine.dispose()
        if self.proxy is not None:
            self.proxy.close()


def test_an_inbound_sms_while_the_database_is_away_gets_503_and_its_retry_is_handled_once(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    import_visit(twilio_rt, tmp_path, do_not_call=True)
    tick_at(twilio_rt, SMS_AT)  # the SMS survey asks its first question
    (sms,) = emulator.created("Messages")
    outage = Outage(twilio_rt, emulator)
    first = {"AccountSid": sms.account or "", "MessageSid": "SM" + "5" * 32, "From": "+8613800138000",
             "To": sms.one("From"), "Body": "10分", "NumMedia": "0"}
    second = {**first, "MessageSid": "SM" + "6" * 32, "Body": "是"}
    inbound = f"{PUBLIC}/twilio/sms/inbound"
    try:
        for live in serve(outage.web):
            answered = live.post(inbound, first)  # the web app's connections are open and working
            assert answered.status_code == 200 and "<Message>" in answered.text
            outage.begin()
            try:
                refused = live.post(inbound, second)
            finally:
                outage.end()
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
            assert "<Message>" not in refused.text
            with twilio_rt.sessions() as s:
                assert s.scalar(select(SmsMessage.id).where(SmsMessage.provider_id == second["MessageSid"])) is None
            # Twilio tries again once the database is back: handled and answered once
            again = live.post(inbound, second)
            assert again.status_code == 200 and "<Message>" in again.text
            twice = live.post(inbound, second)
            assert twice.status_code == 200 and "<Message>" not in twice.text
    finally:
        outage.close()
    with twilio_rt.sessions() as s:
        stored = s.scalars(select(SmsMessage).where(SmsMessage.provider_id == "SM" + "6" * 32)).all()
    assert [(m.body, m.direction, m.handling) for m in stored] == [("是", "in", "answer")]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_callback_right_after_a_database_restart_is_handled_not_refused(
        twilio_rt: Runtime, emulator: TwilioEmulator, tmp_path: Path) -> None:
    """Pooled connections are pinged only after sitting idle: the first callback after a restart
    meets a closed connection, and the view runs once more on a fresh one instead of answering 503."""
    call, attempt = placed_call(twilio_rt, emulator, tmp_path)
    outage = Outage(twilio_rt, emulator)
    status = f"{PUBLIC}/twilio/voice/status?attempt={attempt.id}"
    assert outage.proxy is not None
    try:
        for live in serve(outage.web):
            assert live.post(status, status_params(call, "ringing")).status_code == 204  # a pooled connection
            outage.proxy.cut()  # the server restarts: every open connection is closed …
            outage.proxy.restore()  # … and new ones are accepted again
            answered = live.post(status, status_params(call, "no-answer"))
            assert answered.status_code == 204, answered.text
    finally:
        outage.close()
    events, kept, final = counted(twilio_rt, call.sid or "")
    assert final == ("done", "no_answer") and events == 1
    assert kept == [("ringing", False), ("no-answer", False)]
