"""A local Alibaba Cloud SMS emulator (``SendSms``) that the official ``alibabacloud_dysmsapi20170525``
client talks to over HTTP on loopback, plus the pushes Alibaba Cloud makes back to us.

What it checks of every request, as the real API would refuse it (the SDK sends ``POST /`` with
the parameters in the query string, ``x-acs-action: SendSms``, ``x-acs-version: 2017-05-25`` and
an ``ACS3-HMAC-SHA256`` ``Authorization`` header):

* the ``Authorization`` header is ACS3-HMAC-SHA256 with our AccessKey id, and its signature is
  right for our AccessKey secret over the canonical request (recomputed here);
* the required parameters (``PhoneNumbers``, ``SignName``, ``TemplateCode``), an 11-digit mainland
  mobile, a signature and template the emulator knows (``templates``: code -> variable names);
* ``TemplateParam`` is a JSON object whose keys are exactly the template's variables, each value
  a string of at most 35 characters.

Accepted messages are kept in :attr:`AliyunEmulator.sent`; refusals the real API would give are
answered with their ``Code`` and also recorded in :attr:`problems` (a test asserts it empty).
:meth:`fail_next` makes the next requests answer any ``Code`` (HTTP 200, as the API does for
business errors) or an HTTP 5xx.

:class:`Pusher` posts receipts (SmsReport) and replies (SmsUp) to our endpoints the way Alibaba
Cloud does: JSON arrays, several items per push, retried when the answer is not exactly 200
``{"code": 0, ...}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

MOBILE = re.compile(r"1[3-9]\d{9}")


@dataclass
class SentSms:
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    biz_id: str


@dataclass
class AliyunEmulator:
    access_key_id: str
    access_key_secret: str
    #: template code -> its variable names
    templates: Mapping[str, tuple[str, ...]]
    signatures: frozenset[str]
    sent: list[SentSms] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    _fail: list[tuple[int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _seq: int = 0

    # --- control -------------------------------------------------------------------------------------
    def fail_next(self, code: str, *, times: int = 1, status: int = 200) -> None:
        """The next ``times`` SendSms answer ``code`` (HTTP ``status``: 200 for a business error)."""
        with self._lock:
            self._fail.extend([(status, code)] * times)

    def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the ``http://host:port`` for ALIYUN_SMS_ENDPOINT."""
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = emulator.handle("POST", self.path, dict(self.headers.items()), body)
                out = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the API -------------------------------------------------------------------------------------
    def _refuse(self, code: str, message: str, status: int = 200) -> tuple[int, dict[str, str]]:
        self.problems.append(f"{code}: {message}")
        return status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}

    def check_signature(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """None when ``Authorization`` is a right ACS3-HMAC-SHA256 signature; else what is wrong."""
        lower = {k.lower(): v for k, v in headers.items()}
        auth = lower.get("authorization", "")
        m = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})", auth)
        if not m:
            return f"Authorization is not ACS3-HMAC-SHA256: {auth[:40]!r}"
        if m.group(1) != self.access_key_id:
            return f"unknown AccessKey id {m.group(1)!r}"
        signed = m.group(2).split(";")
        payload_hash = hashlib.sha256(body).hexdigest()
        if lower.get("x-acs-content-sha256") != payload_hash:
            return "x-acs-content-sha256 is not the body's hash"
        for required in ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"):
            if required not in signed:
                return f"{required} is not signed"
        parts = urlsplit(path)
        query = sorted(parse_qsl(parts.query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
        canonical_headers = "".join(f"{h}:{lower.get(h, '').strip()}\n" for h in signed)
        canonical = "\n".join([method, parts.path or "/", canonical_query, canonical_headers, ";".join(signed),
                               payload_hash])
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        want = hmac.new(self.access_key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(want, m.group(3)) else "the signature does not match"

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.requests += 1
            lower = {k.lower(): v for k, v in headers.items()}
            if lower.get("x-acs-action") != "SendSms" or lower.get("x-acs-version") != "2017-05-25":
                return self._refuse("InvalidAction.NotFound", f"{lower.get('x-acs-action')!r} is not emulated", 404)
            wrong = self.check_signature(method, path, headers, body)
            if wrong:
                return self._refuse("SignatureDoesNotMatch", wrong, 400)
            if self._fail:
                status, code = self._fail.pop(0)
                return status, {"Code": code, "Message": f"emulated {code}", "RequestId": str(uuid.uuid4()).upper()}
            q = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
            for name in ("PhoneNumbers", "SignName", "TemplateCode"):
                if not q.get(name):
                    return self._refuse("MissingParameter", f"{name} is mandatory for this action", 400)
            if not MOBILE.fullmatch(q["PhoneNumbers"]):
                return self._refuse("isv.MOBILE_NUMBER_ILLEGAL", f"bad number {q['PhoneNumbers']!r}")
            if q["SignName"] not in self.signatures:
                return self._refuse("isv.SMS_SIGNATURE_ILLEGAL", f"signature {q['SignName']!r} not approved")
            variables = self.templates.get(q["TemplateCode"])
            if variables is None:
                return self._refuse("isv.SMS_TEMPLATE_ILLEGAL", f"template {q['TemplateCode']!r} not approved")
            try:
                params = json.loads(q.get("TemplateParam") or "{}")
            except ValueError:
                return self._refuse("isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
            if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
                return self._refuse("isv.INVALID_JSON_PARAM", "TemplateParam must be an object of strings")
            if set(params) != set(variables):
                return self._refuse("isv.TEMPLATE_MISSING_PARAMETERS",
                                    f"template wants {sorted(variables)}, got {sorted(params)}")
            too_long = [k for k, v in params.items() if len(v) > 35]
            if too_long:
                return self._refuse("isv.PARAM_LENGTH_LIMIT", f"over 35 characters: {too_long}")
            self._seq += 1
            biz_id = f"{self._seq:018d}^0"
            self.sent.append(SentSms(q["PhoneNumbers"], q["SignName"], q["TemplateCode"], params, q.get("OutId"), biz_id))
            return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()}


# --- pushes to us ------------------------------------------------------------------------------------

def report(sent: SentSms, *, success: bool = True, err_code: str = "DELIVERED", when: str = "2026-12-07 10:00:05",
           sign_name: bool = False) -> dict[str, Any]:
    """An SmsReport item for a message the emulator accepted (``sign_name``: an older account's extra field)."""
    item: dict[str, Any] = {
        "phone_number": sent.phone, "send_time": when, "report_time": when, "success": success,
        "err_code": err_code if not success or err_code != "DELIVERED" else "DELIVERED",
        "err_msg": "用户接收成功" if success else "失败", "sms_size": "1", "biz_id": sent.biz_id, "out_id": sent.out_id,
    }
    if sign_name:
        item["sign_name"] = sent.sign_name
    return item


def reply(phone: str, content: str, sequence_id: int | str, *, when: str = "2026-12-07 10:01:00") -> dict[str, Any]:
    """An SmsUp item (``sequence_id`` a number or a string, as accounts differ)."""
    return {"phone_number": phone, "content": content, "send_time": when, "dest_code": "1234",
            "sequence_id": sequence_id}


Post = Callable[[str, bytes], tuple[int, bytes]]


@dataclass
class Pusher:
    """Posts JSON arrays to our receipt and reply URLs like Alibaba Cloud: an answer that is not 200
    with ``code`` 0 is retried (after 1, 5 and 10 minutes: here at once, up to three more times)."""

    post: Post
    report_path: str
    up_path: str
    answers: list[tuple[int, Any]] = field(default_factory=list)

    def push(self, path: str, items: list[dict[str, Any]], *, retries: int = 3) -> int:
        body = json.dumps(items, ensure_ascii=False).encode()
        status = 0
        for _ in range(1 + retries):
            status, raw = self.post(path, body)
            try:
                answer = json.loads(raw or b"null")
            except ValueError:
                answer = raw
            self.answers.append((status, answer))
            if status == 200 and isinstance(answer, dict) and answer.get("code") == 0:
                break
        return status

    def reports(self, items: list[dict[str, Any]]) -> int:
        return self.push(self.report_path, items)

    def replies(self, items: list[dict[str, Any]]) -> int:
        return self.push(self.up_path, items)
