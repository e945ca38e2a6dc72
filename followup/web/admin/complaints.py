"""The complaints pages (R7): the queue, one complaint with its steps, and the staff's actions.

Thin: parse, authorise, call :mod:`followup.complaints`, render. Another store's complaint, or
(for an advisor) a complaint about another advisor's visit, is a 404; an action the user may not
take (not the assignee or above, not a manager) is a 403 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from followup.complaints import actions
from followup.complaints.authority import CATEGORY_ROLES, CLOSING_ROLES, may_act_on
from followup.complaints.queue import complaint_queue, complaint_view, find_complaint
from followup.models import Complaint
from followup.rules.complaint_levels import IN_HAND, MAX_LEVEL
from followup.rules.complaint_words import CATEGORIES, CATEGORY_LABELS
from followup.web.auth import login_required, role_required
from followup.web.context import db_session, runtime
from followup.web.i18n import N_, current_language

bp = Blueprint("complaints", __name__, template_folder="../templates", url_prefix="/complaints")

#: message ids the complaint services raise and these views flash (found by ``pybabel extract``)
MESSAGES = (
    N_("Only the assignee or someone above may handle this complaint."),
    N_("Only an open or acknowledged complaint can be escalated."),
    N_("The complaint is at the top level (general manager) already."),
    N_("Only information staff or a manager can change the category."),
    N_("Choose the complaint's category."),
    N_("Only a manager can close a complaint the customer did not confirm."),
    N_("A resolved complaint is closed unconfirmed only once its re-survey went unanswered for the re-survey "
       "timeout (7 days by default)."),
    N_("A service advisor cannot open a complaint: information staff or a manager does."),
    N_("Note: say what the customer complained about."),
    N_("This case was cancelled: no complaint can be opened on it."),
    N_("This case already has an open complaint."),
    N_("Complaint escalated: the next level is in charge."),
    N_("Category saved."),
    N_("Complaint closed: resolution not confirmed by the customer."),
    N_("Complaint opened: the visit's advisor is in charge."),
    # step kinds and statuses shown through _(code)
    N_("category"), N_("progress_sms"), N_("resurvey_reminder"), N_("unconfirmed"), N_("resolved_unconfirmed"),
)


def category_choices() -> list[tuple[str, str]]:
    """``(code, label)`` of every category in the page's language."""
    index = 1 if current_language() == "en" else 0
    return [(code, CATEGORY_LABELS[code][index]) for code in CATEGORIES]


def _complaint(complaint_id: int) -> Complaint:
    found = find_complaint(db_session(), complaint_id, g.stores, g.user)
    if found is None:
        abort(404)
    return found


def _act(complaint_id: int, action: Callable[[Complaint], object], done: str, *, back: str | None = None) -> Any:
    """One staff action on a complaint the user may see: saved with ``done`` flashed, or, when the
    rules refuse it, rolled back with the reason flashed (403 when the user may not do it at all);
    back to the complaint (or the queue) either way."""
    complaint = _complaint(complaint_id)
    try:
        action(complaint)
    except actions.NotAllowed as exc:
        db_session().rollback()
        abort(403, description=gettext(str(exc)))
    except actions.ComplaintError as exc:
        db_session().rollback()
        flash(str(exc), "error")
    else:
        db_session().commit()
        flash(done, "ok")
    if back == "queue":
        return redirect(url_for("complaints.queue"))
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.get("")
@login_required
def queue() -> Any:
    if not g.stores:
        abort(403)
    show_all = request.args.get("all") == "1"
    rows = complaint_queue(db_session(), g.stores, g.user, now=runtime().clock.now(), include_closed=show_all)
    return render_template("admin/complaints.html", rows=rows, show_all=show_all, categories=category_choices(),
                           category_labels=dict(category_choices()), can_set_category=g.user.role in CATEGORY_ROLES)


@bp.get("/<int:complaint_id>")
@login_required
def detail(complaint_id: int) -> Any:
    view = complaint_view(db_session(), complaint_id, g.stores, g.user, now=runtime().clock.now())
    if view is None:
        abort(404)
    settings = runtime().settings
    c = view.complaint
    in_hand = c.status in IN_HAND and may_act_on(db_session(), settings, c, g.user)
    manager = g.user.role in CLOSING_ROLES
    return render_template(
        "admin/complaints_detail.html", v=view, max_resurveys=settings.complaints.max_resurveys,
        categories=category_choices(), category_labels=dict(category_choices()),
        can_act=in_hand, can_escalate=in_hand and c.level < MAX_LEVEL,
        can_set_category=g.user.role in CATEGORY_ROLES and c.status != "closed",
        can_close=manager and actions.can_manager_close(c, settings),
        can_close_unconfirmed=manager and actions.can_close_unconfirmed(c),
    )


def _staff_action(complaint_id: int, action: Callable[..., object], done: str, *, with_settings: bool = True,
                  back: str | None = None, **fields: object) -> Any:
    """:func:`_act` with ``action(session, complaint, user, **fields, [settings,] now)`` of
    :mod:`followup.complaints.actions`, the form's ``fields`` given by the view."""
    rt = runtime()
    extra: dict[str, object] = {"settings": rt.settings} if with_settings else {}
    return _act(complaint_id, lambda c: action(db_session(), c, g.user, **fields, **extra, now=rt.clock.now()),
                done, back=back)


@bp.post("/<int:complaint_id>/acknowledge")
@login_required
def acknowledge(complaint_id: int) -> Any:
    return _staff_action(complaint_id, actions.acknowledge, "Complaint acknowledged.")


@bp.post("/<int:complaint_id>/contact")
@login_required
def contact(complaint_id: int) -> Any:
    form = request.form
    return _staff_action(complaint_id, actions.log_contact, "Contact recorded.",
                         note=form.get("note"), cause=form.get("cause"), fix=form.get("fix"))


@bp.post("/<int:complaint_id>/escalate")
@login_required
def escalate(complaint_id: int) -> Any:
    return _staff_action(complaint_id, actions.escalate_now, "Complaint escalated: the next level is in charge.",
                         note=request.form.get("note"))


@bp.post("/<int:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int) -> Any:
    form = request.form
    return _staff_action(complaint_id, actions.resolve, "Complaint resolved: the customer is surveyed again.",
                         cause=form.get("cause"), fix=form.get("fix"), note=form.get("note"))


@bp.post("/<int:complaint_id>/category")
@login_required
def category(complaint_id: int) -> Any:
    return _staff_action(complaint_id, actions.set_category, "Category saved.", with_settings=False,
                         back=request.form.get("back"), category=request.form.get("category", ""))


@bp.post("/<int:complaint_id>/close")
@role_required("manager")
def close(complaint_id: int) -> Any:
    return _staff_action(complaint_id, actions.close_dissatisfied, "Complaint closed.",
                         reason=request.form.get("reason"))


@bp.post("/<int:complaint_id>/close-unconfirmed")
@role_required("manager")
def close_unconfirmed(complaint_id: int) -> Any:
    return _staff_action(complaint_id, actions.close_unconfirmed,
                         "Complaint closed: resolution not confirmed by the customer.", note=request.form.get("note"))
