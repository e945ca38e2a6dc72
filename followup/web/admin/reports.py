"""The managers' reports page (R8, R9, R11) and its CSV/XLSX downloads. Managers and admins only.

Thin: parse the store and month, check the store is one the user may see, call
:mod:`followup.reports`, render. Charts are SVG made on the server and shown as ``data:`` images.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, g, render_template, request

from followup.models import Store
from followup.reports.advisors import advisor_scores, find_store
from followup.reports.charts import advisor_bars, data_uri, trend_line
from followup.reports.export import advisors_csv, advisors_xlsx, record_export
from followup.reports.month_page import month_report
from followup.reports.report_month import ReportError, current_month, month_label, parse_month
from followup.web.auth import role_required
from followup.web.context import db_session, runtime

bp = Blueprint("reports", __name__, template_folder="../templates", url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def _store() -> Store:
    """The store asked for (default: the user's first); one the user may not see is a 404."""
    if not g.stores:
        abort(403)
    code = request.args.get("store") or g.stores[0]
    if code not in g.stores:
        abort(404)
    try:
        return find_store(db_session(), code)
    except ReportError:
        abort(404)


def _month(store: Store) -> date:
    text = request.args.get("month")
    if not text:
        return current_month(runtime().clock.now(), ZoneInfo(store.timezone))
    return parse_month(text)


@bp.get("")
@role_required("manager")
def index() -> Any:
    store = _store()
    try:
        month = _month(store)
    except ReportError as exc:
        return render_template("admin/reports.html", report=None, error=str(exc), store=store,
                               stores=g.stores, month=request.args.get("month", "")), 400
    report = month_report(db_session(), runtime().settings, store, month)
    charts = {
        "advisors": data_uri(advisor_bars(report.advisors)) if report.advisors else None,
        "trend": data_uri(trend_line(report.trend)),
    }
    return render_template("admin/reports.html", report=report, error=None, store=store, stores=g.stores,
                           month=report.month, charts=charts, tiers=runtime().settings.bonus.tiers,
                           min_responses=runtime().settings.bonus.min_responses,
                           per_visit=runtime().settings.bonus.per_visit_commission,
                           first_to=runtime().settings.bonus.first_to)


@bp.get("/advisors.<fmt>")
@role_required("manager")
def export(fmt: str) -> Any:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    store = _store()
    try:
        month = _month(store)
    except ReportError as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    rt, session = runtime(), db_session()
    rows = advisor_scores(session, store, month, rt.settings)
    label = month_label(month)
    if fmt == "csv":
        body, mimetype = advisors_csv(store.code, label, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = advisors_xlsx(store.code, label, rows), XLSX
    record_export(session, store, label, fmt, actor=f"user:{g.user.username}", now=rt.clock.now(), rows=len(rows))
    session.commit()
    name = f"advisor-scores-{store.code}-{label}.{fmt}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
