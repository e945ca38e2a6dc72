"""The advisor's own 3-day calls (R11): the list of open ones and recording one. Thin.

An advisor sees and records only their own; a manager or administrator those of their stores
(information staff neither: the call is the advisor's duty, not a survey). Another store's or
another advisor's task is a 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from followup.advisor_calls.recording import RECORDING_ROLES, DcCallError, find_dc_call, record_dc_call
from followup.advisor_calls.worklist import open_dc_calls
from followup.web.auth import login_required, role_required
from followup.web.context import db_session, runtime
from followup.web.i18n import N_

bp = Blueprint("advisor_calls", __name__, template_folder="../templates", url_prefix="/advisor-calls")

#: the messages :class:`DcCallError` carries, for the catalogue
MESSAGES = (N_("This call is already recorded."), N_("Say whether you reached the customer."),
            N_("The note is too long (at most 2000 characters)."), N_("The 3-day call is recorded."))


@bp.get("")
@role_required("advisor", "manager")
def index() -> Any:
    calls = open_dc_calls(db_session(), g.user, g.stores, runtime().clock.now())
    return render_template("admin/advisor_calls.html", calls=calls)


@bp.post("/<int:call_id>")
@login_required
def record(call_id: int) -> Any:
    if g.user.role not in RECORDING_ROLES:
        abort(403)
    session = db_session()
    call = find_dc_call(session, g.user, g.stores, call_id)
    if call is None:
        abort(404)
    back = url_for("advisor_calls.index") if request.form.get("back") == "list" else url_for("admin.home")
    try:
        record_dc_call(session, call, user=g.user, reached=request.form.get("reached", ""),
                       note=request.form.get("note", ""), now=runtime().clock.now())
    except DcCallError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    session.commit()
    flash("The 3-day call is recorded.", "ok")
    return redirect(back)
