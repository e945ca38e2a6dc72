"""The contact policy (RULES R1-R4): given a case and its history, what happens next.

:func:`plan_next_contact` is pure: no database, no clock, no I/O. The engine builds the facts
from rows, asks for one decision, writes at most one planned row, and asks again when that row
is done. Every ``due_at`` it returns is already inside the right window (calls: calling windows,
SMS: SMS hours; both on days that are not closed, R2; letters have no window) and never earlier
than ``now``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from followup.rules.calendar import next_call_moment, next_sms_moment
from followup.rules.callback_slots import MIN_NOTICE as CALLBACK_MIN_NOTICE
from followup.rules.values import ContactPolicy

#: a call with one of these outcomes is a failed attempt (R3)
FAILED_CALL_OUTCOMES = frozenset({"no_answer", "busy", "failed", "voicemail", "hung_up"})
#: rows the engine is still working on: the policy waits for them
IN_FLIGHT_STATUSES = frozenset({"planned", "dispatching"})
#: SMS/letter kinds that belong to the fallback; "resurvey" and "reply" rows are not part of R4
FALLBACK_KINDS = frozenset({"survey", "reminder"})
#: the shrinking gap between calls moves in steps of this much (R3)
GAP_STEP = timedelta(minutes=5)


@dataclass(frozen=True)
class CaseFacts:
    """What the policy needs to know about a case (built by the engine from rows)."""

    delivered_at: datetime  # D, aware UTC
    deadline_at: datetime  # D + policy.deadline, moved out by closed days (calendar.case_deadline)
    opened_at: datetime  # when the case was created (import time)
    closed: bool
    has_mobile: bool  # a valid mobile number on file (not marked bad)
    has_landline: bool  # a valid landline on file (not marked bad)
    has_address: bool  # a usable postal address
    do_not_call: bool
    no_sms: bool  # staff marked no-SMS, or the customer opted out of SMS (R6)
    no_contact: bool  # staff marked no-contact: no letters either, case closes opted_out
    reached: bool  # a survey answer or decline was recorded on any channel
    #: breached ``late_intake`` (R1): imported, or re-imported with another delivery time, after its
    #: deadline; the fallback starts at once, whatever calls were made before
    late_intake: bool = False


@dataclass(frozen=True)
class AttemptFacts:
    """One row of contact history, oldest first."""

    channel: str  # call | sms | letter
    kind: str  # survey | reminder (sms); survey for calls and letters
    status: str  # planned | dispatching | done | cancelled | error
    outcome: str | None
    due_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    callback_at: datetime | None = None  # the time the customer asked to be called back
    #: moved to a later window because no tick came while it was due (an outage): the system's delay (R8)
    missed_window: bool = False
    #: kept from going out by a provider outage of an hour or more (R3): planned again at the next
    #: window opening, or cancelled when that was past the deadline (the fallback then starts)
    outage: bool = False
    #: a call on the staff worklist cancelled unmade when the deadline passed: staff time ran out (R8)
    not_made: bool = False


@dataclass(frozen=True)
class Decision:
    """The next step: a contact with its due time, a close, or a wait."""

    action: str  # call | sms | reminder_sms | letter | close | wait
    due_at: datetime | None  # contacts: when due; close: None; wait: when to look again, if known
    reason: str
    outcome: str | None = None  # close only: unreachable | opted_out | declined | None (survey decides)
    flag_for_staff: bool = False


def _close(reason: str, outcome: str | None, *, flag: bool = False) -> Decision:
    return Decision("close", None, reason, outcome, flag)


def _wait(reason: str, until: datetime | None = None) -> Decision:
    return Decision("wait", until, reason)


def _began(a: AttemptFacts, default: datetime) -> datetime:
    return a.started_at or a.due_at or a.ended_at or default


def _finished(a: AttemptFacts, default: datetime) -> datetime:
    return a.ended_at or a.started_at or a.due_at or default


def fallback_contacts(history: Sequence[AttemptFacts]) -> list[AttemptFacts]:
    """The SMS and letters of the fallback (R4) that were made, oldest first."""
    return [
        a
        for a in history
        if a.channel in ("sms", "letter") and a.kind in FALLBACK_KINDS and a.status == "done"
    ]


def fallback_started(history: Sequence[AttemptFacts]) -> datetime | None:
    """When the first fallback SMS or letter went out (dispatching or done), or None."""
    starts = [
        a.started_at
        for a in history
        if a.channel in ("sms", "letter")
        and a.kind in FALLBACK_KINDS
        and a.status in ("dispatching", "done")
        and a.started_at is not None
    ]
    return min(starts, default=None)


def _sms_possible(case: CaseFacts, policy: ContactPolicy) -> bool:
    return case.has_mobile and not case.no_sms and policy.sms_enabled


def _gaps(policy: ContactPolicy) -> Iterator[timedelta]:
    """``min_gap``, then 5 minutes shorter each time, down to ``min_gap_floor``."""
    gap = policy.min_gap
    while gap > policy.min_gap_floor:
        yield gap
        gap -= GAP_STEP
    yield policy.min_gap_floor


@dataclass(frozen=True)
class _Planner:
    """One decision in the making: the case, the moment and the store's rules."""

    case: CaseFacts
    now: datetime
    policy: ContactPolicy
    tz: ZoneInfo

    def call_at(self, at: datetime) -> datetime:
        return next_call_moment(max(at, self.now), self.policy, self.tz)

    def all_fit(self, prev_end: datetime, gap: timedelta, remaining: int) -> bool:
        """Would ``remaining`` calls, ``gap`` apart, all start before the deadline?"""
        at = prev_end
        for _ in range(remaining):
            at = self.call_at(at + gap)
            if at >= self.case.deadline_at:
                return False
        return True

    def start_fallback(self, reason: str, start: datetime) -> Decision:
        """R4.1/R4.2/R4.5: SMS survey if possible, else a letter, else nothing is possible."""
        at = max(start, self.now)
        if _sms_possible(self.case, self.policy):
            return Decision("sms", next_sms_moment(at, self.policy, self.tz), reason)
        if self.case.has_address:
            return Decision("letter", at, reason)
        return _close("no_channel", "unreachable", flag=True)

    def letter_or_close(self, at: datetime, reason: str) -> Decision:
        if self.case.has_address:
            return Decision("letter", max(at, self.now), reason)
        if self.now < at:
            return _wait("awaiting_reply", at)
        return _close("no_channel", "unreachable", flag=True)

    def fallback_step(self, contacts: list[AttemptFacts]) -> Decision:
        """After the first fallback contact: reminder, letter, or close (R4.2-R4.4)."""
        last, now = contacts[-1], self.now
        if last.channel == "letter":
            if last.outcome == "returned":
                return _close("letter_returned", "unreachable", flag=True)
            if last.outcome == "queued" or last.ended_at is None:
                return _wait("letter_queued")  # the timeout runs from the day staff mark the batch mailed
            expires = last.ended_at + self.policy.letter_reply_timeout
            return (
                _close("letter_unanswered", "unreachable")
                if now >= expires
                else _wait("awaiting_reply", expires)
            )
        if last.outcome in ("undelivered", "failed"):
            return self.letter_or_close(now, "sms_undelivered")
        if not _sms_possible(self.case, self.policy):
            return self.letter_or_close(now, "no_sms_channel")  # R6: an open SMS survey moves to the letter
        expires = _began(last, now) + self.policy.sms_reply_timeout
        if last.kind == "survey" and not any(c.kind == "reminder" for c in contacts):
            return Decision(
                "reminder_sms", next_sms_moment(max(expires, now), self.policy, self.tz), "sms_unanswered"
            )
        return self.letter_or_close(expires, "sms_unanswered")

    def calling_step(self, calls: list[AttemptFacts]) -> Decision:
        """R3: the next call, or the start of the fallback."""
        case, policy, now = self.case, self.policy, self.now
        if case.do_not_call:
            return self.start_fallback("do_not_call", now)
        if not (case.has_mobile or case.has_landline):
            return self.start_fallback("no_phone", now)
        # R3: an invalid number is marked bad by the engine; the calls go on to the customer's other
        # phone and end at once only when none is left (a customer has two: at most two such calls)
        invalid = [c for c in calls if c.outcome == "invalid_number"]
        if len(invalid) >= 2:
            return self.start_fallback("invalid_number", _finished(invalid[-1], now))
        if case.late_intake or (not calls and case.opened_at >= case.deadline_at):
            return self.start_fallback("late_intake", now)
        # Anything but a callback request or a number that cannot be called (no one was rung) uses up
        # an attempt (an unknown outcome too, so calls end).
        attempts = [c for c in calls if c.outcome not in ("callback_requested", "invalid_number")]
        if len(attempts) >= policy.max_call_attempts:
            return self.start_fallback("fallback_after_calls", _finished(calls[-1], now))
        if not calls:
            due, reason = self.call_at(case.delivered_at + policy.first_call_delay), "first_call"
        elif calls[-1].outcome == "invalid_number":  # the other phone, at once: nobody was disturbed
            due, reason = self.call_at(_finished(calls[-1], now)), "other_phone"
        else:
            prev_end = _finished(calls[-1], now)
            remaining = policy.max_call_attempts - len(attempts)
            fits = (g for g in _gaps(policy) if self.all_fit(prev_end, g, remaining))
            due, reason = self.call_at(prev_end + next(fits, policy.min_gap_floor)), "next_call"
        if due < case.deadline_at:
            return Decision("call", due, reason)
        return self.start_fallback("insufficient_window", case.deadline_at)


def plan_next_contact(
    case: CaseFacts,
    history: Sequence[AttemptFacts],
    now: datetime,
    policy: ContactPolicy,
    tz: ZoneInfo,
) -> Decision:
    """The next step for ``case`` at ``now``, given its contact ``history`` (oldest first)."""
    if case.closed:
        return _wait("closed")
    if case.no_contact:
        return _close("opted_out", "opted_out")
    done = [a for a in history if a.status == "done" and (a.channel == "call" or a.kind in FALLBACK_KINDS)]
    if any(a.channel == "call" and a.outcome == "declined" for a in done):
        return _close("reached", "declined")
    if case.reached or any(a.channel == "call" and a.outcome == "answered" for a in done):
        return _close("reached", None)
    if any(a.status in IN_FLIGHT_STATUSES for a in history):
        return _wait("in_flight")
    planner = _Planner(case, now, policy, tz)
    last = done[-1] if done else None
    callable_ = not case.do_not_call and (case.has_mobile or case.has_landline)
    if last is not None and last.channel == "call" and last.outcome == "callback_requested" and callable_:
        asked = last.callback_at or _finished(last, now) + policy.min_gap
        # R3: never sooner than 30 minutes after the customer asked (a slot already passed included)
        asked = max(asked, _finished(last, now) + CALLBACK_MIN_NOTICE)
        return Decision("call", planner.call_at(asked), "callback")
    contacts = fallback_contacts(history)
    if contacts:
        return planner.fallback_step(contacts)
    if any(a.outage and a.status == "cancelled" and a.channel == "call" for a in history):
        # R3: the provider's outage outlasted the deadline: the fallback, now (R8 system_delay)
        return planner.start_fallback("system_delay", now)
    if any(a.not_made for a in history):
        # R3/R8: the worklist's call was not made before the deadline (no staff time): the fallback, now
        return planner.start_fallback("staff_capacity", case.deadline_at)
    return planner.calling_step([a for a in done if a.channel == "call"])
