"""The complaints pages (R7): the queue, one complaint with its steps, and the staff's actions.

Thin: parse, authorise, call :mod:`followup.complaints`, render. Another store's complaint, or
(for an advisor) a complaint about another advisor's visit, is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from followup.complaints import actions
from followup.complaints.queue import complaint_queue, complaint_view, find_complaint
from followup.models import Complaint
from followup.web.auth import login_required, role_required
from followup.web.context import db_session, runtime

bp = Blueprint("complaints", __name__, template_folder="../templates", url_prefix="/complaints")



def _complaint(complaint_id: int) -> Complaint:
    found = find_complaint(db_session(), complaint_id, g.stores, g.user)
    if found is None:
        abort(404)
    return found


def _act(complaint_id: int, action: Callable[[Complaint], object], done: str) -> Any:
    """One staff action on a complaint the user may see: saved with ``done`` flashed, or, when
    the rules refuse it, rolled back with the reason flashed; back to the complaint either way."""
    complaint = _complaint(complaint_id)
    try:
        action(complaint)
    except actions.ComplaintError as exc:
        db_session().rollback()
        flash(str(exc), "error")
    else:
        db_session().commit()
        flash(done, "ok")
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
    return _act(complaint_id, lambda c: actions.acknowledge(
        db_session(), c, g.user, now=runtime().clock.now()), "Complaint acknowledged.")


@bp.post("/<int:complaint_id>/contact")
@login_required
def contact(complaint_id: int) -> Any:
    form = request.form
    return _act(complaint_id, lambda c: actions.log_contact(
        db_session(), c, g.user, note=form.get("note"), cause=form.get("cause"), fix=form.get("fix"),
        now=runtime().clock.now()), "Contact recorded.")


@bp.post("/<int:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int) -> Any:
    form, rt = request.form, runtime()
    return _act(complaint_id, lambda c: actions.resolve(
        db_session(), c, g.user, cause=form.get("cause"), fix=form.get("fix"), note=form.get("note"),
        settings=rt.settings, now=rt.clock.now()), "Complaint resolved: the customer is surveyed again.")


@bp.post("/<int:complaint_id>/close")
@role_required("manager")
def close(complaint_id: int) -> Any:
    rt = runtime()
    return _act(complaint_id, lambda c: actions.close_dissatisfied(
        db_session(), c, g.user, reason=request.form.get("reason"), settings=rt.settings,
        now=rt.clock.now()), "Complaint closed.")
