"""The case list, the case page and the staff's actions on a case. Thin: parse, authorise, call, render."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from followup.cases import staff_actions
from followup.cases.case_file import case_file
from followup.cases.case_list import (
    ACTIVITY,
    FUNNEL_STEPS,
    CaseFilter,
    advisors_of,
    find_case,
    list_cases,
)
from followup.complaints.errors import ComplaintError, NotAllowed
from followup.complaints.opening import can_open_from_case, open_by_staff
from followup.models import CASE_OUTCOMES, CASE_STATES, FollowupCase, Store
from followup.settings import SERVICE_TYPES
from followup.surveys.questions import questions_for_case
from followup.web.admin.complaints import category_choices
from followup.web.auth import login_required, viewer
from followup.web.context import db_session, runtime
from followup.web.no_store import no_store

bp = Blueprint("cases", __name__, template_folder="../templates")


def _date(text: str | None, fmt: str) -> date | None:
    try:
        return datetime.strptime(text or "", fmt).date()
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def parse_filter(args: Any) -> CaseFilter:
    """The list's query arguments; values that are not one of the known ones are ignored."""

    def pick(name: str, allowed: tuple[str, ...]) -> str | None:
        value = args.get(name)
        return value if value in allowed else None

    return CaseFilter(
        state=pick("state", CASE_STATES), outcome=pick("outcome", CASE_OUTCOMES),
        advisor_id=_int(args.get("advisor")), service_type=pick("service", SERVICE_TYPES),
        deadline_on=_date(args.get("deadline"), "%Y-%m-%d"), deadline_month=_date(args.get("month"), "%Y-%m"),
        rule=pick("rule", ("pending", "met", "breached")), at_risk=args.get("at_risk") == "1",
        activity=pick("activity", ACTIVITY), funnel=pick("funnel", FUNNEL_STEPS),
        open_only=args.get("open") == "1", flagged=args.get("flagged") == "1",
        search=(args.get("q") or "").strip()[:100] or None,
    )


@bp.get("/cases")
@login_required
def index() -> Any:
    f = parse_filter(request.args)
    page = list_cases(db_session(), viewer(), f, runtime().clock.now(), page=_int(request.args.get("page")) or 1)
    return render_template(
        "admin/cases.html", page=page, f=f, args=f.query_args(), advisors=advisors_of(db_session(), viewer()),
        states=CASE_STATES, outcomes=CASE_OUTCOMES, services=SERVICE_TYPES,
    )


def _case_or_404(case_id: int) -> FollowupCase:
    case = find_case(db_session(), viewer(), case_id)
    if case is None:
        abort(404)  # another store's case, or another advisor's customer, looks like no case at all
    return case


def _render_case(case: FollowupCase, *, revealed: str | None = None, status: int = 200) -> Any:
    file = case_file(db_session(), case)
    questions = questions_for_case(db_session(), case, runtime().settings)  # R5: the visit's questions
    return render_template(
        "admin/cases_detail.html", c=file, tz=file.store.timezone, questions=questions, revealed=revealed,
        outcomes=staff_actions.MANUAL_CALL_OUTCOMES, flags=tuple(staff_actions.CUSTOMER_FLAGS),
        own_customer=staff_actions.is_visit_advisor(db_session(), case, g.user),  # R3: no call form, no marks
        can_open_complaint=can_open_from_case(db_session(), case, g.user), complaint_categories=category_choices(),
    ), status


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    return _render_case(_case_or_404(case_id))


def _callback_at(text: str | None, zone: str) -> datetime | None:
    """The form's local ``YYYY-MM-DDTHH:MM`` in the store's zone, as UTC; None when empty or unreadable."""
    if not text:
        return None
    try:
        local = datetime.strptime(text.strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _act(case_id: int, action: Any) -> Any:
    """Run one staff action on a visible case, commit, and go back to the case page with a message."""
    case = _case_or_404(case_id)
    s = db_session()
    try:
        message = action(case)
    except staff_actions.OwnCustomerRefused as exc:
        s.rollback()
        abort(403, description=gettext(str(exc)))  # R3: the visit's own advisor, not a mistake to retry
    except staff_actions.StaffActionError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    s.commit()
    flash(message, "ok")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/cases/<int:case_id>/call")
@login_required
def record_call(case_id: int) -> Any:
    rt = runtime()

    def act(case: FollowupCase) -> str:
        outcome = request.form.get("outcome", "")
        zone = db_session().get_one(Store, case.store_id).timezone
        questions = questions_for_case(db_session(), case, rt.settings)
        answers = staff_actions.parse_answers(request.form, questions) if outcome == "answered" else None
        staff_actions.record_manual_call(
            db_session(), rt.settings, case, user=g.user, outcome=outcome, answers=answers,
            callback_at=_callback_at(request.form.get("callback_at"), zone), now=rt.clock.now(),
        )
        return "The call is recorded."

    return _act(case_id, act)


@bp.post("/cases/<int:case_id>/flags")
@login_required
def mark(case_id: int) -> Any:
    rt = runtime()

    def act(case: FollowupCase) -> str:
        on = request.form.get("on") == "1"
        staff_actions.mark_customer(db_session(), rt.settings, case, flag=request.form.get("flag", ""), on=on,
                                    user=g.user, now=rt.clock.now())
        return "The customer is marked." if on else "The mark is removed."

    return _act(case_id, act)


@bp.post("/cases/<int:case_id>/note")
@login_required
def note(case_id: int) -> Any:
    def act(case: FollowupCase) -> str:
        staff_actions.add_note(db_session(), case, user=g.user, text=request.form.get("text", ""),
                               now=runtime().clock.now())
        return "The note is added."

    return _act(case_id, act)


@bp.post("/cases/<int:case_id>/complaint")
@login_required
def open_complaint(case_id: int) -> Any:
    """R7: staff open a complaint from the case (not the visit's own advisor: 403)."""
    case, rt, s = _case_or_404(case_id), runtime(), db_session()
    try:
        open_by_staff(s, rt.settings, case, g.user, category=request.form.get("category", ""),
                      note=request.form.get("note"), now=rt.clock.now())
    except NotAllowed as exc:
        s.rollback()
        abort(403, description=gettext(str(exc)))
    except ComplaintError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    s.commit()
    flash("Complaint opened: the visit's advisor is in charge.", "ok")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/cases/<int:case_id>/reveal")
@login_required
@no_store  # the full number, on this response only
def reveal(case_id: int) -> Any:
    case = _case_or_404(case_id)
    s = db_session()
    try:
        number = staff_actions.reveal_phone(s, case, user=g.user, which=request.form.get("which", "mobile"),
                                            now=runtime().clock.now())
    except staff_actions.StaffActionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    s.commit()
    # shown on this response only: reloading the page shows the masked number again
    return _render_case(case, revealed=number)
