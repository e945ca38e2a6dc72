"""A local webhook receiver (a tiny threaded HTTP server on 127.0.0.1) and helpers for the webhook tests."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from factories import log_in, make_user
from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from followup.models import WebhookSubscriber
from followup.runtime import Runtime
from followup.web import create_app
from followup.webhooks.signing import new_secret
from followup.webhooks.subscribers import BY_ADMIN, panel_url, sync_subscribers

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    wall_at: datetime
    verified: dict[str, Any] | None  # the body as standardwebhooks.Webhook.verify returned it, or None

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Reply:
    """What the receiver answers to one request: a status, headers, a body, or a hang of ``hang`` seconds."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: float = 0.0


class LocalReceiver:
    """Answers with the scripted replies in turn (the last one repeats) and verifies every request itself."""

    def __init__(self, secret: str, replies: list[Reply] | None = None, *, fail_first_tries: bool = False) -> None:
        self.secret = secret
        self.replies = list(replies or [Reply()])
        #: answer 500 to the first try of every webhook id (and the scripted reply to the next ones)
        self.fail_first_tries = fail_first_tries
        self.received: list[Received] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verified = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    verified = None
                receiver.received.append(Received(self.path, headers, body, datetime.now(UTC), verified))
                n = len(receiver.received) - 1
                reply = receiver.replies[min(n, len(receiver.replies) - 1)]
                if receiver.fail_first_tries and [r.headers.get("webhook-id") for r in receiver.received].count(
                        headers.get("webhook-id")) == 1:
                    reply = Reply(500, body=b"first try fails")
                if reply.hang:
                    receiver.release.wait(reply.hang)
                    return
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.received]


@contextmanager
def receiver(replies: list[Reply] | None = None, secret: str | None = None, *,
             fail_first_tries: bool = False) -> Iterator[LocalReceiver]:
    with LocalReceiver(secret or new_secret(), replies, fail_first_tries=fail_first_tries) as r:
        yield r


def subscribe(rt: Runtime, url: str, secret: str, *, quiet_panel: bool = True) -> int:
    """A subscriber row for ``url``; the panel's own receiver is turned off unless asked (nothing listens there)."""
    with rt.sessions() as s:
        if quiet_panel:
            s.add(WebhookSubscriber(url=panel_url(rt.settings), secret=new_secret(), active=False, source="panel",
                                    disabled_reason=BY_ADMIN, created_at=NOW))
        sub = WebhookSubscriber(url=url, secret=secret, active=True, source="admin", created_at=NOW)
        s.add(sub)
        s.commit()
        return sub.id


def subscriber(rt: Runtime, url: str) -> WebhookSubscriber:
    with rt.sessions() as s:
        row = s.scalar(select(WebhookSubscriber).where(WebhookSubscriber.url == url))
        assert row is not None
        return row


def with_settings(rt: Runtime, **changes: Any) -> Runtime:
    """The same database and clock with some settings changed (Settings is frozen)."""
    return Runtime(dataclasses.replace(rt.settings, **changes), rt.engine, rt.sessions, rt.clock)


def allow_private_receivers(rt: Runtime) -> None:
    """``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE=1`` from now on: the tests' receivers listen on 127.0.0.1 and
    are added as panel subscribers, which are otherwise refused private addresses."""
    rt.settings = dataclasses.replace(rt.settings, webhook_allow_private=True)


class NoJitter:
    """An rng whose jitter is zero, so that tries land exactly on the schedule."""

    def uniform(self, a: float, b: float) -> float:
        return a


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# --- the admin panel's live stream ------------------------------------------------------------------


class StreamReader:
    """Reads a streamed ``text/event-stream`` response in a thread; each event with its arrival time."""

    def __init__(self, response: Any, want: int = 1) -> None:
        import queue

        self.response, self.want = response, want
        self.events: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.raw: list[bytes] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buffer = b""
        for chunk in self.response.response:
            self.raw.append(chunk)
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
                              and not line.startswith(":"))
                if "data" in fields:
                    self.events.put((time.monotonic(), {**json.loads(fields["data"]), "sse_id": fields.get("id"),
                                                        "sse_event": fields.get("event")}))
                    self.want -= 1
            if self.want <= 0:
                return  # the generator now waits at a yield, so that it can be closed

    def close(self) -> None:
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "the stream did not deliver what the test waited for"
        self.response.close()

    def next(self, timeout: float) -> tuple[float, dict[str, Any]]:
        import queue

        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event on the stream within {timeout} s") from None


def webhook_admin(rt: Runtime) -> FlaskClient:
    """An admin ("root") logged in to the panel at ``NOW``, the configured subscribers synced and all
    switched off by the admin (nothing listens there)."""
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, NOW)
        s.query(WebhookSubscriber).update({"active": False, "disabled_reason": "admin"})  # nothing listens there
        s.commit()
    make_user(rt, "root", "admin")
    client = create_app(runtime=rt).test_client()
    log_in(client, "root")
    return client
