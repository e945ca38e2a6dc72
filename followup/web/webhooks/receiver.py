"""``POST /webhooks/events`` (the panel's receiver) and the dashboard's activity list.

The activity is asked for, never streamed: ``GET /events/recent?last_id=N`` answers at once with
the events after ``N`` the user may see (JSON), and the page asks again every ``POLL_SECONDS``.
A held connection would cost a gunicorn thread for as long as it stays open (a few dozen tabs
starved the Twilio webhooks); an ask costs a few milliseconds. ``GET /events/stream`` stays for
``EventSource`` clients: the same events as server-sent events, then the answer ends and the
browser asks again after ``retry`` with ``Last-Event-ID``.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, request

from followup.clock import wall_clock
from followup.settings import DEFAULT_TIMEZONE
from followup.web.auth import background_login_required, viewer
from followup.web.context import db_session, runtime
from followup.web.i18n import current_language
from followup.web.webhooks.activity import item
from followup.web.webhooks.asks_in_flight import ASKS, TooManyAsks
from followup.webhooks import inbox
from followup.webhooks.activity_feed import ActivityPage, activity_after
from followup.webhooks.signing import WebhookVerificationError, verify

bp = Blueprint("webhooks", __name__)

#: how often the page asks for new activity
POLL_SECONDS = 3


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
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


def _activity() -> tuple[ActivityPage, list[dict[str, Any]]] | None:
    """The user's activity after the asked id, as list items; None when the user has too many asks in flight."""
    lang, stores = current_language(), g.stores
    tz = runtime().settings.stores[stores[0]].timezone if stores else ZoneInfo(DEFAULT_TIMEZONE)
    try:
        with ASKS.ask(g.user.id):
            page = activity_after(db_session(), viewer(), _last_event_id())
    except TooManyAsks:
        return None
    return page, [{"id": row.id, **item(row, lang, tz)} for row in page.events]


def _too_many() -> Response:
    resp = jsonify({"error": "Too Many Requests", "message": "too many activity requests at once"})
    resp.status_code, resp.headers["Retry-After"] = 429, str(POLL_SECONDS)
    return resp


@bp.get("/events/recent")
@background_login_required
def recent() -> Any:
    """The activity after ``?last_id=`` (the last ones on a new page), newest last, and the id to ask after next."""
    shown = _activity()
    if shown is None:
        return _too_many()
    page, items = shown
    resp = jsonify({"last_id": page.last_id, "events": items, "poll_seconds": POLL_SECONDS})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/events/stream")
@background_login_required
def stream() -> Any:
    """The same as server-sent events (``Last-Event-ID``), then the answer ends: ``EventSource`` asks
    again after ``retry``. Nothing is held open."""
    shown = _activity()
    if shown is None:
        return _too_many()
    page, items = shown
    blocks = [f"retry: {POLL_SECONDS * 1000}\n\n"]
    blocks += [f"id: {i['id']}\nevent: activity\ndata: {json.dumps(i, ensure_ascii=False)}\n\n" for i in items]
    if not items or items[-1]["id"] != page.last_id:
        blocks.append(f"id: {page.last_id}\n\n")  # moves Last-Event-ID past events this user may not see
    return Response("".join(blocks), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
