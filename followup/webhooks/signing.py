"""Standard Webhooks signing with the reference library (``standardwebhooks``).

Headers: ``webhook-id`` (stable across retries), ``webhook-timestamp`` (unix seconds of this
sending, by the wall clock), ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` over
``id.timestamp.body``). While a rotated-out secret is still valid both secrets sign, and the two
signatures are sent space-separated, so a receiver holding either secret accepts the message.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from math import floor
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

__all__ = ["WebhookVerificationError", "body_of", "new_secret", "sign_headers", "verify"]


def new_secret() -> str:
    """A fresh ``whsec_`` secret: 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def body_of(type_: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The POST body ``{"type", "timestamp", "data"}``; deterministic, so each try sends the same bytes."""
    return json.dumps(
        {"type": type_, "timestamp": occurred_at.isoformat(), "data": data},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )


def sign_headers(msg_id: str, body: str, keys: Iterable[str], sent_at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in ``keys`` (current first)."""
    signatures = [Webhook(k).sign(msg_id, sent_at, body) for k in keys]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def verify(body: bytes, headers: Mapping[str, str], keys: Iterable[str]) -> dict[str, Any]:
    """Check signature and timestamp (±5 minutes of this machine's clock) on the raw body.

    Returns the parsed body; raises :class:`WebhookVerificationError` on anything wrong,
    including malformed headers and a body that is not a JSON object.
    """
    wanted = {k.lower(): v for k, v in headers.items() if k.lower().startswith("webhook-")}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookVerificationError("body is not UTF-8") from None
    last: Exception = WebhookVerificationError("no secret to verify with")
    for key in keys:
        try:
            Webhook(key).verify(text, wanted, json_parse=False)
        except WebhookVerificationError as exc:
            last = exc
            continue
        except ValueError:  # a signature without "v1," or with bad base64
            last = WebhookVerificationError("malformed webhook-signature header")
            continue
        try:
            parsed = json.loads(text)
        except ValueError:
            raise WebhookVerificationError("body is not JSON") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise WebhookVerificationError("body is not a webhook event")
        return parsed
    raise WebhookVerificationError(str(last))
