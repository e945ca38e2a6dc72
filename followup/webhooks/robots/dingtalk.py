"""钉钉 (DingTalk) group robot: ``POST <webhook URL>&timestamp=…&sign=…`` with a Markdown message.

With 加签 (the robot's "sign" security setting) DingTalk checks ``sign`` = URL-encoded base64 of
HMAC-SHA256 over ``"<timestamp>\\n<secret>"`` keyed by the secret (``SEC…``), and refuses a
timestamp more than an hour from its clock (errcode 310000). The timestamp is the wall clock of
each sending in milliseconds, so every retry is signed afresh.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote_plus


def sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's ``sign`` parameter (already URL-encoded) for ``timestamp_ms``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook URL with ``timestamp`` and ``sign``; unchanged when the robot has no secret."""
    if not secret:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(timestamp_ms, secret)}"


def body(title: str, text: str) -> bytes:
    return json.dumps({"msgtype": "markdown", "markdown": {"title": title, "text": text}},
                      ensure_ascii=False).encode("utf-8")
