"""The phone simulator (sandbox mode only): pick a demo customer and play them: answer the IVR
with keypad buttons, reply to SMS. Thin views over :mod:`followup.sandbox.phone_simulator`.

What the IVR said last and the digits typed so far live in the browser's session: the call's
real state (step, answers) is in the database like any IVR call's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from followup.sandbox import phone_simulator as sim
from followup.settings import DEFAULT_TIMEZONE
from followup.web.auth import role_required
from followup.web.context import db_session, runtime

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="../templates")
ROLES = ("info_staff", "manager")  # and admin
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")



@bp.before_request
def _sandbox_only() -> Any:
    if not runtime().settings.simulator:
        return render_template("admin/simulator_off.html"), 404
    return None


def _stores() -> list[str]:
    return list(g.stores)


def _remember(sid: str, spoken: sim.Spoken | None, typed: str = "") -> None:
    state = session.get("sim") or {}
    if state.get("sid") != sid:
        state = {"sid": sid, "said": []}
    if spoken is not None:
        state["said"] = (state.get("said") or [])[-6:] + spoken.lines  # keep the cookie small
    state["typed"] = typed
    session["sim"] = state


def _phone_page(customer_id: int) -> Any:
    return redirect(url_for("simulator.phone", customer_id=customer_id))


@bp.get("/")
@role_required(*ROLES)
def index() -> Any:
    query = (request.args.get("q") or "").strip()[:50]
    customers = sim.find_customers(db_session(), _stores(), query)
    return render_template("admin/simulator.html", customers=customers, q=query)


@bp.get("/<int:customer_id>")
@role_required(*ROLES)
def phone(customer_id: int) -> Any:
    rt = runtime()
    try:
        p = sim.phone(db_session(), rt.settings, customer_id, _stores())
    except LookupError:
        abort(404)
    state = session.get("sim") or {}
    # the words of the call in progress, or of the last call made here once it has ended
    said = state.get("said", []) if (p.live is None or state.get("sid") == p.live.sid) else []
    typed = state.get("typed", "") if p.live and state.get("sid") == p.live.sid else ""
    return render_template("admin/simulator_phone.html", p=p, said=said, typed=typed, keys=KEYS,
                           tz=rt.settings.stores[p.customer.store_code].timezone.key
                           if p.customer.store_code in rt.settings.stores else DEFAULT_TIMEZONE)


def _act(customer_id: int, action: Any) -> Any:
    """Run one simulator action in the request's session; a refusal is shown, nothing half-done kept."""
    s = db_session()
    try:
        action(s)
    except LookupError:
        s.rollback()
        abort(404)
    except sim.SimulatorError as exc:
        s.rollback()
        flash(gettext(str(exc)), "error")
        return _phone_page(customer_id)
    s.commit()
    return _phone_page(customer_id)


def _on_phone(customer_id: int, step: Callable[..., object], value: str) -> Any:
    """:func:`_act` with ``step(session, settings, customer_id, value, stores, now)`` of the simulator."""
    rt = runtime()
    return _act(customer_id, lambda s: step(s, rt.settings, customer_id, value, _stores(), rt.clock.now()))


@bp.post("/<int:customer_id>/ring")
@role_required(*ROLES)
def ring(customer_id: int) -> Any:
    rt = runtime()
    attempt = request.form.get("attempt", "")
    if not attempt.isdigit():
        abort(400)
    pick_up = request.form.get("answer") != "ignore"

    def action(s: Any) -> None:
        sid, spoken = sim.ring(s, rt.settings, customer_id, int(attempt), _stores(), rt.clock.now(), pick_up=pick_up)
        if spoken is not None:
            _remember(sid, spoken)

    return _act(customer_id, action)


@bp.post("/<int:customer_id>/key")
@role_required(*ROLES)
def key(customer_id: int) -> Any:
    """One keypad button. One-key steps send it at once; 0-10 steps collect digits until ``#``."""
    rt = runtime()
    sid, pressed = request.form.get("sid", ""), request.form.get("key", "")
    if pressed not in KEYS and pressed != "timeout":
        abort(400)
    live = sim.phone(db_session(), rt.settings, customer_id, _stores()).live
    if live is None or live.sid != sid:
        flash(gettext("This call has ended."), "error")
        return _phone_page(customer_id)
    state = session.get("sim") or {}
    typed = state.get("typed", "") if state.get("sid") == sid else ""
    if pressed == "timeout":
        digits = ""
    elif live.hash_terminated and pressed != "#":
        _remember(sid, None, (typed + pressed)[-4:])
        return _phone_page(customer_id)
    else:
        digits = typed + pressed if live.hash_terminated else pressed

    def action(s: Any) -> None:
        _remember(sid, sim.press(s, rt.settings, customer_id, sid, digits, _stores(), rt.clock.now()))

    return _act(customer_id, action)


@bp.post("/<int:customer_id>/hangup")
@role_required(*ROLES)
def hang_up(customer_id: int) -> Any:
    return _on_phone(customer_id, sim.end_call, request.form.get("sid", ""))


@bp.post("/<int:customer_id>/sms")
@role_required(*ROLES)
def reply(customer_id: int) -> Any:
    return _on_phone(customer_id, sim.reply_sms, request.form.get("body", ""))
