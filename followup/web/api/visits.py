"""POST /api/v1/visits and GET /api/v1/visits/<store>/<ro> (CONTRACT §4)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, jsonify, request

from followup.cases.api_record import visit_record
from followup.intake.api_visits import ApiError, accept_api_visits, split_body
from followup.web.api.auth import outside_store, token_required
from followup.web.context import db_session, runtime

bp = Blueprint("api_visits", __name__, url_prefix="/api/v1")


def _unprocessable(errors: list[ApiError]) -> Any:
    return jsonify({"errors": [e.as_json() for e in errors]}), 422


@bp.post("/visits")
@token_required
def post_visits() -> Any:
    if not request.mimetype or request.mimetype != "application/json":
        return jsonify({"error": "Unsupported Media Type", "message": "send Content-Type: application/json"}), 415
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError) as exc:
        return _unprocessable([ApiError(None, "body", f"invalid JSON: {str(exc)[:200]}")])
    split = split_body(body)
    if isinstance(split, ApiError):
        return _unprocessable([split])
    items, is_batch = split
    refused = outside_store(item.get("store_code") for item in items if isinstance(item, dict))
    if refused is not None:
        return refused
    rt = runtime()
    session = db_session()
    results, errors = accept_api_visits(session, rt.settings, items, token_name=g.api_token.name, now=rt.clock.now())
    if errors:
        session.rollback()
        return _unprocessable(errors)
    session.commit()
    status = 201 if any(r["created"] for r in results) else 200
    return jsonify({"visits": results} if is_batch else results[0]), status


@bp.get("/visits/<store_code>/<ro_number>")
@token_required
def get_visit(store_code: str, ro_number: str) -> Any:
    # NUL can be in a URL but never in a stored code (PostgreSQL refuses it in a query)
    found = "\x00" not in store_code + ro_number
    record = visit_record(db_session(), store_code, ro_number) if found else None
    if record is None:
        return jsonify({"error": "Not Found", "message": f"no visit {ro_number} in store {store_code}"}), 404
    return jsonify(record)
