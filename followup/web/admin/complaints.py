"""The complaints pages (R7): the queue, one complaint with its steps, and the staff's actions.

Thin: parse, authorise, call :mod:`followup.complaints`, render. Another store's complaint, or
(for an advisor) a complaint about another advisor's visit, is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for

from ...complaints import actions
from ...complaints.queue import complaint_queue, complaint_view, find_complaint
from ...models import Complaint
from .. import db_session, runtime
from .views import login_required, role_required

bp = Blueprint("complaints", __name__, template_folder="../templates", url_prefix="/complaints")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _complaint(complaint_id: int) -> Complaint:
    found = find_complaint(db_session(), complaint_id, g.stores, g.user)
    if found is None:
        abort(404)
    return found


def _done(complaint_id: int, message: str) -> Any:
    db_session().commit()
    flash(message, "ok")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


def _refused(complaint_id: int, exc: actions.ComplaintError) -> Any:
    db_session().rollback()
    flash(str(exc), "error")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.get("")
@login_required
def queue() -> Any:
    if not g.stores:
        abort(403)
    show_all = request.args.get("all") == "1"
    rows = complaint_queue(db_session(), g.stores, g.user, now=runtime().clock.now(), include_closed=show_all)
    return render_template("admin/complaints.html", rows=rows, show_all=show_all)


@bp.get("/<int:complaint_id>")
@login_required
def detail(complaint_id: int) -> Any:
    view = complaint_view(db_session(), complaint_id, g.stores, g.user, now=runtime().clock.now())
    if view is None:
        abort(404)
    settings = runtime().settings
    return render_template(
        "admin/complaints_detail.html", v=view, max_resurveys=settings.complaints.max_resurveys,
        can_close=g.user.role in actions.CLOSING_ROLES and actions.can_manager_close(view.complaint, settings),
    )


@bp.post("/<int:complaint_id>/acknowledge")
@login_required
def acknowledge(complaint_id: int) -> Any:
    complaint = _complaint(complaint_id)
    try:
        actions.acknowledge(db_session(), complaint, g.user, now=runtime().clock.now())
    except actions.ComplaintError as exc:
        return _refused(complaint_id, exc)
    return _done(complaint_id, "Complaint acknowledged.")


@bp.post("/<int:complaint_id>/contact")
@login_required
def contact(complaint_id: int) -> Any:
    complaint = _complaint(complaint_id)
    form = request.form
    try:
        actions.log_contact(db_session(), complaint, g.user, note=form.get("note"), cause=form.get("cause"),
                            fix=form.get("fix"), now=runtime().clock.now())
    except actions.ComplaintError as exc:
        return _refused(complaint_id, exc)
    return _done(complaint_id, "Contact recorded.")


@bp.post("/<int:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int) -> Any:
    complaint = _complaint(complaint_id)
    form, rt = request.form, runtime()
    try:
        actions.resolve(db_session(), complaint, g.user, cause=form.get("cause"), fix=form.get("fix"),
                        note=form.get("note"), settings=rt.settings, now=rt.clock.now())
    except actions.ComplaintError as exc:
        return _refused(complaint_id, exc)
    return _done(complaint_id, "Complaint resolved: the customer is surveyed again.")


@bp.post("/<int:complaint_id>/close")
@role_required("manager")
def close(complaint_id: int) -> Any:
    complaint = _complaint(complaint_id)
    rt = runtime()
    try:
        actions.close_dissatisfied(db_session(), complaint, g.user, reason=request.form.get("reason"),
                                   settings=rt.settings, now=rt.clock.now())
    except actions.ComplaintError as exc:
        return _refused(complaint_id, exc)
    return _done(complaint_id, "Complaint closed.")
