"""The information staff's call worklist page (RULES R2, R3, R5; CONTRACT §9): ``/worklist``.

Thin: parse, authorise, call :mod:`followup.cases.worklist`, render. The list shows the calls due
now inside staff hours, soonest deadline first; taking one (a POST: it reveals the number, audited)
claims it for 15 minutes and opens its call page: the script in the customer's language, the
questions with their answer buttons, the previous attempts, the number, and one button per
outcome. Saving records through the service and goes straight to the next call. Everything works
as plain forms; ``static/worklist.js`` adds the keyboard shortcuts.

It is the home page of an information staff member whose stores all call by staff (``/``
redirects here; ``/?view=monitor`` still shows the monitor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from followup.cases import worklist
from followup.cases.call_script import call_script
from followup.models import User
from followup.rules import worklist as worklist_rules
from followup.settings import Settings
from followup.web.auth import login_required
from followup.web.context import db_session, runtime
from followup.web.i18n import N_, current_language

bp = Blueprint("worklist", __name__, template_folder="../templates", url_prefix="/worklist")

#: the outcome buttons in page order with their keys (the first is the form's default: Enter saves
#: the answers when no other outcome was chosen)
OUTCOME_KEYS = (("answered", "A"), ("no_answer", "W"), ("busy", "B"), ("voicemail", "V"), ("hung_up", "H"),
                ("invalid_number", "K"), ("declined", "D"), ("callback_requested", "C"))
#: the outcome buttons' words, as a caller says them
OUTCOME_WORDS = {
    "answered": N_("Answered: save the answers"), "no_answer": N_("No answer"), "busy": N_("Line busy"),
    "voicemail": N_("Voicemail"), "hung_up": N_("Hung up"), "invalid_number": N_("Wrong or dead number"),
    "declined": N_("Declined the survey"), "callback_requested": N_("Call back at"),
}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
#: the field errors of :mod:`followup.rules.worklist`, shown translated (their Chinese is in the
#: catalogue; a test checks each one)
FIELD_MESSAGES = (
    worklist_rules.UNKNOWN_OUTCOME, worklist_rules.ANSWERS_MISSING, worklist_rules.ANSWERS_NOT_MAP,
    worklist_rules.NOT_A_QUESTION, worklist_rules.ANSWER_REQUIRED, worklist_rules.SCALE_RANGE,
    worklist_rules.YES_NO, worklist_rules.TEXT_TOO_LONG, worklist_rules.NOT_TEXT, worklist_rules.CALLBACK_MISSING,
    worklist_rules.CALLBACK_NOT_TIME, worklist_rules.CALLBACK_PAST, worklist_rules.CALLBACK_OUTSIDE)
#: flashed messages
MESSAGES = (N_("The call is recorded."), N_("The call is back on the list."), N_("No call is due right now."),
            N_("The call is recorded. No other call is due right now."))


# --- who sees it --------------------------------------------------------------------------------


def staff_store_codes(settings: Settings, stores: Sequence[str]) -> list[str]:
    """Those of ``stores`` whose calls are made by staff."""
    return [c for c in stores if c in settings.stores and settings.stores[c].calls_by == "staff"]


def worklist_is_home(user: User, stores: Sequence[str], settings: Settings) -> bool:
    """An information staff member whose stores all call by staff: their day is the worklist, so
    ``/`` takes them there (a manager keeps the monitor, with the capacity panel and a link)."""
    return user.role == "info_staff" and bool(stores) and len(staff_store_codes(settings, stores)) == len(stores)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """The menu's worklist entry, and where the monitor is for those whose home is the worklist."""
    user, stores = g.get("user"), g.get("stores")
    if user is None or stores is None:
        return {"worklist_nav": False, "monitor_href": "/"}
    settings = runtime().settings
    return {"worklist_nav": user.role in worklist.WORKLIST_ROLES and bool(staff_store_codes(settings, stores)),
            "monitor_href": "/?view=monitor" if worklist_is_home(user, stores, settings) else "/"}


def _worker() -> User:
    """The logged-in user, who must be one who works the worklist (an advisor gets 403: R3)."""
    user: User = g.user
    if user.role not in worklist.WORKLIST_ROLES:
        abort(403)
    return user


def _store_code(user: User) -> str | None:
    """The store asked for (``store=``), which must be one of the user's staff stores (else 404),
    or the user's first staff store; None when they have none."""
    rt = runtime()
    stores = worklist.worklist_stores(db_session(), rt.settings, user)
    asked = (request.values.get("store") or "").strip()
    if asked:
        if asked not in stores:
            abort(404)  # another store's worklist looks like none at all
        return asked
    return stores[0] if stores else None


def _zone(code: str) -> ZoneInfo:
    return runtime().settings.stores[code].timezone


# --- the list -----------------------------------------------------------------------------------


@bp.get("")
@login_required
def index() -> Any:
    user = _worker()
    rt, session = runtime(), db_session()
    stores = worklist.worklist_stores(session, rt.settings, user)
    code = _store_code(user)
    page = worklist.due_calls(session, rt.settings, user, code, rt.clock.now()) if code else None
    mine = next((c for c in page.calls if c.claimed_by == user.username), None) if page else None
    return render_template("admin/worklist.html", page=page, stores=stores, store=code, mine=mine,
                           store_names=_store_names(rt.settings, stores), zone=_zone(code).key if code else None)


def _store_names(settings: Settings, codes: Sequence[str]) -> dict[str, str]:
    """The stores' names in the panel's language."""
    english = current_language() == "en"
    return {c: settings.stores[c].name_en if english else settings.stores[c].name for c in codes}


@bp.post("/next")
@login_required
def take_next() -> Response:
    """Take the next call (the one held already, else the first free one) and open it."""
    user = _worker()
    code = _store_code(user)
    if code is None:
        abort(404)
    rt, session = runtime(), db_session()
    taken = worklist.claim_next(session, rt.settings, user, code, rt.clock.now())
    session.commit()
    if taken is None:
        flash("No call is due right now.", "ok")
        return redirect(url_for("worklist.index", store=code))
    return redirect(url_for("worklist.call", attempt_id=taken[0].attempt_id))


@bp.post("/<int:attempt_id>/claim")
@login_required
def claim(attempt_id: int) -> Any:
    """Open a call from the list: claim it for 15 minutes (its number revealed, audited)."""
    user = _worker()
    rt, session = runtime(), db_session()
    try:
        worklist.claim(session, rt.settings, user, attempt_id, rt.clock.now())
    except worklist.WorklistError as exc:
        session.rollback()
        return _refused(user, attempt_id, exc)
    session.commit()
    return redirect(url_for("worklist.call", attempt_id=attempt_id))


# --- one call -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotDay:
    """One day of the callback time picker: its date, weekday (0 = Monday) and times."""

    day: date
    weekday: int
    #: (value sent: ISO 8601 with the store's offset, shown: HH:MM)
    times: list[tuple[str, str]]


def _slot_days(slots: Sequence[datetime], tz: ZoneInfo) -> list[SlotDay]:
    days: list[SlotDay] = []
    for at in slots:
        local = at.astimezone(tz)
        if not days or days[-1].day != local.date():
            days.append(SlotDay(local.date(), local.weekday(), []))
        days[-1].times.append((local.isoformat(timespec="minutes"), f"{local:%H:%M}"))
    return days


def _call_page(user: User, attempt_id: int, *, errors: Sequence[dict[str, str]] = (),
               values: Any = None, status: int = 200) -> Any:
    rt, session = runtime(), db_session()
    now = rt.clock.now()
    try:
        call, held = worklist.held_call(session, rt.settings, user, attempt_id, now)
    except worklist.WorklistError as exc:
        session.rollback()
        return _refused(user, attempt_id, exc)
    tz = _zone(call.store_code)
    by_field: dict[str, str] = {}
    for e in errors:
        by_field.setdefault(e["field"], e["message"])
    resp = render_template(
        "admin/worklist_call.html", call=call, held=held, script=call_script(call, rt.settings),
        slot_days=_slot_days(worklist.callback_slots(rt.settings, call.store_code, now), tz), zone=tz.key,
        outcomes=OUTCOME_KEYS, words=OUTCOME_WORDS, weekdays=WEEKDAYS, errors=by_field,
        values=values if values is not None else {}, store_name=_store_names(rt.settings, [call.store_code])[
            call.store_code]), status
    return resp


@bp.get("/<int:attempt_id>")
@login_required
def call(attempt_id: int) -> Any:
    """The call page of a call the user holds; someone else's is 409, one not held 404."""
    return _call_page(_worker(), attempt_id)


def _answers(form: Any) -> dict[str, str]:
    """The answers as sent (``q_<question id>``), empty ones left out: the service names what is missing."""
    return {key[2:]: value for key, value in form.items() if key.startswith("q_") and value.strip()}


@bp.post("/<int:attempt_id>/outcome")
@login_required
def outcome(attempt_id: int) -> Any:
    """Record the outcome (one button per outcome), then straight to the next call."""
    user = _worker()
    rt, session = runtime(), db_session()
    form = request.form
    try:
        done = worklist.record_outcome(
            session, rt.settings, user, attempt_id, form.get("outcome", ""), _answers(form),
            form.get("callback_at") or None, form.get("note") or None, now=rt.clock.now())
    except worklist.FieldErrors as exc:
        session.rollback()
        return _call_page(user, attempt_id, errors=exc.errors, values=form, status=422)
    except worklist.WorklistError as exc:
        session.rollback()
        return _refused(user, attempt_id, exc)
    session.commit()
    taken = worklist.claim_next(session, rt.settings, user, done.store_code, rt.clock.now())
    session.commit()
    if taken is None:
        flash("The call is recorded. No other call is due right now.", "ok")
        return redirect(url_for("worklist.index", store=done.store_code))
    flash("The call is recorded.", "ok")
    return redirect(url_for("worklist.call", attempt_id=taken[0].attempt_id))


@bp.post("/<int:attempt_id>/release")
@login_required
def release(attempt_id: int) -> Any:
    """Put a call one holds back on the list (it was taken by mistake)."""
    user = _worker()
    rt, session = runtime(), db_session()
    try:
        worklist.release(session, rt.settings, user, attempt_id, rt.clock.now())
    except worklist.WorklistError as exc:
        session.rollback()
        return _refused(user, attempt_id, exc)
    session.commit()
    flash("The call is back on the list.", "ok")
    return redirect(url_for("worklist.index", store=request.form.get("store") or None))


# --- refusals -----------------------------------------------------------------------------------


def _refused(user: User, attempt_id: int, exc: worklist.WorklistError) -> Any:
    """A call the user cannot have: taken by someone else (409), gone or never theirs to see (404),
    their own customer (403); with the next call they can take."""
    if isinstance(exc, worklist.Forbidden):
        abort(403)
    rt, session = runtime(), db_session()
    now = rt.clock.now()
    code = _store_code(user)
    holder = None
    nxt = None
    if code is not None:
        calls = worklist.due_calls(session, rt.settings, user, code, now).calls
        holder = next((c.claimed_by for c in calls if c.attempt_id == attempt_id), None)
        nxt = next((c for c in calls if c.claimed_by in (None, user.username) and c.attempt_id != attempt_id), None)
    status = 409 if isinstance(exc, worklist.Conflict) else 404
    reason = "taken" if holder not in (None, user.username) else ("conflict" if status == 409 else "gone")
    return render_template("admin/worklist_refused.html", reason=reason, holder=holder, next_call=nxt, store=code,
                           zone=_zone(code).key if code else None), status
