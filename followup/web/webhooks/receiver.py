"""``POST /webhooks/events`` (the panel's receiver) and ``GET /events/stream`` (the live activity stream)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, request

from followup.clock import monotonic, wall_clock
from followup.settings import DEFAULT_TIMEZONE
from followup.web.auth import login_required
from followup.web.context import db_session, runtime
from followup.web.i18n import current_language
from followup.web.webhooks.activity import item
from followup.webhooks import inbox
from followup.webhooks.signing import WebhookVerificationError, verify

bp = Blueprint("webhooks", __name__)

#: how often the stream looks for new events
POLL_SECONDS = 0.5
#: a stream ends after this long and the browser reconnects (with Last-Event-ID): no worker is held forever
STREAM_SECONDS = 300.0
#: a comment line this often keeps proxies from closing an idle stream
KEEPALIVE_SECONDS = 15.0
#: events a new stream shows first
BACKLOG = 20


@bp.post("/webhooks/events")
def receive() -> Any:
    """Verify on the raw body before parsing anything; store each webhook id once; 204."""
    raw = request.get_data(cache=False)
    s, now = db_session(), runtime().clock.now()
    try:
        event = verify(raw, dict(request.headers), inbox.panel_keys(s, now))
    except WebhookVerificationError as exc:
        return Response(f"rejected: {exc}\n", status=401, mimetype="text/plain")
    inbox.accept(s, request.headers["webhook-id"][:64], event, received_at=wall_clock())
    s.commit()
    return Response(status=204)


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_id")
    return int(raw) if raw and raw.isdigit() else None


@bp.get("/events/stream")
@login_required
def stream() -> Response:
    """Server-sent events: each event the receiver accepts, as a readable line, for the user's stores."""
    rt, lang, stores = runtime(), current_language(), set(g.stores)
    tz = rt.settings.stores[g.stores[0]].timezone if g.stores else ZoneInfo(DEFAULT_TIMEZONE)
    last = _last_event_id()
    if last is None:
        last = inbox.start_after(db_session(), BACKLOG)
    db_session().close()  # the generator uses its own short sessions

    def events(last: int) -> Iterator[str]:
        yield f"retry: 3000\n: from {last}\n\n"
        end, quiet_since = monotonic() + STREAM_SECONDS, monotonic()
        while monotonic() < end:
            with rt.sessions() as s:
                rows = inbox.received_after(s, last)
            for row in rows:
                last = row.id
                code = (row.data or {}).get("store_code")
                if code is None or code in stores:
                    quiet_since = monotonic()
                    yield f"id: {row.id}\nevent: activity\ndata: {json.dumps(item(row, lang, tz), ensure_ascii=False)}\n\n"
            if not rows:
                if monotonic() - quiet_since > KEEPALIVE_SECONDS:
                    quiet_since = monotonic()
                    yield ": keep-alive\n\n"
                time.sleep(POLL_SECONDS)

    return Response(events(last), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
