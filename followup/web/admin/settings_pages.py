"""Settings (administrators only): stores and policy, survey, message previews, users, API tokens.

Stores, calling windows and the attempt policy are shown read-only: they live in
``config/followup.toml`` so that a change is reviewed and deployed like code. So is the official
holiday calendar (``config/holidays_cn.toml``), shown for this year and the next (R2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, g, render_template, request

from followup import accounts
from followup.message_previews import previews
from followup.models import ROLES
from followup.rules.official_calendar import HolidayBlock, HolidayCalendar, statutory_days
from followup.settings import DEFAULT_TIMEZONE
from followup.web.admin.actions import done, panel_actor, refused
from followup.web.auth import role_required
from followup.web.context import db_session, runtime
from followup.web.i18n import current_language
from followup.web.no_store import no_store

bp = Blueprint("settings", __name__, template_folder="../templates")


#: the calendar is China's: "this year" is the year in Beijing time
CALENDAR_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
            "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


@dataclass(frozen=True)
class CalendarYearShown:
    """One year of the holiday calendar as the settings page shows it."""

    year: int
    covered: bool  # in the calendar file; otherwise only the holidays package's statutory days hold
    provisional: bool
    source: str
    blocks: tuple[HolidayBlock, ...]
    workdays: tuple[date, ...]
    statutory: tuple[tuple[date, str], ...]  # years not in the file: the package's days and names


def calendar_years(calendar: HolidayCalendar, years: Iterable[int], lang: str) -> list[CalendarYearShown]:
    shown = []
    for year in years:
        entry = calendar.year(year)
        if entry is None:
            days = tuple(sorted(statutory_days(year, calendar.country, lang).items()))
            shown.append(CalendarYearShown(year, False, False, "", (), (), days))
        else:
            shown.append(CalendarYearShown(year, True, entry.provisional, entry.source, entry.blocks,
                                           entry.workdays, ()))
    return shown


def day_label(day: date | str, lang: str) -> str:
    """``2026-10-01（周四）`` / ``2026-10-01 (Thu)``."""
    d = day if isinstance(day, date) else date.fromisoformat(day)
    weekday = WEEKDAYS["en" if lang == "en" else "zh"][d.weekday()]
    return f"{d.isoformat()} ({weekday})" if lang == "en" else f"{d.isoformat()}（{weekday}）"


def days_label(days: Iterable[date | str], lang: str) -> str:
    """Dates in order with their weekdays, or a dash when there are none."""
    labels = [day_label(d, lang) for d in sorted(date.fromisoformat(d) if isinstance(d, str) else d for d in days)]
    return (", " if lang == "en" else "、").join(labels) or "—"


@bp.get("/settings")
@role_required("admin")
def index() -> Any:
    rt = runtime()
    s, lang = rt.settings, current_language()
    this_year = rt.clock.now().astimezone(CALENDAR_ZONE).year
    return render_template("admin/settings.html", stores=list(s.stores.values()), survey=s.survey,
                           config_path=s.config_path.name, calendar_file=s.holiday_calendar_file.name,
                           calendar_years=calendar_years(s.holiday_calendar, (this_year, this_year + 1), lang),
                           day=lambda d: day_label(d, lang), days=lambda ds: days_label(ds, lang))


@bp.get("/settings/messages")
@role_required("admin")
def messages() -> Any:
    return render_template("admin/settings_messages.html", previews=previews(runtime().settings))


def _users_page(status: int = 200) -> Any:
    return render_template("admin/settings_users.html", users=accounts.list_users(db_session()), roles=ROLES,
                           stores=list(runtime().settings.stores)), status


@bp.get("/settings/users")
@role_required("admin")
def users() -> Any:
    return _users_page()


@bp.post("/settings/users")
@role_required("admin")
def add_user() -> Any:
    s, now = db_session(), runtime().clock.now()
    form = request.form
    username, role = form.get("username", "").strip(), form.get("role", "")
    # the ticked stores, exactly: a store not ticked is taken away (an administrator sees every store)
    stores = list(dict.fromkeys(code for code in form.getlist("store") if code)) if role != "admin" else []
    advisor_code = form.get("advisor_code", "").strip()
    try:
        if role != "admin" and not stores:
            raise accounts.AccountError("choose the user's store")
        user = accounts.add_user(s, username, form.get("password", ""), role, stores, now=now, actor=panel_actor())
        if role == "advisor" and advisor_code:
            accounts.link_advisor(s, user, stores[0], advisor_code)
    except accounts.AccountError as exc:
        return refused(exc, "settings.users")
    return done("The user is saved.", "settings.users")


@bp.post("/settings/users/<int:user_id>/deactivate")
@role_required("admin")
def deactivate(user_id: int) -> Any:
    s, now = db_session(), runtime().clock.now()
    try:
        if user_id == g.user.id:
            raise accounts.AccountError("you cannot deactivate yourself")
        accounts.deactivate_user(s, user_id, now=now, actor=panel_actor())
    except accounts.AccountError as exc:
        return refused(exc, "settings.users")
    return done("The user is deactivated.", "settings.users")


#: the lifetimes the token form offers (``followup tokens create --expires`` takes any duration)
TOKEN_LIFETIMES = {"": None, "30d": timedelta(days=30), "90d": timedelta(days=90), "365d": timedelta(days=365)}


def _tokens_page(new_token: str | None = None) -> Any:
    s = db_session()
    users = [u for u, _stores in accounts.list_users(s) if u.active]
    return render_template("admin/settings_tokens.html", tokens=accounts.list_tokens(s), new_token=new_token,
                           users=users, stores=sorted(runtime().settings.stores), scopes=accounts.TOKEN_SCOPES,
                           lifetimes=list(TOKEN_LIFETIMES), now=runtime().clock.now())


@bp.get("/settings/tokens")
@role_required("admin")
def tokens() -> Any:
    return _tokens_page()


@bp.post("/settings/tokens")
@role_required("admin")
@no_store  # the new token is shown on this response only
def create_token() -> Any:
    s, now, form = db_session(), runtime().clock.now(), request.form
    name = form.get("name", "")
    try:
        if form.get("expires", "") not in TOKEN_LIFETIMES:
            raise accounts.AccountError("unknown lifetime")
        token = accounts.create_token(s, name, now=now, actor=panel_actor(), user=form.get("user") or None,
                                      store=form.get("store") or None, scope=form.get("scope") or None,
                                      expires_in=TOKEN_LIFETIMES[form.get("expires", "")])
    except accounts.AccountError as exc:
        return refused(exc, "settings.tokens")
    s.commit()
    # the token itself is shown on this response only; the database keeps its hash
    return _tokens_page(new_token=token)


@bp.post("/settings/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: int) -> Any:
    s, now = db_session(), runtime().clock.now()
    try:
        accounts.revoke_token(s, token_id, now=now, actor=panel_actor())
    except accounts.AccountError as exc:
        return refused(exc, "settings.tokens")
    return done("The token is revoked.", "settings.tokens")
