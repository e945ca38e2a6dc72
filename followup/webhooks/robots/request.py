"""The HTTP request a robot subscriber gets for one event: URL, body and headers."""

from __future__ import annotations

from datetime import datetime
from math import floor

from sqlalchemy.orm import Session

from followup.models import WebhookEvent, WebhookSubscriber
from followup.webhooks.robots import DINGTALK, dingtalk, wecom
from followup.webhooks.robots.text import compose, facts


def robot_request(session: Session, sub: WebhookSubscriber, event: WebhookEvent, *, public_base_url: str,
                  sent_at: datetime) -> tuple[str, bytes]:
    """``(url, body)`` for ``sub`` (a wecom or dingtalk subscriber); DingTalk's URL is signed at ``sent_at``."""
    title, text = compose(event, facts(session, event), public_base_url)
    if sub.kind == DINGTALK:
        return dingtalk.signed_url(sub.url, sub.secret, floor(sent_at.timestamp() * 1000)), dingtalk.body(title, text)
    return sub.url, wecom.body(title, text)
