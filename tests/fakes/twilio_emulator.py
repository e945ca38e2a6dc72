"""A local Twilio REST emulator that the real ``twilio`` library talks to over HTTP (loopback).

It records every request, checks each body parameter name and every required parameter against
Twilio's OpenAPI spec (``../shared/twilio-oai/twilio_api_v2010.json``: the request bodies of
CreateCall and CreateMessage), answers with realistic JSON (``CA…``/``SM…`` SIDs) and can be told
to fail the next requests (429 / 20429, 500, 400 with 21211, ...). Tests assert on
:attr:`TwilioEmulator.requests` and on :attr:`TwilioEmulator.problems` being empty.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

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


class TwilioEmulator:
    """Start with :meth:`start`; ``base_url`` goes into ``TWILIO_API_BASE_URL``."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- test controls ---------------------------------------------------------------------
    def fail_next(self, status: int, code: int, message: str = "injected failure", times: int = 1) -> None:
        with self.lock:
            self.failures += [Failure(status, code, message)] * times

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

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                status, body = emulator.handle("POST", self.path, raw, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- one request -----------------------------------------------------------------------
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
        if m is None:
            rec.status, rec.problems = 404, [f"unknown path {path}"]
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if rec.account != self.account_sid or m.group("sid") != self.account_sid:
            rec.status, rec.problems = 401, ["bad credentials"]
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        rec.problems = spec_problems(rec.resource or "", params)
        if rec.problems:
            rec.status = 400
            return 400, {"code": 21201, "message": "; ".join(rec.problems), "status": 400}
        if failure is not None:
            rec.status = failure.status
            return failure.status, {"code": failure.code, "message": failure.message, "status": failure.status,
                                    "more_info": f"https://www.twilio.com/docs/errors/{failure.code}"}
        rec.status = 201
        return 201, self._created(rec)

    def _created(self, rec: Recorded) -> dict[str, Any]:
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        common = {"account_sid": self.account_sid, "api_version": "2010-04-01", "date_created": now,
                  "date_updated": now, "to": rec.one("To"), "from": rec.params.get("From", [""])[0]}
        if rec.resource == "Calls":
            sid = rec.sid = "CA" + secrets.token_hex(16)
            return {**common, "sid": sid, "status": "queued", "direction": "outbound-api",
                    "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}
        sid = rec.sid = "SM" + secrets.token_hex(16)
        return {**common, "sid": sid, "status": "queued", "body": rec.params.get("Body", [""])[0],
                "direction": "outbound-api", "num_segments": "1", "num_media": "0",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}
