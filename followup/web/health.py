"""GET /healthz: 200 when the database answers. GET /metrics: Prometheus' scrape (bearer token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from followup.metrics import CONTENT_TYPE, collect, render
from followup.web.api.auth import token_required
from followup.web.context import db_session, runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/metrics")
@token_required  # an API token (``followup tokens create``) with the read scope: 401 without one
def metrics() -> Any:
    """The text exposition of :mod:`followup.metrics`, computed now from the database. The numbers
    cover every store, so a token limited to one store (``--store``) is refused (403)."""
    if g.get("api_token_store") is not None:
        return jsonify({"error": "Forbidden", "message": "metrics cover every store: use a token made without --store"}), 403
    session = db_session()
    body = render(collect(session, runtime().clock.now()))
    session.rollback()
    return Response(body, content_type=CONTENT_TYPE)
