"""A local Twilio REST emulator that the real ``twilio`` library talks to over HTTP (loopback).

It records every request, checks each body parameter name and every required parameter against
Twilio's OpenAPI spec (``../shared/twilio-oai/twilio_api_v2010.json``: the request bodies of
CreateCall and CreateMessage, and the query parameters of ListCall and ListMessage), answers with
realistic JSON (``CA…``/``SM…`` SIDs, list pages newest first) and can be told to fail the next
requests (429 / 20429 with or without ``Retry-After``, 500, 400 with 21211, ...), to hold a request
after accepting it (a hanging Twilio, or a worker killed while it waits), or to reset the
connection. Tests assert on :attr:`TwilioEmulator.requests` and on :attr:`TwilioEmulator.problems`
being empty.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
ROUTES = {
    "Calls": "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    "Messages": "/2010-04-01/Accounts/{AccountSid}/Messages.json",
}
#: x-twilio.conditional: exactly one of these groups' members must be present
ONE_OF = {
    "Calls": (("Url", "Twiml", "ApplicationSid"),),
    "Messages": (("From", "MessagingServiceSid"), ("Body", "MediaUrl", "ContentSid")),
}
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/(?P<res>Calls|Messages)\.json$")


@lru_cache(maxsize=1)
def list_parameters() -> dict[str, dict[str, Any]]:
    """Resource -> name -> schema of each query parameter of its GET (list) operation."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return {res: {p["name"]: p.get("schema", {}) for p in spec["paths"][path]["get"]["parameters"]
                  if p.get("in") == "query"}
            for res, path in ROUTES.items()}


def list_problems(resource: str, params: dict[str, list[str]]) -> list[str]:
    """Query parameters of a list request that the spec does not have, or given twice."""
    allowed = list_parameters()[resource]
    problems = [f"{resource} list: unknown parameter {name!r}" for name in params if name not in allowed]
    problems += [f"{resource} list: {name!r} given {len(v)} times" for name, v in params.items() if len(v) > 1]
    return problems


@lru_cache(maxsize=1)
def body_schemas() -> dict[str, dict[str, Any]]:
    """Resource -> the form-encoded request-body schema of its POST (create) operation."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    out = {}
    for res, path in ROUTES.items():
        content = spec["paths"][path]["post"]["requestBody"]["content"]
        out[res] = content["application/x-www-form-urlencoded"]["schema"]
    return out


def spec_problems(resource: str, params: dict[str, list[str]]) -> list[str]:
    """Everything in ``params`` that the spec does not allow (unknown names, missing required, enums)."""
    schema = body_schemas()[resource]
    props: dict[str, Any] = schema["properties"]
    problems = [f"{resource}: unknown parameter {name!r}" for name in params if name not in props]
    problems += [f"{resource}: missing required {name!r}" for name in schema.get("required", []) if name not in params]
    for group in ONE_OF[resource]:
        given = [g for g in group if g in params]
        if len(given) != 1:
            problems.append(f"{resource}: exactly one of {group} expected, got {given}")
    for name, values in params.items():
        prop = props.get(name, {})
        enum = prop.get("enum") or prop.get("items", {}).get("enum")
        if prop.get("type") != "array" and len(values) > 1:
            problems.append(f"{resource}: {name!r} given {len(values)} times")
        if enum:
            problems += [f"{resource}: {name}={v!r} not in {enum}" for v in values if v not in enum]
        if prop.get("type") == "integer":
            problems += [f"{resource}: {name}={v!r} is not an integer" for v in values if not v.lstrip("-").isdigit()]
    return problems


@dataclass
class Recorded:
    """One request the library made."""

    method: str
    path: str
    resource: str | None
    params: dict[str, list[str]]
    account: str | None
    wall_time: float
    status: int = 0
    #: the CA…/SM… SID the emulator answered with (created requests only)
    sid: str | None = None
    problems: list[str] = field(default_factory=list)

    def one(self, name: str) -> str:
        return self.params[name][0]


@dataclass
class Failure:
    status: int
    code: int
    message: str
    retry_after: str | None = None


@dataclass
class Hold:
    """What to do with the next create request instead of answering at once."""

    #: "hold": keep the request open; "reset": drop the connection with a TCP reset
    action: str
    #: create the call/message first (Twilio accepted it, the answer is what gets lost)
    after_create: bool
    #: how long a hold lasts at most (it also ends on :meth:`TwilioEmulator.release`)
    seconds: float = 3600.0
    #: create it when the hold ends (Twilio got to it late, after the client gave up)
    create_late: bool = False


class TwilioEmulator:
    """Start with :meth:`start`; ``base_url`` goes into ``TWILIO_API_BASE_URL``."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.holds: list[Hold] = []
        #: every call / message created, as Twilio would list it (newest last here)
        self.resources: dict[str, list[dict[str, Any]]] = {"Calls": [], "Messages": []}
        #: Twilio's clock for ``date_created``; tests running on the test clock pass theirs
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        #: called with each accepted create request before it is answered (Twilio calling back at once)
        self.on_create: Callable[[Recorded], None] | None = None
        #: set when a held request has been accepted (and created, if ``after_create``)
        self.holding = threading.Event()
        self._released = threading.Event()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- test controls ---------------------------------------------------------------------
    def fail_next(self, status: int, code: int, message: str = "injected failure", times: int = 1,
                  retry_after: str | None = None) -> None:
        with self.lock:
            self.failures += [Failure(status, code, message, retry_after)] * times

    def hold_next(self, *, after_create: bool = True, seconds: float = 3600.0, create_late: bool = False) -> None:
        """Keep the next create request open (up to ``seconds``, or until :meth:`release`);
        ``create_late``: create it only when the hold ends."""
        with self.lock:
            self.holds.append(Hold("hold", after_create, seconds, create_late))
            self.holding.clear()
            self._released.clear()

    def reset_next(self, *, after_create: bool = True) -> None:
        """Answer the next create request with a TCP reset instead of a response."""
        with self.lock:
            self.holds.append(Hold("reset", after_create))

    def release(self) -> None:
        self._released.set()

    def set_status(self, sid: str, status: str) -> None:
        """Move a created call or message on, as Twilio would (what a list shows afterwards)."""
        for items in self.resources.values():
            for item in items:
                if item["sid"] == sid:
                    item["status"] = status

    @property
    def problems(self) -> list[str]:
        return [p for r in self.requests for p in r.problems]

    def created(self, resource: str) -> list[Recorded]:
        """The create requests the emulator accepted (201), oldest first."""
        return [r for r in self.requests if r.resource == resource and r.status == 201]

    # -- server ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> TwilioEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                status, body = emulator.handle_list(self.path, self.headers.get("Authorization", ""))
                self._answer(status, body, {})

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                with emulator.lock:
                    hold = emulator.holds.pop(0) if emulator.holds else None
                if hold is not None and not hold.after_create:
                    if not hold.create_late:
                        emulator.record_unanswered("POST", self.path, raw, self.headers.get("Authorization", ""))
                    self._interrupt(hold)
                    if hold.create_late:
                        emulator.handle("POST", self.path, raw, self.headers.get("Authorization", ""))
                    return None
                status, body = emulator.handle("POST", self.path, raw, self.headers.get("Authorization", ""))
                if hold is not None:
                    return self._interrupt(hold)
                failure_headers = body.pop("_headers", {})
                self._answer(status, body, failure_headers)

            def _interrupt(self, hold: Hold) -> None:
                if hold.action == "reset":  # SO_LINGER 0: close() sends a TCP reset
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                emulator.holding.set()
                emulator._released.wait(hold.seconds)
                self.close_connection = True  # the client has given up (or was killed) by now

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()  # a held request must not keep a thread (and the test) waiting
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- one request -----------------------------------------------------------------------
    def record_unanswered(self, method: str, path: str, raw: str, auth: str) -> None:
        """A request that got no answer and created nothing (held or reset before Twilio took it)."""
        m = _PATH.match(path.split("?")[0])
        rec = Recorded(method, path, m.group("res") if m else None, parse_qs(raw, keep_blank_values=True),
                       self._account(auth), time.time(), status=0)
        with self.lock:
            self.requests.append(rec)

    def handle_list(self, path: str, auth: str) -> tuple[int, dict[str, Any]]:
        """ListCall / ListMessage: filtered by To and From, newest first, one page."""
        parts = urlsplit(path)
        params = parse_qs(parts.query, keep_blank_values=True)
        m = _PATH.match(parts.path)
        rec = Recorded("GET", path, m.group("res") if m else None, params, self._account(auth), time.time())
        with self.lock:
            self.requests.append(rec)
        refused = self._refused(rec, m, path, list_problems)
        if refused is not None:
            return refused
        res = rec.resource or ""
        with self.lock:
            items = [dict(i) for i in reversed(self.resources[res])
                     if all(i[key.lower()] == params[key][0] for key in ("To", "From") if key in params)]
        size = int(params.get("PageSize", ["50"])[0])
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        rec.status = 200
        return 200, {res.lower(): items[:size], "end": min(size, len(items)) - 1, "first_page_uri": uri,
                     "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None, "start": 0,
                     "uri": uri}

    def _refused(self, rec: Recorded, m: re.Match[str] | None, path: str,
                 problems: Callable[[str, dict[str, list[str]]], list[str]]) -> tuple[int, dict[str, Any]] | None:
        """Twilio's answer to a request it turns down, noted on ``rec``: an unknown path (404), wrong
        credentials (401) or ``problems`` with the parameters (400); None when it is accepted."""
        if m is None:
            rec.status, rec.problems = 404, [f"unknown path {path}"]
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if rec.account != self.account_sid or m.group("sid") != self.account_sid:
            rec.status, rec.problems = 401, ["bad credentials"]
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        rec.problems = problems(m.group("res"), rec.params)
        if rec.problems:
            rec.status = 400
            return 400, {"code": 21201, "message": "; ".join(rec.problems), "status": 400}
        return None

    def _account(self, header: str) -> str | None:
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if password == self.auth_token else None

    def handle(self, method: str, path: str, raw: str, auth: str) -> tuple[int, dict[str, Any]]:
        params = parse_qs(raw, keep_blank_values=True)
        m = _PATH.match(path.split("?")[0])
        rec = Recorded(method, path, m.group("res") if m else None, params, self._account(auth), time.time())
        with self.lock:
            self.requests.append(rec)
            failure = self.failures.pop(0) if self.failures else None
        refused = self._refused(rec, m, path, spec_problems)
        if refused is not None:
            return refused
        if failure is not None:
            rec.status = failure.status
            body: dict[str, Any] = {"code": failure.code, "message": failure.message, "status": failure.status,
                                    "more_info": f"https://www.twilio.com/docs/errors/{failure.code}"}
            if failure.retry_after is not None:
                body["_headers"] = {"Retry-After": failure.retry_after}
            return failure.status, body
        rec.status = 201
        created = self._created(rec)
        with self.lock:
            self.resources[rec.resource or ""].append(created)
        if self.on_create is not None:
            self.on_create(rec)
        return 201, dict(created)

    def _created(self, rec: Recorded) -> dict[str, Any]:
        now = format_datetime(self.clock().astimezone(UTC).replace(microsecond=0), usegmt=False)
        common = {"account_sid": self.account_sid, "api_version": "2010-04-01", "date_created": now,
                  "date_updated": now, "to": rec.one("To"), "from": rec.params.get("From", [""])[0]}
        if rec.resource == "Calls":
            sid = rec.sid = "CA" + secrets.token_hex(16)
            return {**common, "sid": sid, "status": "queued", "direction": "outbound-api", "start_time": None,
                    "answered_by": None, "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}
        sid = rec.sid = "SM" + secrets.token_hex(16)
        return {**common, "sid": sid, "status": "queued", "body": rec.params.get("Body", [""])[0],
                "direction": "outbound-api", "num_segments": "1", "num_media": "0", "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}
