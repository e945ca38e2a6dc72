"""Layered settings: committed TOML defaults, then ``FOLLOWUP_CONFIG``, then the environment.

The result is one frozen, typed :class:`Settings`. Anything wrong stops start-up with a
:class:`ConfigError` whose message names the key and the problem, e.g.
``config error: policy.min_gap: not a duration: '3 hours' (use 90s, 30m, 3h or 2d)``.

Environment overrides: the variables of CONTRACT §2, plus ``FOLLOWUP__<section>__<key>`` for any
TOML key (``FOLLOWUP__policy__min_gap=2h``, ``FOLLOWUP__stores__SZ01__name=...``); values are read
as TOML when they parse (numbers, booleans, arrays) and as strings otherwise.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from followup.rules.calendar import intersect_windows
from followup.rules.complaint_words import CATEGORIES
from followup.rules.official_calendar import CalendarYear, HolidayBlock, HolidayCalendar
from followup.rules.values import CALLS_BY, STAFF_HOURS

# The rules' value types live with the rules (followup/rules/ stays pure); settings build them, and
# they stay importable from here (``X as X`` marks the re-export) because many callers use them so.
from followup.rules.values import BonusSettings as BonusSettings
from followup.rules.values import ComplaintSettings as ComplaintSettings
from followup.rules.values import ContactPolicy as ContactPolicy
from followup.rules.values import Question as Question
from followup.rules.values import SurveySettings as SurveySettings
from followup.rules.values import Window as Window

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "followup.toml"
DEFAULT_SECRET_KEY = "dev-insecure-secret-key"
#: the shortest ``FOLLOWUP_SECRET_KEY`` production accepts (CONTRACT §2)
MIN_SECRET_KEY_LENGTH = 32
ENVIRONMENTS = ("development", "test", "production")
CHANNEL_MODES = ("sandbox", "twilio")
#: who sends the SMS (CONTRACT §2): calls stay with the channel mode
SMS_PROVIDERS = ("twilio", "aliyun", "sandbox")
#: Alibaba Cloud SMS (CONTRACT §10): each message kind's template variables may be any of these
#: (what the service fills in; each value at most 35 characters once filled in)
_VISIT_VARIABLES = ("customer_name", "visit_date", "service_label", "survey_url", "store_name", "store_phone")
ALIYUN_TEMPLATE_VARIABLES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "survey": (*_VISIT_VARIABLES, "question", "hint"),        # the first survey SMS: greeting + first question
    "reminder": (*_VISIT_VARIABLES, "question", "hint"),      # R4.3 the one reminder
    "resurvey": (*_VISIT_VARIABLES, "question", "hint"),      # R7 after a complaint
    "re_remind": (*_VISIT_VARIABLES, "question", "hint"),     # R7 the re-survey's reminder
    "progress": _VISIT_VARIABLES,                             # R7 a complaint's progress
    "question": ("question", "hint", "store_name"),           # the next question of the conversation
    "reask": ("question", "hint", "store_name"),              # an unreadable answer: the question again
    "thanks": ("store_name", "store_phone"),
    "incomplete": ("store_name", "store_phone"),
    "code_hint": ("example", "store_name"),
    "help": ("store_name", "store_phone"),
    "opt_out_confirmation": ("store_name", "store_phone"),    # R6: carries no opt-out hint
    "optin": ("store_name", "store_phone"),
})
#: Alibaba Cloud's limit on one template variable's value
ALIYUN_VARIABLE_MAX = 35
SERVICE_TYPES = ("maintenance", "repair", "warranty", "insurance", "quick", "internal")
#: a store's time zone when its configuration names none, and the zone of anything without a store
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config error: {key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class StoreSettings:
    """One dealership (门店) as configured."""

    code: str
    name: str
    name_en: str
    timezone: ZoneInfo
    address: str
    phone: str
    sms_signature: str
    service_manager: str | None
    general_manager: str | None
    policy: ContactPolicy

    @property
    def calls_by(self) -> str:
        """Who makes this store's survey calls (R3): ``ivr`` or ``staff`` (the call worklist)."""
        return self.policy.calls_by


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str | None
    auth_token: str | None
    from_number: str | None
    api_base_url: str
    calls_per_second: float
    sms_per_second: float
    ring_timeout: int
    request_timeout: float


@dataclass(frozen=True)
class AliyunTemplate:
    """``[aliyun.templates.<kind>]``: the approved template's ``code`` and the variables it takes."""

    kind: str
    code: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class AliyunSettings:
    """Alibaba Cloud SMS (CONTRACT §2, §10): credentials and callback token from the environment,
    templates from ``[aliyun.templates.*]``. ``endpoint`` is a host[:port]; ``protocol`` https
    unless ``ALIYUN_SMS_ENDPOINT`` was a full ``http://`` URL (a local emulator)."""

    access_key_id: str | None = None
    access_key_secret: str | None = None
    endpoint: str = "dysmsapi.aliyuncs.com"
    protocol: str = "https"
    callback_token: str | None = None
    templates: Mapping[str, AliyunTemplate] = field(default_factory=lambda: MappingProxyType({}))
    #: seconds to wait for the SMS API (connect, and read)
    request_timeout: float = 10.0

    def template(self, kind: str) -> AliyunTemplate:
        try:
            return self.templates[kind]
        except KeyError:
            raise ConfigError(f"aliyun.templates.{kind}", "no template configured for this message kind") from None


@dataclass(frozen=True)
class LetterSettings:
    """The daily letter batch (R4.4): built once a day at ``batch_time`` store local time."""

    batch_time: time = time(16, 0)
    out_dir: Path = ROOT / "instance" / "letters"


@dataclass(frozen=True)
class EngineSettings:
    """How the worker works through due contacts; read from the environment only."""

    #: ``FOLLOWUP_DISPATCH_BATCH``: rows one worker claims per pass (smaller spreads a backlog over
    #: more workers, larger costs fewer round trips)
    dispatch_batch: int = 500
    #: ``FOLLOWUP_LEASE_SECONDS``: how long a claimed row stays its worker's (wall clock) before a dead
    #: worker's claim comes back; longer than one pass over a claimed batch
    lease_seconds: float = 300.0
    #: ``FOLLOWUP_TICK_SECONDS``: how often the worker runs each duty
    tick_seconds: float = 10.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


@dataclass(frozen=True)
class Subscriber:
    url: str
    secret: str


@dataclass(frozen=True)
class PrivacySettings:
    """``[privacy]``: how long personal data and raw records are kept (RULES R13, the daily purge)."""

    #: a customer with no visit for this many months is anonymised
    retain_months: int = 36
    #: events the panel's own receiver stored (``received_events``)
    received_events_days: int = 30
    #: the webhook delivery log (each try, with the receiver's short answer)
    delivery_log_days: int = 90
    #: Twilio callbacks seen, with their raw parameters (``twilio_callbacks``)
    twilio_callbacks_days: int = 30
    #: failed logins (usernames and addresses)
    login_failures_days: int = 30


@dataclass(frozen=True)
class WebSettings:
    """``[web]``: how long a panel session lasts (checked on every request, wall-clock time)."""

    #: a session unused this long ends (log in again)
    session_idle: timedelta = timedelta(hours=8)
    #: a session ends this long after its login, however busy
    session_max: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class CodeGuardSettings:
    """``[web_survey]``: how many unknown reply codes ``/s/<code>`` answers before a client waits.

    Counted in the database (every web process, across restarts), in wall-clock time.
    """

    #: unknown codes one client address (an IPv6 /64) may try within ``window``
    misses_per_address: int = 20
    window: timedelta = timedelta(minutes=10)
    #: unknown codes from every address together within ``window``; past it, an address that
    #: missed once waits for the window to pass (a scanner rotating addresses is slowed too),
    #: while an address that has not missed (a customer typing their own code) is still answered
    misses_alarm: int = 200


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from configuration, frozen after start-up."""

    env: str
    database_url: str
    secret_key: str
    channel_mode: str
    public_base_url: str
    test_clock: bool
    default_language: str
    stores: Mapping[str, StoreSettings]
    survey: SurveySettings
    bonus: BonusSettings
    complaints: ComplaintSettings
    twilio: TwilioSettings
    webhook_timeout: float
    subscribers: tuple[Subscriber, ...] = field(default=())
    #: sandbox only: "silent" (nobody answers; the phone simulator plays the customer) or
    #: "demo" (`make run`: simulated customers answer on their own)
    sandbox_customers: str = "silent"
    config_path: Path = DEFAULT_CONFIG
    letters: LetterSettings = field(default_factory=LetterSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    #: the official holiday calendar (国家法定节假日放假安排, R2), read from ``app.holiday_calendar``
    holiday_calendar: HolidayCalendar = field(default_factory=HolidayCalendar)
    holiday_calendar_file: Path = ROOT / "config" / "holidays_cn.toml"
    #: ``FOLLOWUP_TRUSTED_PROXIES``: the reverse proxies whose ``X-Forwarded-For`` is believed
    #: (see :mod:`followup.web.client_address`)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    #: ``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE``: subscribers added in the panel may point at private addresses
    webhook_allow_private: bool = False
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    code_guard: CodeGuardSettings = field(default_factory=CodeGuardSettings)
    web: WebSettings = field(default_factory=WebSettings)
    #: ``FOLLOWUP_SMS_PROVIDER``: twilio, aliyun or sandbox (calls stay with ``channel_mode``)
    sms_provider: str = "sandbox"
    aliyun: AliyunSettings = field(default_factory=AliyunSettings)
    #: ``FOLLOWUP_LOG_FORMAT``: ``json`` (one JSON object a line: a line per request and per duty
    #: run) or ``text``; json in production, text elsewhere unless set
    log_format: str = "text"

    def store(self, code: str) -> StoreSettings:
        return self.stores[code]

    @property
    def simulator(self) -> bool:
        """The phone simulator is offered: the sandbox, and never in production (where the sandbox
        only stands in for calls that no store lets it make: every store calls by staff)."""
        return self.channel_mode == "sandbox" and self.env != "production"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: object, key: str) -> timedelta:
    """``"90s" | "30m" | "3h" | "2d"`` -> timedelta; anything else is a ConfigError on ``key``."""
    m = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise ConfigError(key, f"not a duration: {value!r} (use 90s, 30m, 3h or 2d)")
    try:
        return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
    except OverflowError:
        raise ConfigError(key, f"duration too long: {value!r}") from None


def _parse_hhmm(text: str, key: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (int(m.group(1)) == 24 and int(m.group(2)) > 0):
        raise ConfigError(key, f"not a time of day: {text!r} (use HH:MM)")
    hour, minute = int(m.group(1)), int(m.group(2))
    return time.max if (hour, minute) == (24, 0) else time(hour, minute)


def parse_window(value: object, key: str) -> Window:
    if not isinstance(value, str) or "-" not in value:
        raise ConfigError(key, f"not a window: {value!r} (use HH:MM-HH:MM)")
    a, b = value.split("-", 1)
    start, end = _parse_hhmm(a, key), _parse_hhmm(b, key)
    if end <= start:
        raise ConfigError(key, f"window ends before it starts: {value!r}")
    return Window(start, end)


def _get(table: Mapping[str, Any], name: str, key: str, kind: type | tuple[type, ...]) -> Any:
    if name not in table:
        raise ConfigError(key, "missing")
    value = table[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ConfigError(key, f"expected {want}, got {value!r}")
    return value


def _windows(value: object, key: str) -> tuple[Window, ...]:
    """A list of daily windows, ``["09:00-12:00", "14:00-20:00"]``: at least one, none overlapping."""
    if not isinstance(value, list):
        raise ConfigError(key, f"expected a list of windows (HH:MM-HH:MM), got {value!r}")
    windows = tuple(sorted((parse_window(w, key) for w in value), key=lambda w: w.start))
    if not windows:
        raise ConfigError(key, "at least one window is needed")
    for a, b in zip(windows, windows[1:], strict=False):
        if b.start < a.end:
            raise ConfigError(key, f"windows overlap: {a} and {b}")
    return windows


def build_policy(table: Mapping[str, Any], prefix: str, calendar: HolidayCalendar | None = None) -> ContactPolicy:
    def k(name: str) -> str:
        return f"{prefix}.{name}"

    windows = _windows(_get(table, "calling_windows", k("calling_windows"), list), k("calling_windows"))
    staff_hours = _windows(table["staff_hours"], k("staff_hours")) if "staff_hours" in table else STAFF_HOURS
    floor = parse_duration(_get(table, "min_gap_floor", k("min_gap_floor"), str), k("min_gap_floor"))
    gap = parse_duration(_get(table, "min_gap", k("min_gap"), str), k("min_gap"))
    if floor > gap:
        raise ConfigError(k("min_gap_floor"), "must not be longer than min_gap")
    attempts = _get(table, "max_call_attempts", k("max_call_attempts"), int)
    if not 1 <= attempts <= 10:
        raise ConfigError(k("max_call_attempts"), f"must be between 1 and 10, got {attempts}")
    excluded = _get(table, "exclude_service_types", k("exclude_service_types"), list)
    for s in excluded:
        if s not in SERVICE_TYPES:
            raise ConfigError(k("exclude_service_types"), f"unknown service type {s!r}")
    workdays = _workdays(table.get("workdays", []), k("workdays"))
    closed_days = _workdays(table.get("closed_days", []), k("closed_days"))  # R2: the store's own
    if workdays & closed_days:
        raise ConfigError(k("closed_days"), f"listed as workdays too: {', '.join(sorted(workdays & closed_days))}")
    return ContactPolicy(
        calling_windows=windows,
        sms_hours=parse_window(_get(table, "sms_hours", k("sms_hours"), str), k("sms_hours")),
        first_call_delay=parse_duration(table.get("first_call_delay"), k("first_call_delay")),
        min_gap=gap,
        min_gap_floor=floor,
        deadline=parse_duration(table.get("deadline"), k("deadline")),
        max_call_attempts=attempts,
        sms_enabled=_get(table, "sms_enabled", k("sms_enabled"), bool),
        sms_reply_timeout=parse_duration(table.get("sms_reply_timeout"), k("sms_reply_timeout")),
        letter_reply_timeout=parse_duration(table.get("letter_reply_timeout"), k("letter_reply_timeout")),
        transient_retry_first=parse_duration(table.get("transient_retry_first"), k("transient_retry_first")),
        transient_give_up=parse_duration(table.get("transient_give_up"), k("transient_give_up")),
        skip_holidays=_get(table, "skip_holidays", k("skip_holidays"), bool),
        exclude_service_types=frozenset(excluded),
        workdays=workdays,
        closed_days=closed_days,
        holiday_calendar=calendar or HolidayCalendar(),
        staff_hours=staff_hours,
    )


def _workdays(value: object, key: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise ConfigError(key, f"expected a list of dates (YYYY-MM-DD), got {value!r}")
    return frozenset(_day(d, key).isoformat() for d in value)


def _day(value: object, key: str) -> date:
    """A date written ``"2026-10-01"`` or as a TOML date ``2026-10-01`` (not a date and time)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(key, f"not a date (YYYY-MM-DD): {value!r}")


def _holiday_calendar(path: Path) -> HolidayCalendar:
    """The official holiday calendar file (``app.holiday_calendar``, default ``holidays_cn.toml`` beside
    the configuration): one table per year with its ``blocks`` and make-up ``workdays`` (R2). Errors
    name the entry as ``<file name>.<year>.blocks[i].<field>``."""
    raw = _read_toml(path, "app.holiday_calendar")
    years: list[CalendarYear] = []
    keyed: list[tuple[HolidayBlock, str]] = []
    for name, table in raw.items():
        key = f"{path.stem}.{name}"
        if not re.fullmatch(r"(19|20|21)\d\d", name):
            raise ConfigError(key, "each table is one year, e.g. [2026]")
        if not isinstance(table, Mapping):
            raise ConfigError(key, "expected a table with blocks and workdays")
        year, blocks = int(name), []
        for i, entry in enumerate(_get(table, "blocks", f"{key}.blocks", list)):
            block = _holiday_block(entry, year, f"{key}.blocks[{i}]")
            blocks.append(block)
            keyed.append((block, f"{key}.blocks[{i}]"))
        workdays = tuple(sorted(_near(_day(d, f"{key}.workdays"), year, f"{key}.workdays")
                                for d in _get(table, "workdays", f"{key}.workdays", list)))
        for d in workdays:
            inside = next((b for b in blocks if d in b), None)
            if inside is not None:
                raise ConfigError(f"{key}.workdays", f"{d} is inside the block {inside.name} "
                                  f"({inside.first} to {inside.last}): a make-up workday is not a holiday")
        years.append(CalendarYear(
            year=year, blocks=tuple(sorted(blocks, key=lambda b: b.first)), workdays=workdays,
            source=str(table.get("source", "")),
            provisional=_get({"provisional": False, **table}, "provisional", f"{key}.provisional", bool),
        ))
    keyed.sort(key=lambda bk: bk[0].first)
    for (a, _), (b, key) in zip(keyed, keyed[1:], strict=False):
        if b.first <= a.last:
            raise ConfigError(key, f"{b.name} ({b.first} to {b.last}) overlaps {a.name} ({a.first} to {a.last})")
    return HolidayCalendar(tuple(sorted(years, key=lambda y: y.year)))


def _near(day: date, year: int, key: str) -> date:
    if abs(day.year - year) > 1:
        raise ConfigError(key, f"{day} is listed under {year}: a typo in the year?")
    return day


def _holiday_block(entry: object, year: int, key: str) -> HolidayBlock:
    if not isinstance(entry, Mapping):
        raise ConfigError(key, 'expected { name = "国庆节", name_en = "National Day", first = "YYYY-MM-DD", '
                          'last = "YYYY-MM-DD" }')
    name = _get(entry, "name", f"{key}.name", str)
    first = _near(_day(_get(entry, "first", f"{key}.first", (str, date)), f"{key}.first"), year, f"{key}.first")
    last = _near(_day(_get(entry, "last", f"{key}.last", (str, date)), f"{key}.last"), year, f"{key}.last")
    if last < first:
        raise ConfigError(f"{key}.last", f"{last} is before the first day {first}")
    if (last - first).days > 31:
        raise ConfigError(f"{key}.last", f"a block of {(last - first).days + 1} days: a typo in a date?")
    return HolidayBlock(name, str(entry.get("name_en", name)), first, last)


def _table(raw: Mapping[str, Any], name: str, key: str) -> Mapping[str, Any]:
    """The sub-table ``name`` (empty when absent); a ConfigError on ``key`` when it is not a table."""
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"expected a table, got {value!r}")
    return value


def _zone(name: object, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Asia"
        raise ConfigError(key, f"unknown time zone {name!r}") from None


def _staff_calling(policy: ContactPolicy, table: Mapping[str, Any], p: str, calls_by: str | None) -> ContactPolicy:
    """R2/R3: ``[stores.CODE] calls_by`` (``ivr`` by default; ``FOLLOWUP_CALLS_BY`` overrides every
    store) and ``staff_hours`` (here or in the policy tables; the rulebook's front-desk hours by
    default). A staff store's hours must leave some time inside the calling windows."""
    chosen = calls_by or table.get("calls_by", "ivr")
    if chosen not in CALLS_BY:
        raise ConfigError(f"{p}.calls_by", f"must be ivr or staff, got {chosen!r}")
    hours = _windows(table["staff_hours"], f"{p}.staff_hours") if "staff_hours" in table else policy.staff_hours
    if chosen == "staff" and not intersect_windows(policy.calling_windows, hours):
        raise ConfigError(f"{p}.staff_hours", "staff hours and calling windows never overlap: no call could be made")
    return replace(policy, calls_by=chosen, staff_hours=hours)


def _stores(raw: Mapping[str, Any], defaults: Mapping[str, Any], calendar: HolidayCalendar,
            calls_by: str | None = None) -> dict[str, StoreSettings]:
    stores: dict[str, StoreSettings] = {}
    if not raw:
        raise ConfigError("stores", "at least one store is needed")
    for code, table in raw.items():
        p = f"stores.{code}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", code):
            raise ConfigError(p, "store codes are 1-20 letters, digits, - or _")
        if not isinstance(table, Mapping):
            raise ConfigError(p, "expected a table")
        overrides = _table(table, "policy", f"{p}.policy")
        stores[code] = StoreSettings(
            code=code,
            name=_get(table, "name", f"{p}.name", str),
            name_en=str(table.get("name_en", table.get("name"))),
            timezone=_zone(table.get("timezone", DEFAULT_TIMEZONE), f"{p}.timezone"),
            address=str(table.get("address", "")),
            phone=str(table.get("phone", "")),
            sms_signature=str(table.get("sms_signature", table["name"])),
            service_manager=table.get("service_manager"),
            general_manager=table.get("general_manager"),
            policy=_staff_calling(
                build_policy({**defaults, **overrides}, f"{p}.policy" if overrides else "policy", calendar),
                table, p, calls_by),
        )
    return stores


def _asked_after(value: object, key: str) -> frozenset[str]:
    """R5: the service types after which a question is asked (empty: every type)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, "must be a list of service types")
    unknown = sorted(set(value) - set(SERVICE_TYPES))
    if unknown:
        raise ConfigError(key, f"unknown service type(s) {', '.join(unknown)}; known: {', '.join(SERVICE_TYPES)}")
    return frozenset(value)


def _survey(path: Path) -> SurveySettings:
    raw = _read_toml(path, "app.survey_file")
    questions = []
    for i, q in enumerate(raw.get("questions", [])):
        key = f"survey.questions[{i}]"
        kind = _get(q, "kind", f"{key}.kind", str)
        if kind not in ("scale10", "yesno", "text"):
            raise ConfigError(f"{key}.kind", f"must be scale10, yesno or text, got {kind!r}")
        questions.append(
            Question(
                id=_get(q, "id", f"{key}.id", str),
                kind=kind,
                weight=_get(q, "weight", f"{key}.weight", float),
                zh=_get(q, "zh", f"{key}.zh", str),
                en=_get(q, "en", f"{key}.en", str),
                optional=bool(q.get("optional", False)),
                asked_after=_asked_after(q.get("asked_after", []), f"{key}.asked_after"),
                ask_zh=str(q.get("ask_zh", "")),
                ask_en=str(q.get("ask_en", "")),
            )
        )
    if not any(q.kind != "text" for q in questions):
        raise ConfigError("survey.questions", "at least one scored question is needed")
    d = raw.get("dissatisfied", {})
    return SurveySettings(
        questions=tuple(questions),
        overall_at_most=int(d.get("overall_at_most", 6)),
        fixed_right_no=bool(d.get("fixed_right_no", True)),
        score_below=float(d.get("score_below", 60.0)),
    )


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


def _extend(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """``extends = "followup.toml"``: this file's keys over another file's (one level)."""
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base_path = path.parent / str(parent)
    try:
        base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("extends", f"cannot read {base_path}: {exc}") from None
    return _merge(base, raw)


def _tier(value: object) -> tuple[float, int]:
    """One ``[score at least, bonus in CNY]`` pair of ``bonus.tiers``."""
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and float(value[1]).is_integer()
    )
    if not ok:
        raise ConfigError("bonus.tiers", f"each tier is [score, CNY], e.g. [90.0, 600]; got {value!r}")
    assert isinstance(value, list)
    return float(value[0]), int(value[1])


def _words(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ConfigError(key, f"expected a list of words, e.g. [\"投诉\", \"乱收费\"]; got {value!r}")
    return tuple(w.strip() for w in value)


def _complaint_words(table: Mapping[str, Any], stores: Mapping[str, Any]) -> dict[str, Any]:
    """R7's words: ``[complaints] words`` (complaint words), ``[stores.CODE] complaint_words`` (a
    store's own, instead), ``[complaints.categories]`` (words per category); the defaults are
    :mod:`followup.rules.complaint_words`' when a key is absent."""
    out: dict[str, Any] = {}
    if "words" in table:
        out["words"] = _words(table["words"], "complaints.words")
    out["store_words"] = tuple(
        (code, _words(store["complaint_words"], f"stores.{code}.complaint_words"))
        for code, store in stores.items() if isinstance(store, Mapping) and "complaint_words" in store)
    categories = _table(table, "categories", "complaints.categories")
    if categories:
        known = tuple(c for c in CATEGORIES if c != "other")  # "other" is what no word matches
        for name in categories:
            if name not in known:
                raise ConfigError(f"complaints.categories.{name}", f"unknown category (use {', '.join(known)})")
        out["categories"] = tuple((name, _words(categories[name], f"complaints.categories.{name}"))
                                  for name in known if name in categories)
    return out


def _bonus(table: Mapping[str, Any]) -> BonusSettings:
    """``[bonus]``: the tiers, plus R9's statement (``per_visit_commission``, ``first_to``), whose
    defaults are the rulebook's when the keys are absent."""
    tiers = tuple(_tier(t) for t in _get(table, "tiers", "bonus.tiers", list))
    if list(tiers) != sorted(tiers):
        raise ConfigError("bonus.tiers", "tiers must ascend by score")
    default = BonusSettings(0, ())
    per_visit = _get({"per_visit_commission": default.per_visit_commission, **table}, "per_visit_commission",
                     "bonus.per_visit_commission", int)
    if per_visit < 0:
        raise ConfigError("bonus.per_visit_commission", f"must not be negative, got {per_visit}")
    raw_first = table.get("first_to", [list(p) for p in default.first_to])
    ok = isinstance(raw_first, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in p)
        for p in raw_first)
    if not ok:
        raise ConfigError("bonus.first_to", f"each prize is [visits, CNY], e.g. [100, 100]; got {raw_first!r}")
    first_to = tuple((int(p[0]), int(p[1])) for p in raw_first)
    if [p[0] for p in first_to] != sorted({p[0] for p in first_to}):
        raise ConfigError("bonus.first_to", "prizes must ascend by visits, each number once")
    return BonusSettings(_get(table, "min_responses", "bonus.min_responses", int), tiers,
                         per_visit_commission=per_visit, first_to=first_to)


def _env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith("FOLLOWUP__"):
            continue
        path = name[len("FOLLOWUP__") :].split("__")
        try:
            parsed: Any = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        table = raw
        for depth, part in enumerate(path[:-1]):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(".".join(path[: depth + 1]), f"is not a table, cannot set {name}")
        table[path[-1]] = parsed


def _subscribers(raw: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Subscriber, ...]:
    subs: list[Subscriber] = []
    listed = raw.get("subscribers", [])
    if not isinstance(listed, list):
        raise ConfigError("webhooks.subscribers", "expected an array of tables")
    for i, s in enumerate(listed):
        key = f"webhooks.subscribers[{i}]"
        if not isinstance(s, Mapping):
            raise ConfigError(key, "expected a table with url and secret_env")
        secret_env = _get(s, "secret_env", f"{key}.secret_env", str)
        secret = environ.get(secret_env)
        if not secret:
            raise ConfigError(f"{key}.secret_env", f"environment variable {secret_env} is not set")
        subs.append(Subscriber(_get(s, "url", f"{key}.url", str), secret))
    for n, pair in enumerate(environ.get("FOLLOWUP_WEBHOOK_URLS", "").split(), start=1):
        url, sep, secret = pair.partition("|")
        if not sep or not secret or not url.startswith(("http://", "https://")):
            # never echo the entry: it may hold the secret
            raise ConfigError(
                "FOLLOWUP_WEBHOOK_URLS",
                f"entry {n} is not an http(s) url|secret pair (pairs are separated by spaces)",
            )
        subs.append(Subscriber(url, secret))
    return tuple(subs)


def check_web_workers(env: str, database_url: str, workers: int, *, key: str = "WEB_CONCURRENCY") -> None:
    """Production on SQLite runs one web worker: several processes writing one SQLite file end in
    "database is locked" errors under load. ``gunicorn.conf.py`` calls this with gunicorn's own
    worker count (``key`` names where the count came from); the scheduler side is the worker lock."""
    if env == "production" and database_url.startswith("sqlite") and workers > 1:
        raise ConfigError(
            key, f"{workers} web workers on SQLite: production on SQLite runs one (set WEB_CONCURRENCY=1) "
            "or use PostgreSQL (DATABASE_URL=postgresql+psycopg://...)"
        )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the configuration; raise :class:`ConfigError` on the first wrong value.

    In this order: the TOML file with the environment's overrides; the environment, channel mode
    and secrets; the database; the holiday calendar, stores and policy; survey, bonus, complaints;
    Twilio; webhooks; letters; the worker's variables.
    """
    env_vars = dict(os.environ if environ is None else environ)
    path, raw = _config_file(env_vars)
    env = _environment(env_vars)
    mode = _channel_mode(env_vars)
    test_clock = env_vars.get("FOLLOWUP_TEST_CLOCK", "") in ("1", "true", "yes")
    public = _public_base_url(env_vars)
    secret_key = env_vars.get("FOLLOWUP_SECRET_KEY") or ""
    if env == "production":
        _refuse_unsafe_production(secret_key=secret_key, test_clock=test_clock, public=public)
    database_url = _database_url(env_vars, env)
    app = _table(raw, "app", "app")
    calendar_file = path.parent / str(app.get("holiday_calendar", "holidays_cn.toml"))
    holiday_calendar = _holiday_calendar(calendar_file)
    webhooks = _table(raw, "webhooks", "webhooks")
    sms_provider = _sms_provider(env_vars, mode)
    stores = MappingProxyType(_stores(_table(raw, "stores", "stores"), _table(raw, "policy", "policy"),
                                      holiday_calendar, _calls_by(env_vars)))
    if env == "production":
        _refuse_sandbox_in_production(mode, sms_provider, stores, env_vars)
    return Settings(
        env=env,
        database_url=database_url,
        secret_key=secret_key or secrets.token_hex(32),  # development: a new one each start
        channel_mode=mode,
        public_base_url=public,
        test_clock=test_clock,
        default_language=_language(app),
        stores=stores,
        survey=_survey(path.parent / str(app.get("survey_file", "survey.toml"))),
        bonus=_bonus(_table(raw, "bonus", "bonus")),
        complaints=_complaints(raw),
        twilio=_twilio(_table(raw, "twilio", "twilio"), env_vars),
        webhook_timeout=_webhook_timeout(webhooks),
        subscribers=_subscribers(webhooks, env_vars),
        config_path=path,
        letters=_letters(_table(raw, "letters", "letters")),
        engine=_engine(env_vars),
        sandbox_customers=_sandbox_customers(env_vars.get("FOLLOWUP_SANDBOX_CUSTOMERS", "silent")),
        holiday_calendar=holiday_calendar,
        holiday_calendar_file=calendar_file,
        trusted_proxies=_trusted_proxies(env_vars),
        webhook_allow_private=env_vars.get("FOLLOWUP_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
        privacy=_privacy(_table(raw, "privacy", "privacy")),
        code_guard=_code_guard(_table(raw, "web_survey", "web_survey")),
        web=_web(_table(raw, "web", "web")),
        sms_provider=sms_provider,
        aliyun=_aliyun(_table(raw, "aliyun", "aliyun"), env_vars, sms_provider, production=env == "production"),
        log_format=_log_format(env_vars, env),
    )


LOG_FORMATS = ("text", "json")


def _log_format(env_vars: Mapping[str, str], env: str) -> str:
    """``FOLLOWUP_LOG_FORMAT``: text or json; json in production (a log collector reads it), text
    elsewhere (a person reads it)."""
    value = env_vars.get("FOLLOWUP_LOG_FORMAT", "").strip().lower()
    if not value:
        return "json" if env == "production" else "text"
    if value not in LOG_FORMATS:
        raise ConfigError("FOLLOWUP_LOG_FORMAT", f"must be text or json, got {value!r}")
    return value


def _config_file(env_vars: Mapping[str, str]) -> tuple[Path, dict[str, Any]]:
    """``FOLLOWUP_CONFIG`` (default ``config/followup.toml``): its path and its tables, with the file
    it ``extends`` under them and the environment's ``FOLLOWUP__section__key`` over them."""
    path = Path(env_vars.get("FOLLOWUP_CONFIG") or DEFAULT_CONFIG)
    raw = _extend(_read_toml(path, "FOLLOWUP_CONFIG"), path)
    _env_overrides(raw, env_vars)
    return path, raw


def _read_toml(path: Path, key: str) -> dict[str, Any]:
    """A TOML file's tables; a ConfigError on ``key`` when it is missing or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(key, f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(key, f"{path} is not valid TOML: {exc}") from None


def _environment(env_vars: Mapping[str, str]) -> str:
    """``FOLLOWUP_ENV``: development (default), test or production."""
    env = env_vars.get("FOLLOWUP_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError("FOLLOWUP_ENV", f"must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    return env


def _calls_by(env_vars: Mapping[str, str]) -> str | None:
    """``FOLLOWUP_CALLS_BY``: ``ivr`` or ``staff`` for every store (RULES R3); unset: each store's own."""
    value = env_vars.get("FOLLOWUP_CALLS_BY", "").strip()
    if value and value not in CALLS_BY:
        raise ConfigError("FOLLOWUP_CALLS_BY", f"must be ivr or staff, got {value!r}")
    return value or None


def _channel_mode(env_vars: Mapping[str, str]) -> str:
    """``FOLLOWUP_CHANNEL_MODE``: twilio when a Twilio account is set, else sandbox; twilio needs the
    account, its token and the number to call from."""
    mode = env_vars.get("FOLLOWUP_CHANNEL_MODE") or ("twilio" if env_vars.get("TWILIO_ACCOUNT_SID") else "sandbox")
    if mode not in CHANNEL_MODES:
        raise ConfigError("FOLLOWUP_CHANNEL_MODE", f"must be sandbox or twilio, got {mode!r}")
    if mode == "twilio":
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
            if not env_vars.get(name):
                raise ConfigError(name, "required when FOLLOWUP_CHANNEL_MODE=twilio")
    return mode


def _sms_provider(env_vars: Mapping[str, str], mode: str) -> str:
    """``FOLLOWUP_SMS_PROVIDER``: aliyun when an Alibaba Cloud key is set, else the channel mode; aliyun
    needs its key, secret and callback token, twilio the Twilio channel mode."""
    provider = (env_vars.get("FOLLOWUP_SMS_PROVIDER", "").strip()
                or ("aliyun" if env_vars.get("ALIYUN_ACCESS_KEY_ID") else mode))
    if provider not in SMS_PROVIDERS:
        raise ConfigError("FOLLOWUP_SMS_PROVIDER", f"must be twilio, aliyun or sandbox, got {provider!r}")
    if provider == "twilio" and mode != "twilio":
        raise ConfigError("FOLLOWUP_SMS_PROVIDER", "twilio needs FOLLOWUP_CHANNEL_MODE=twilio and the Twilio "
                          "credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)")
    if provider == "aliyun":
        for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_CALLBACK_TOKEN"):
            if not env_vars.get(name, "").strip():
                raise ConfigError(name, "required when FOLLOWUP_SMS_PROVIDER=aliyun")
        token = env_vars["ALIYUN_CALLBACK_TOKEN"].strip()
        if len(token) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
            raise ConfigError("ALIYUN_CALLBACK_TOKEN", "must be at least 16 letters, digits, '-' or '_' (it is the "
                              "only secret of the receipt and reply URLs), e.g. python3 -c \"import secrets; "
                              "print(secrets.token_urlsafe(24))\"")
    return provider


def _aliyun_endpoint(value: str) -> tuple[str, str]:
    """``ALIYUN_SMS_ENDPOINT``: a host (https) or a full ``http(s)://host[:port]`` URL -> (host[:port], protocol)."""
    value = value.strip().rstrip("/")
    if "://" not in value:
        if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", value):
            raise ConfigError("ALIYUN_SMS_ENDPOINT", f"expected a host such as dysmsapi.aliyuncs.com, got {value!r}")
        return value, "https"
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", rest):
        raise ConfigError("ALIYUN_SMS_ENDPOINT", f"expected http(s)://host[:port] without a path, got {value!r}")
    return rest, scheme


def _aliyun_templates(table: Mapping[str, Any]) -> Mapping[str, AliyunTemplate]:
    """``[aliyun.templates.<kind>]`` with ``code`` (the approved TemplateCode) and ``params`` (its variables)."""
    out: dict[str, AliyunTemplate] = {}
    for kind, entry in table.items():
        key = f"aliyun.templates.{kind}"
        if kind not in ALIYUN_TEMPLATE_VARIABLES:
            raise ConfigError(key, f"unknown message kind (use {', '.join(ALIYUN_TEMPLATE_VARIABLES)})")
        if not isinstance(entry, Mapping):
            raise ConfigError(key, "expected a table with code and params")
        code = entry.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"SMS_\d+", code.strip()):
            raise ConfigError(f"{key}.code", f"expected an approved template code such as SMS_123456789, got {code!r}")
        params = entry.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise ConfigError(f"{key}.params", f"expected a list of variable names, got {params!r}")
        allowed = ALIYUN_TEMPLATE_VARIABLES[kind]
        for name in params:
            if name not in allowed:
                raise ConfigError(f"{key}.params", f"{name!r} is not a variable of this kind (use {', '.join(allowed)})")
        if len(set(params)) != len(params):
            raise ConfigError(f"{key}.params", "each variable may be used once")
        out[kind] = AliyunTemplate(kind=kind, code=code.strip(), params=tuple(params))
    return MappingProxyType(out)


def _aliyun(table: Mapping[str, Any], env_vars: Mapping[str, str], provider: str, *,
            production: bool = False) -> AliyunSettings:
    """Alibaba Cloud SMS: secrets from the environment, ``[aliyun]`` templates and ``request_timeout``;
    production talks to it over https only (the AccessKey signs every request, the numbers travel in it)."""
    endpoint, protocol = _aliyun_endpoint(env_vars.get("ALIYUN_SMS_ENDPOINT") or "dysmsapi.aliyuncs.com")
    if production and provider == "aliyun" and protocol != "https":
        raise ConfigError("ALIYUN_SMS_ENDPOINT", "production sends SMS over https only (an http:// endpoint is "
                          "for a local emulator)")
    timeout = _get(table, "request_timeout", "aliyun.request_timeout", (int, float)) if "request_timeout" in table else 10
    if not 0 < float(timeout) <= 60:
        raise ConfigError("aliyun.request_timeout", f"seconds between 0 and 60, got {timeout!r}")
    templates = _aliyun_templates(_table(table, "templates", "aliyun.templates"))
    missing = [kind for kind in ALIYUN_TEMPLATE_VARIABLES if kind not in templates]
    if provider == "aliyun" and missing:
        raise ConfigError(f"aliyun.templates.{missing[0]}", "missing: FOLLOWUP_SMS_PROVIDER=aliyun needs a template "
                          f"(code and params) for every message kind ({', '.join(missing)} missing)")
    return AliyunSettings(
        access_key_id=env_vars.get("ALIYUN_ACCESS_KEY_ID", "").strip() or None,
        access_key_secret=env_vars.get("ALIYUN_ACCESS_KEY_SECRET", "").strip() or None,
        endpoint=endpoint, protocol=protocol,
        callback_token=env_vars.get("ALIYUN_CALLBACK_TOKEN", "").strip() or None,
        templates=templates,
        request_timeout=float(timeout),
    )


def _public_base_url(env_vars: Mapping[str, str]) -> str:
    """``PUBLIC_BASE_URL`` without its trailing slash: the base Twilio calls back and signs."""
    public = env_vars.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    if not public.startswith(("http://", "https://")):
        raise ConfigError("PUBLIC_BASE_URL", f"must be an http(s) URL, got {public!r}")
    return public


def _refuse_unsafe_production(*, secret_key: str, test_clock: bool, public: str) -> None:
    """Production starts only with its own secret key, without the test clock, behind https."""
    if not secret_key or secret_key == DEFAULT_SECRET_KEY:
        raise ConfigError("FOLLOWUP_SECRET_KEY", "required in production (and not the default)")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError("FOLLOWUP_SECRET_KEY", f"too short for production: at least {MIN_SECRET_KEY_LENGTH} "
                          "characters (python3 -c \"import secrets; print(secrets.token_urlsafe(48))\")")
    if test_clock:
        raise ConfigError("FOLLOWUP_TEST_CLOCK", "the test clock is refused in production")
    if not public.startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL", "production needs an https:// public URL")


def _refuse_sandbox_in_production(mode: str, sms_provider: str, stores: Mapping[str, StoreSettings],
                                  env_vars: Mapping[str, str]) -> None:
    """Production never lets the sandbox stand in for a real contact: nobody would be contacted,
    and demo customers would answer real cases. A mainland deployment whose calls are all made by
    staff (``calls_by = "staff"`` in every store) and whose SMS go through Alibaba Cloud needs no
    voice provider: there the sandbox channel mode is accepted, as it never places a call (the
    phone simulator stays off in production)."""
    if sms_provider == "sandbox":
        key = "FOLLOWUP_SMS_PROVIDER" if env_vars.get("FOLLOWUP_SMS_PROVIDER", "").strip() else "FOLLOWUP_CHANNEL_MODE"
        raise ConfigError(key, "the sandbox is refused in production (nobody would be contacted): set "
                          "FOLLOWUP_CHANNEL_MODE=twilio and the Twilio credentials, or FOLLOWUP_SMS_PROVIDER=aliyun")
    if mode == "sandbox":
        by_ivr = sorted(code for code, store in stores.items() if store.calls_by != "staff")
        if by_ivr:
            raise ConfigError("FOLLOWUP_CHANNEL_MODE", f"the sandbox is refused in production: {', '.join(by_ivr)} "
                              "call by IVR and nobody would be called; set FOLLOWUP_CHANNEL_MODE=twilio and the "
                              "Twilio credentials, or calls_by = \"staff\" (FOLLOWUP_CALLS_BY=staff)")
    if env_vars.get("FOLLOWUP_SANDBOX_CUSTOMERS", "").strip() == "demo":
        raise ConfigError("FOLLOWUP_SANDBOX_CUSTOMERS", "demo customers are refused in production "
                          "(they would invent survey answers for real cases)")


def _database_url(env_vars: Mapping[str, str], env: str) -> str:
    """``DATABASE_URL`` (default the SQLite file in ``instance/``); production on SQLite runs one web worker."""
    database_url = env_vars.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'followup.db'}"
    try:
        make_url(database_url)
    except ArgumentError:
        shown = re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", database_url)  # never echo a password
        raise ConfigError("DATABASE_URL", f"not a database URL: {shown!r}") from None
    if env == "production":
        # WEB_CONCURRENCY: the gunicorn web workers (the Procfile passes it as --workers)
        check_web_workers(env, database_url, _env_count(env_vars, "WEB_CONCURRENCY", 1, "web workers"))
    return database_url


def _language(app: Mapping[str, Any]) -> str:
    """``app.default_language``: zh (default) or en."""
    lang = app.get("default_language", "zh")
    if lang not in ("zh", "en"):
        raise ConfigError("app.default_language", f"must be zh or en, got {lang!r}")
    return str(lang)


def _complaints(raw: Mapping[str, Any]) -> ComplaintSettings:
    """``[complaints]``: R7's timings (24h to acknowledge, a re-survey the next day, two re-surveys)."""
    comp = _table(raw, "complaints", "complaints")
    max_resurveys = _get({"max_resurveys": 2, **comp}, "max_resurveys", "complaints.max_resurveys", int)
    if max_resurveys < 0:
        raise ConfigError("complaints.max_resurveys", f"must not be negative, got {max_resurveys}")
    return ComplaintSettings(
        ack_sla=parse_duration(comp.get("ack_sla", "24h"), "complaints.ack_sla"),
        resurvey_delay=parse_duration(comp.get("resurvey_delay", "24h"), "complaints.resurvey_delay"),
        max_resurveys=max_resurveys,
        resolve_sla=parse_duration(comp.get("resolve_sla", "72h"), "complaints.resolve_sla"),
        progress_sms_after=parse_duration(comp.get("progress_sms_after", "24h"), "complaints.progress_sms_after"),
        resurvey_timeout=parse_duration(comp.get("resurvey_timeout", "7d"), "complaints.resurvey_timeout"),
        **_complaint_words(comp, _table(raw, "stores", "stores")),
    )


def _twilio(tw: Mapping[str, Any], env_vars: Mapping[str, str]) -> TwilioSettings:
    """The Twilio credentials (environment only) and ``[twilio]``: rates and timeouts."""
    calls_ps = _get(tw, "calls_per_second", "twilio.calls_per_second", float)
    sms_ps = _get(tw, "sms_per_second", "twilio.sms_per_second", float)
    if calls_ps <= 0 or sms_ps <= 0:
        raise ConfigError("twilio.calls_per_second", "rates must be positive")
    return TwilioSettings(
        account_sid=env_vars.get("TWILIO_ACCOUNT_SID") or None,
        auth_token=env_vars.get("TWILIO_AUTH_TOKEN") or None,
        from_number=env_vars.get("TWILIO_FROM_NUMBER") or None,
        api_base_url=(env_vars.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/"),
        calls_per_second=calls_ps,
        sms_per_second=sms_ps,
        ring_timeout=_get(tw, "ring_timeout", "twilio.ring_timeout", int),
        request_timeout=_get(tw, "request_timeout", "twilio.request_timeout", float),
    )


def _webhook_timeout(webhooks: Mapping[str, Any]) -> float:
    """``webhooks.timeout``: seconds a subscriber has to answer (default 15)."""
    timeout: float = _get({"timeout": 15.0, **webhooks}, "timeout", "webhooks.timeout", float)
    if timeout <= 0:
        raise ConfigError("webhooks.timeout", f"must be positive, got {timeout}")
    return timeout

def _sandbox_customers(value: str) -> str:
    if value not in ("silent", "demo"):
        raise ConfigError("FOLLOWUP_SANDBOX_CUSTOMERS", f"must be silent or demo, got {value!r}")
    return value


def _letters(table: Mapping[str, Any]) -> LetterSettings:
    """``[letters]``: ``batch_time = "HH:MM"`` (store local) and ``out_dir`` (relative to the project)."""
    batch_time = _parse_hhmm(str(table.get("batch_time", "16:00")), "letters.batch_time")
    out = Path(str(table.get("out_dir", "instance/letters")))
    return LetterSettings(batch_time=batch_time, out_dir=out if out.is_absolute() else ROOT / out)


#: the longest lease or tick accepted, in seconds (a day): anything longer is a typo
_MOST_SECONDS = 86_400.0


def _engine(env_vars: Mapping[str, str]) -> EngineSettings:
    """``FOLLOWUP_DISPATCH_BATCH``, ``FOLLOWUP_LEASE_SECONDS``, ``FOLLOWUP_TICK_SECONDS`` (unset or
    empty: the default)."""
    default = EngineSettings()
    return EngineSettings(
        dispatch_batch=_env_count(env_vars, "FOLLOWUP_DISPATCH_BATCH", default.dispatch_batch, "rows"),
        lease_seconds=_env_seconds(env_vars, "FOLLOWUP_LEASE_SECONDS", default.lease_seconds),
        tick_seconds=_env_seconds(env_vars, "FOLLOWUP_TICK_SECONDS", default.tick_seconds),
    )


def _env_count(env_vars: Mapping[str, str], name: str, default: int, what: str) -> int:
    """A whole number, 1 or more, from the environment variable ``name``."""
    text = env_vars.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(name, f"must be a whole number of {what} (1 or more), got {text!r}")
    return int(text)


def _env_seconds(env_vars: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds, more than 0 and at most a day, from the environment variable ``name``."""
    text = env_vars.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(name, f"not a number of seconds: {text!r} (e.g. 300 or 0.5)") from None
    if not 0 < value <= _MOST_SECONDS:  # also refuses nan and inf
        raise ConfigError(name, f"must be more than 0 and at most {_MOST_SECONDS:.0f} seconds, got {text!r}")
    return value


def _trusted_proxies(env_vars: Mapping[str, str]) -> tuple[IPv4Network | IPv6Network, ...]:
    """``FOLLOWUP_TRUSTED_PROXIES``: addresses or CIDRs, separated by spaces or commas."""
    out = []
    for item in re.split(r"[\s,]+", env_vars.get("FOLLOWUP_TRUSTED_PROXIES", "").strip()):
        if not item:
            continue
        try:
            out.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigError("FOLLOWUP_TRUSTED_PROXIES",
                              f"not an address or CIDR: {item!r} (e.g. 127.0.0.1 10.0.0.0/8 ::1)") from None
    return tuple(out)


def _whole(table: Mapping[str, Any], name: str, key: str, default: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, f"must be a whole number, 1 or more, got {value!r}")
    return value


def _privacy(table: Mapping[str, Any]) -> PrivacySettings:
    """``[privacy]``: R13's ``retain_months`` and the retention of raw records, in days."""
    d = PrivacySettings()
    return PrivacySettings(
        retain_months=_whole(table, "retain_months", "privacy.retain_months", d.retain_months),
        received_events_days=_whole(table, "received_events_days", "privacy.received_events_days",
                                    d.received_events_days),
        delivery_log_days=_whole(table, "delivery_log_days", "privacy.delivery_log_days", d.delivery_log_days),
        twilio_callbacks_days=_whole(table, "twilio_callbacks_days", "privacy.twilio_callbacks_days",
                                     d.twilio_callbacks_days),
        login_failures_days=_whole(table, "login_failures_days", "privacy.login_failures_days",
                                   d.login_failures_days),
    )


def _web(table: Mapping[str, Any]) -> WebSettings:
    """``[web]``: ``session_idle`` (default 8h) and ``session_max`` (default 24h)."""
    idle = parse_duration(table.get("session_idle", "8h"), "web.session_idle")
    longest = parse_duration(table.get("session_max", "24h"), "web.session_max")
    if idle <= timedelta(0) or longest <= timedelta(0):
        raise ConfigError("web.session_idle" if idle <= timedelta(0) else "web.session_max", "must be longer than 0")
    if idle > longest:
        raise ConfigError("web.session_idle", f"longer than web.session_max ({table.get('session_max', '24h')})")
    return WebSettings(session_idle=idle, session_max=longest)


def _code_guard(table: Mapping[str, Any]) -> CodeGuardSettings:
    """``[web_survey]``: the unknown-code limits of ``/s/<code>``."""
    d = CodeGuardSettings()
    return CodeGuardSettings(
        misses_per_address=_whole(table, "misses_per_address", "web_survey.misses_per_address",
                                  d.misses_per_address),
        window=parse_duration(table.get("misses_window", "10m"), "web_survey.misses_window"),
        misses_alarm=_whole(table, "misses_alarm", "web_survey.misses_alarm", d.misses_alarm),
    )
