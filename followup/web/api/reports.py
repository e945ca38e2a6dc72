"""GET /api/v1/reports/advisors?store=CODE&month=YYYY-MM (CONTRACT §4)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from followup.reports.advisors import advisor_scores, find_store
from followup.reports.report_month import ReportError, month_label, parse_month
from followup.web.api.auth import token_required
from followup.web.context import db_session, runtime

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports")


@bp.get("/advisors")
@token_required
def advisors() -> Any:
    session = db_session()
    try:
        month = parse_month(request.args.get("month"))
        store = find_store(session, request.args.get("store"))
    except ReportError as exc:
        return jsonify({"error": "Bad Request", "message": str(exc)}), 400
    rows = advisor_scores(session, store, month, runtime().settings)
    return jsonify({"store_code": store.code, "month": month_label(month), "advisors": [r.as_json() for r in rows]})
