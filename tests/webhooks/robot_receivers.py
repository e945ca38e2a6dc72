"""Local WeCom and DingTalk group robots (threaded HTTP servers on 127.0.0.1) that check what they get
as the real ones do: the Markdown body's shape, and for DingTalk the ``timestamp`` + ``sign`` of 加签."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class RobotReceiver:
    """A group robot: answers ``{"errcode": 0}`` to a well-formed message and an error code otherwise.

    ``kind``: ``wecom`` (``/cgi-bin/webhook/send?key=…``) or ``dingtalk``
    (``/robot/send?access_token=…``, signed with ``secret``). ``refuse`` makes it answer that
    errcode to every message (45009: WeCom's rate limit)."""

    def __init__(self, kind: str, secret: str = "", *, refuse: int | None = None) -> None:
        self.kind, self.secret, self.refuse = kind, secret, refuse
        self.messages: list[dict[str, Any]] = []  # the accepted bodies
        self.answers: list[int] = []  # the errcode of every answer, in order
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                code, message = robot.check(self.path, self.headers.get("Content-Type", ""), body)
                robot.answers.append(code)
                out = json.dumps({"errcode": code, "errmsg": message}).encode()
                self.send_response(200)  # robots answer 200 whatever they think of the message
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.url = (f"{base}/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa" if kind == "wecom"
                    else f"{base}/robot/send?access_token=b2e7d4c0f1a94c3e8d6f0a1b2c3d4e5f")
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def check(self, path: str, content_type: str, raw: bytes) -> tuple[int, str]:
        query = parse_qs(urlsplit(path).query)
        if "application/json" not in content_type:
            return 40008, "invalid message type"
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return 40008 if self.kind == "wecom" else 300001, "invalid json"
        if self.kind == "wecom":
            if "key" not in query:
                return 93000, "invalid webhook url"
            md = body.get("markdown") if body.get("msgtype") == "markdown" else None
            if not isinstance(md, dict) or not isinstance(md.get("content"), str) or not md["content"]:
                return 40008, "invalid message type"
            if len(md["content"].encode()) > 4096:
                return 40058, "content exceed max length"
        else:
            if "access_token" not in query:
                return 300001, "token is not exist"
            if self.secret:
                why = self.bad_signature(query)
                if why:
                    return 310000, why
            md = body.get("markdown") if body.get("msgtype") == "markdown" else None
            if not isinstance(md, dict) or not isinstance(md.get("title"), str) or not isinstance(md.get("text"), str):
                return 300001, "param error"
        if self.refuse is not None:
            return self.refuse, "api freq out of limit"
        self.messages.append(body)
        return 0, "ok"

    def bad_signature(self, query: dict[str, list[str]]) -> str | None:
        """DingTalk's 加签 check: ``sign`` = base64(HMAC-SHA256(secret, "timestamp\\nsecret")), the
        timestamp within an hour of now (parse_qs has URL-decoded ``sign`` already)."""
        try:
            timestamp = int(query["timestamp"][0])
            sign = query["sign"][0]
        except (KeyError, ValueError):
            return "sign not match, more: [missing timestamp or sign]"
        if abs(time.time() * 1000 - timestamp) > 3600 * 1000:
            return "sign not match, more: [timestamp out of range]"
        wanted = base64.b64encode(hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                                           hashlib.sha256).digest()).decode()
        return None if hmac.compare_digest(wanted, sign) else "sign not match"

    def __enter__(self) -> RobotReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        """The Markdown of every accepted message."""
        return [m["markdown"].get("content") or m["markdown"]["text"] for m in self.messages]
