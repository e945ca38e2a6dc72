"""plan_next_contact (RULES R1-R4), in Asia/Shanghai with the default policy."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from factories import case_facts
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules.calendar import case_deadline, closed_day, in_call_window, in_sms_hours
from followup.rules.contact_policy import (
    FAILED_CALL_OUTCOMES,
    AttemptFacts,
    CaseFacts,
    Decision,
    fallback_started,
    plan_next_contact,
)
from followup.settings import ContactPolicy, load_settings

TZ = ZoneInfo("Asia/Shanghai")
POLICY: ContactPolicy = load_settings({}).stores["SZ01"].policy
CHANNEL = {"call": "call", "sms": "sms", "reminder_sms": "sms", "letter": "letter"}


def local(text: str) -> datetime:
    """'2026-11-20 19:55' in Shanghai as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def wall(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def make_case(
    delivered: str, opened: str | None = None, policy: ContactPolicy = POLICY, **facts: bool
) -> CaseFacts:
    """The case as intake opens it: its deadline is D + 72h moved out by the store's closed days (R1)."""
    case = case_facts(local(delivered), policy.deadline, local(opened) if opened else None, **facts)
    return replace(case, deadline_at=case_deadline(case.delivered_at, policy, TZ))


def call(
    outcome: str, start: str, *, minutes: int = 1, callback: str | None = None, status: str = "done"
) -> AttemptFacts:
    at = local(start)
    return AttemptFacts(
        "call",
        "survey",
        status,
        outcome,
        at,
        at,
        at + timedelta(minutes=minutes),
        local(callback) if callback else None,
    )


def sms(outcome: str, start: str, kind: str = "survey") -> AttemptFacts:
    at = local(start)
    return AttemptFacts("sms", kind, "done", outcome, at, at, at + timedelta(seconds=5))


def letter(outcome: str, queued: str, mailed: str | None = None) -> AttemptFacts:
    return AttemptFacts(
        "letter", "survey", "done", outcome, local(queued), local(queued), local(mailed) if mailed else None
    )


def plan(
    case: CaseFacts, history: Iterable[AttemptFacts], now: str | datetime, policy: ContactPolicy = POLICY
) -> Decision:
    """Ask the policy the way the engine does: with the (frozen) clock's now."""
    with freeze_time(local(now) if isinstance(now, str) else now):
        return plan_next_contact(case, list(history), datetime.now(UTC), policy, TZ)


def walk(
    case: CaseFacts,
    policy: ContactPolicy = POLICY,
    call_outcomes: Iterable[str] = (),
    call_minutes: int = 1,
    max_steps: int = 30,
) -> tuple[list[AttemptFacts], list[Decision]]:
    """Run a whole case: every contact is made when due; calls fail (no_answer unless told),
    SMS are delivered and never answered, letters are mailed a day after queueing."""
    outcomes: Iterator[str] = iter(call_outcomes)
    history: list[AttemptFacts] = []
    decisions: list[Decision] = []
    now = case.opened_at
    for _ in range(max_steps):
        d = plan_next_contact(case, history, now, policy, TZ)
        decisions.append(d)
        if d.action == "close" or (d.action == "wait" and d.due_at is None):
            return history, decisions
        assert d.due_at is not None and d.due_at >= now, d
        if d.action == "wait":
            now = d.due_at
            continue
        channel = CHANNEL[d.action]
        outcome = {"call": next(outcomes, "no_answer"), "sms": "delivered", "letter": "sent"}[channel]
        length = {
            "call": timedelta(minutes=call_minutes),
            "sms": timedelta(seconds=5),
            "letter": timedelta(days=1),
        }
        end = d.due_at + length[channel]
        history.append(
            AttemptFacts(
                channel,
                "reminder" if d.action == "reminder_sms" else "survey",
                "done",
                outcome,
                d.due_at,
                d.due_at,
                end,
            )
        )
        now = end
    raise AssertionError(f"no close after {max_steps} steps: {decisions}")


def assert_calls_then_fallback(case: CaseFacts, history: list[AttemptFacts], min_gap: timedelta) -> None:
    """Exactly three calls, in windows, before the deadline, ``min_gap`` apart (never < 30 min),
    then the SMS survey inside SMS hours."""
    calls = [a for a in history if a.channel == "call"]
    assert len(calls) == POLICY.max_call_attempts
    for c in calls:
        assert c.started_at is not None and c.ended_at is not None
        assert in_call_window(c.started_at, POLICY, TZ), wall(c.started_at)
        assert c.started_at < case.deadline_at
    for prev, nxt in zip(calls, calls[1:], strict=False):
        assert nxt.started_at and prev.ended_at
        assert nxt.started_at - prev.ended_at >= max(min_gap, POLICY.min_gap_floor)
    first = history[len(calls)]
    assert first.channel == "sms" and first.kind == "survey"
    assert first.started_at and in_sms_hours(first.started_at, POLICY, TZ)
    assert first.started_at >= calls[-1].ended_at  # type: ignore[operator]


# --- closing and waiting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "history", "expected"),
    [
        ({"closed": True}, [], Decision("wait", None, "closed")),
        ({"no_contact": True}, [], Decision("close", None, "opted_out", "opted_out")),
        ({"reached": True}, [], Decision("close", None, "reached", None)),
        ({}, [call("declined", "2026-11-21 19:55")], Decision("close", None, "reached", "declined")),
        ({}, [call("answered", "2026-11-21 19:55")], Decision("close", None, "reached", None)),
        ({}, [call("no_answer", "2026-11-21 19:55", status="planned")], Decision("wait", None, "in_flight")),
        (
            {},
            [call("no_answer", "2026-11-21 19:55", status="dispatching")],
            Decision("wait", None, "in_flight"),
        ),
        (
            {"has_mobile": False, "has_address": False},
            [],
            Decision("close", None, "no_channel", "unreachable", flag_for_staff=True),
        ),
    ],
)
def test_close_and_wait(facts: dict[str, Any], history: list[AttemptFacts], expected: Decision) -> None:
    assert plan(replace(make_case("2026-11-20 19:55"), **facts), history, "2026-11-21 20:00") == expected


def test_cancelled_and_error_rows_are_not_attempts() -> None:
    case = make_case("2026-11-20 19:55")
    history = [
        call("no_answer", "2026-11-21 19:55", status="cancelled"),
        call("failed", "2026-11-21 19:56", status="error"),
    ]
    d = plan(case, history, "2026-11-21 20:00")
    assert (d.action, wall(d.due_at), d.reason) == ("call", "2026-11-22 09:00", "first_call")


def test_no_clock_is_read() -> None:
    case = make_case("2026-11-20 19:55")
    now = local("2026-11-20 20:00")
    with freeze_time("2035-06-01 03:00:00"):
        far = plan_next_contact(case, [], now, POLICY, TZ)
    assert far == plan_next_contact(case, [], now, POLICY, TZ)
    assert wall(far.due_at) == "2026-11-21 19:55"


# --- the calling phase (R3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivered", "opened", "expected_calls"),
    [
        # Friday 19:55: attempt 1 Saturday 19:55, then 3h later is 22:56 -> Sunday 09:00, then 12:01 -> 14:00.
        ("2026-11-20 19:55", None, ["2026-11-21 19:55", "2026-11-22 09:00", "2026-11-22 14:00"]),
        # Monday 08:00: Tuesday 09:00, 12:01 -> 14:00, 17:01; deadline Thursday 08:00.
        ("2026-11-16 08:00", None, ["2026-11-17 09:00", "2026-11-17 14:00", "2026-11-17 17:01"]),
        # 11:59 with a 3h gap: the next day 11:59 (still inside), then 15:00, 18:01.
        ("2026-11-16 11:59", None, ["2026-11-17 11:59", "2026-11-17 15:00", "2026-11-17 18:01"]),
        # imported 70h late: 2h left before the deadline (Thursday 11:30); the gap shrinks (55, 60 min).
        (
            "2026-11-16 11:30",
            "2026-11-19 09:30",
            ["2026-11-19 09:30", "2026-11-19 10:26", "2026-11-19 11:27"],
        ),
    ],
)
def test_three_calls_then_sms(delivered: str, opened: str | None, expected_calls: list[str]) -> None:
    case = make_case(delivered, opened)
    history, decisions = walk(case)
    assert [wall(a.started_at) for a in history if a.channel == "call"] == expected_calls
    assert [d.reason for d in decisions[:4]] == [
        "first_call",
        "next_call",
        "next_call",
        "fallback_after_calls",
    ]
    assert_calls_then_fallback(case, history, POLICY.min_gap if opened is None else POLICY.min_gap_floor)


def test_imported_71h_late_makes_the_calls_that_fit_then_falls_back_at_the_deadline() -> None:
    case = make_case("2026-11-16 11:00", "2026-11-19 10:00")  # deadline Thursday 11:00
    history, decisions = walk(case)
    calls = [wall(a.started_at) for a in history if a.channel == "call"]
    assert calls == ["2026-11-19 10:00", "2026-11-19 10:31"]  # the floor: 30 min
    assert (decisions[2].action, wall(decisions[2].due_at), decisions[2].reason) == (
        "sms",
        "2026-11-19 11:00",
        "insufficient_window",
    )


def a_day_of_calls(day: str) -> list[tuple[str, str, str]]:
    """The plan when all three calls fit on ``day``: 09:00, 14:00, 17:01, then the SMS at 17:02."""
    return [
        ("call", f"{day} 09:00", "first_call"),
        ("call", f"{day} 14:00", "next_call"),
        ("call", f"{day} 17:01", "next_call"),
        ("sms", f"{day} 17:02", "fallback_after_calls"),
    ]


@pytest.mark.parametrize(
    ("delivered", "store", "expected"),
    [
        # The default (skip_holidays on): nothing in the National Day block 10-01..10-07, whose days do
        # not count toward the three days (deadline 10-10 10:00): the three calls on 10-08.
        ("2026-09-30 10:00", {}, a_day_of_calls("2026-10-08")),
        # 2025: Saturday 10-04 and Sunday 10-05 inside the block 10-01..10-08 are not called either
        ("2025-10-02 10:00", {}, a_day_of_calls("2025-10-09")),
        # a make-up workday the store listed is an ordinary day: all three calls fit on 10-02
        ("2026-09-30 10:00", {"workdays": frozenset({"2026-10-02"})}, a_day_of_calls("2026-10-02")),
        # the store's own closed day: no call on 12-24, and it does not count toward the three days
        ("2026-12-23 10:00", {"closed_days": frozenset({"2026-12-24"})}, a_day_of_calls("2026-12-25")),
        # a store that switched skip_holidays off says so: then National Day is called
        ("2026-09-30 10:00", {"skip_holidays": False}, [("call", "2026-10-01 10:00", "first_call")]),
    ],
)
def test_no_contact_on_closed_days_and_the_deadline_moves_out(
    delivered: str, store: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    policy = replace(POLICY, **store)
    case = make_case(delivered, policy=policy)
    history, decisions = walk(case, policy)
    assert [(d.action, wall(d.due_at), d.reason) for d in decisions[: len(expected)]] == expected
    for a in history:  # nothing at all on a closed day, and all three calls before the (moved) deadline
        assert a.started_at is not None and not closed_day(a.started_at.astimezone(TZ).date(), policy)
        assert a.channel != "call" or a.started_at < case.deadline_at


@pytest.mark.parametrize(
    ("opened", "expected_due"),
    [
        ("2026-10-02 10:00", "2026-10-08 08:00"),  # a late intake inside the block: the SMS waits it out
        ("2026-12-24 10:00", "2026-12-25 08:00"),  # the store's own closed day
    ],
)
def test_the_survey_sms_waits_for_an_open_day(opened: str, expected_due: str) -> None:
    policy = replace(POLICY, closed_days=frozenset({"2026-12-24"}))
    delivered = (local(opened) - timedelta(days=12)).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    d = plan(make_case(delivered, opened, policy=policy), [], opened, policy)
    assert (d.action, wall(d.due_at), d.reason) == ("sms", expected_due, "late_intake")


def test_the_reminder_sms_waits_for_an_open_day() -> None:
    """A do-not-call customer's survey SMS went out 09-29 10:00; 48h later is inside the National Day block."""
    case = make_case("2026-09-28 10:00", "2026-09-29 09:00", do_not_call=True)
    d = plan(case, [sms("delivered", "2026-09-29 10:00")], "2026-10-01 10:00")
    assert (d.action, wall(d.due_at), d.reason) == ("reminder_sms", "2026-10-08 08:00", "sms_unanswered")


@pytest.mark.parametrize(
    ("opened", "expected_due"),
    [("2026-11-20 10:00", "2026-11-20 10:00"), ("2026-11-20 22:30", "2026-11-21 08:00")],
)
def test_late_intake_goes_straight_to_sms(opened: str, expected_due: str) -> None:
    case = make_case("2026-11-16 10:00", opened)  # four days late
    d = plan(case, [], opened)
    assert (d.action, wall(d.due_at), d.reason) == ("sms", expected_due, "late_intake")


@pytest.mark.parametrize(
    ("history", "now", "expected"),
    [
        # the customer asks for Tuesday 10:00, after the deadline (Monday 19:55): called then
        (
            [
                call("no_answer", "2026-11-21 19:55"),
                call("callback_requested", "2026-11-22 09:00", callback="2026-11-24 10:00"),
            ],
            "2026-11-22 09:01",
            ("call", "2026-11-24 10:00", "callback"),
        ),
        # a time in the lunch rest is rounded into the window
        (
            [call("callback_requested", "2026-11-21 19:55", callback="2026-11-22 12:30")],
            "2026-11-21 19:56",
            ("call", "2026-11-22 14:00", "callback"),
        ),
        # no time given: the usual gap
        (
            [call("callback_requested", "2026-11-21 14:00")],
            "2026-11-21 14:01",
            ("call", "2026-11-21 17:01", "callback"),
        ),
        # a callback request is not a failed attempt: a third attempt still follows
        (
            [
                call("no_answer", "2026-11-21 19:55"),
                call("callback_requested", "2026-11-22 09:00", callback="2026-11-22 15:00"),
                call("busy", "2026-11-22 15:00"),
            ],
            "2026-11-22 15:01",
            ("call", "2026-11-22 18:01", "next_call"),
        ),
        # the callback call failed after the deadline: no time left, the fallback starts now
        (
            [
                call("no_answer", "2026-11-21 19:55"),
                call("callback_requested", "2026-11-22 09:00", callback="2026-11-24 10:00"),
                call("no_answer", "2026-11-24 10:00"),
            ],
            "2026-11-24 10:01",
            ("sms", "2026-11-24 10:01", "insufficient_window"),
        ),
    ],
)
def test_callback_requested(history: list[AttemptFacts], now: str, expected: tuple[str, str, str]) -> None:
    d = plan(make_case("2026-11-20 19:55"), history, now)
    assert (d.action, wall(d.due_at), d.reason) == expected


@pytest.mark.parametrize(
    ("facts", "now", "expected"),
    [
        ({"do_not_call": True}, "2026-11-20 20:00", ("sms", "2026-11-20 20:00", "do_not_call")),
        ({"do_not_call": True}, "2026-11-20 21:30", ("sms", "2026-11-21 08:00", "do_not_call")),
        (
            {"do_not_call": True, "no_sms": True},
            "2026-11-20 21:30",
            ("letter", "2026-11-20 21:30", "do_not_call"),
        ),
        ({"has_mobile": False}, "2026-11-20 21:30", ("letter", "2026-11-20 21:30", "no_phone")),
    ],
)
def test_not_called(facts: dict[str, Any], now: str, expected: tuple[str, str, str]) -> None:
    d = plan(replace(make_case("2026-11-20 19:55"), **facts), [], now)
    assert (d.action, wall(d.due_at), d.reason) == expected


def test_landline_only_is_called_then_gets_a_letter() -> None:
    case = make_case("2026-11-20 19:55", has_mobile=False, has_landline=True)
    history, decisions = walk(case)
    assert [a.channel for a in history] == ["call", "call", "call", "letter"]
    assert decisions[3].reason == "fallback_after_calls"
    assert decisions[-1] == Decision("close", None, "letter_unanswered", "unreachable")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # R3: the number is marked bad and the next attempt goes to the other phone at once
        ({"has_mobile": True}, ("call", "2026-11-21 19:56", "other_phone")),  # the landline was bad
        ({"has_mobile": False, "has_landline": True}, ("call", "2026-11-21 19:56", "other_phone")),
        ({"has_mobile": False}, ("letter", "2026-11-21 19:56", "no_phone")),  # the only phone, now marked bad
        ({"has_mobile": False, "no_sms": True}, ("letter", "2026-11-21 19:56", "no_phone")),
    ],
)
def test_invalid_number_goes_on_to_the_other_phone_or_ends_the_calls(
        facts: dict[str, Any], expected: tuple[str, str, str]) -> None:
    d = plan(
        replace(make_case("2026-11-20 19:55"), **facts),
        [call("invalid_number", "2026-11-21 19:55")],
        "2026-11-21 19:56",
    )
    assert (d.action, wall(d.due_at), d.reason) == expected


def test_the_invalid_mobile_costs_the_landline_none_of_its_three_attempts() -> None:
    case = make_case("2026-11-20 19:55", has_mobile=False, has_landline=True)  # the mobile was marked bad
    history = [call("invalid_number", "2026-11-21 19:55")]
    for at in ("2026-11-21 19:56", "2026-11-22 09:00", "2026-11-22 14:00"):
        d = plan(case, history, at)
        assert d.action == "call"
        history.append(call("no_answer", wall(d.due_at)))
    assert len(history) == 4  # the invalid mobile, then three calls to the landline
    d = plan(case, history, "2026-11-22 16:00")
    assert (d.action, d.reason) == ("letter", "fallback_after_calls")  # no SMS: the mobile is bad


def test_two_invalid_numbers_end_the_calls_even_if_a_phone_still_looks_callable() -> None:
    history = [call("invalid_number", "2026-11-21 19:55"), call("invalid_number", "2026-11-21 19:57")]
    d = plan(make_case("2026-11-20 19:55", has_landline=True), history, "2026-11-21 19:58")
    assert (d.action, d.reason) == ("sms", "invalid_number")


# --- the fallback (R4) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_end", "expected_sms"),
    [("19:30", "2026-11-22 19:30"), ("20:59", "2026-11-22 20:59"), ("21:10", "2026-11-23 08:00")],
)
def test_three_failures_then_sms_inside_sms_hours(last_end: str, expected_sms: str) -> None:
    end = local(f"2026-11-22 {last_end}")
    third = AttemptFacts(
        "call", "survey", "done", "voicemail", end - timedelta(minutes=2), end - timedelta(minutes=2), end
    )
    history = [call("no_answer", "2026-11-21 19:55"), call("hung_up", "2026-11-22 09:00"), third]
    d = plan(make_case("2026-11-20 19:55"), history, end)
    assert (d.action, wall(d.due_at), d.reason) == ("sms", expected_sms, "fallback_after_calls")


THREE_CALLS = [
    call(o, t)
    for o, t in [
        ("no_answer", "2026-11-21 19:55"),
        ("busy", "2026-11-22 09:00"),
        ("failed", "2026-11-22 14:00"),
    ]
]


@pytest.mark.parametrize(
    ("facts", "after", "now", "expected"),
    [
        (
            {},
            [sms("undelivered", "2026-11-22 14:01")],
            "2026-11-22 14:05",
            ("letter", "2026-11-22 14:05", "sms_undelivered"),
        ),
        (
            {},
            [sms("failed", "2026-11-22 14:01")],
            "2026-11-22 14:05",
            ("letter", "2026-11-22 14:05", "sms_undelivered"),
        ),
        (
            {"has_address": False},
            [sms("undelivered", "2026-11-22 14:01")],
            "2026-11-22 14:05",
            ("close", None, "no_channel"),
        ),
        # no reply in 48h: one reminder, planned for 48h after the survey went out
        (
            {},
            [sms("delivered", "2026-11-22 14:01")],
            "2026-11-22 14:05",
            ("reminder_sms", "2026-11-24 14:01", "sms_unanswered"),
        ),
        (
            {},
            [sms("sent", "2026-11-22 20:40")],
            "2026-11-22 20:45",
            ("reminder_sms", "2026-11-24 20:40", "sms_unanswered"),
        ),
        # the reminder unanswered for another 48h: a letter, no window
        (
            {},
            [sms("delivered", "2026-11-22 14:01"), sms("delivered", "2026-11-24 14:01", "reminder")],
            "2026-11-24 14:02",
            ("letter", "2026-11-26 14:01", "sms_unanswered"),
        ),
        (
            {"has_address": False},
            [sms("delivered", "2026-11-22 14:01"), sms("delivered", "2026-11-24 14:01", "reminder")],
            "2026-11-24 14:02",
            ("wait", "2026-11-26 14:01", "awaiting_reply"),
        ),
        (
            {"has_address": False},
            [sms("delivered", "2026-11-22 14:01"), sms("delivered", "2026-11-24 14:01", "reminder")],
            "2026-11-26 14:01",
            ("close", None, "no_channel"),
        ),
        # the customer opts out of SMS while the survey is open (R6): the letter now
        (
            {"no_sms": True},
            [sms("delivered", "2026-11-22 14:01")],
            "2026-11-22 16:00",
            ("letter", "2026-11-22 16:00", "no_sms_channel"),
        ),
        # letters: queued until staff mark the batch mailed, then 30 days for an answer
        ({}, [letter("queued", "2026-11-26 14:01")], "2026-11-26 15:00", ("wait", None, "letter_queued")),
        (
            {},
            [letter("sent", "2026-11-26 14:01", "2026-11-27 10:00")],
            "2026-12-27 09:59",
            ("wait", "2026-12-27 10:00", "awaiting_reply"),
        ),
        (
            {},
            [letter("sent", "2026-11-26 14:01", "2026-11-27 10:00")],
            "2026-12-27 10:00",
            ("close", None, "letter_unanswered"),
        ),
        (
            {},
            [letter("returned", "2026-11-26 14:01", "2026-11-27 10:00")],
            "2026-12-02 10:00",
            ("close", None, "letter_returned"),
        ),
    ],
)
def test_fallback_steps(
    facts: dict[str, Any], after: list[AttemptFacts], now: str, expected: tuple[str, str | None, str]
) -> None:
    d = plan(replace(make_case("2026-11-20 19:55"), **facts), THREE_CALLS + after, now)
    assert (d.action, wall(d.due_at), d.reason) == expected
    if d.action == "close":
        assert d.outcome == "unreachable"
        assert d.flag_for_staff is (d.reason in ("no_channel", "letter_returned"))


def test_whole_case_sms_reminder_letter_close() -> None:
    history, decisions = walk(make_case("2026-11-20 19:55"))
    assert [(d.action, wall(d.due_at)) for d in decisions[3:]] == [
        ("sms", "2026-11-22 14:01"),
        ("reminder_sms", "2026-11-24 14:01"),
        ("letter", "2026-11-26 14:01"),
        ("wait", "2026-12-27 14:01"),
        ("close", None),
    ]
    assert fallback_started(history) == local("2026-11-22 14:01")
    assert fallback_started(history[:3]) is None


# --- properties ------------------------------------------------------------------------------------

CALL_OUTCOMES = sorted(FAILED_CALL_OUTCOMES) + ["callback_requested", "invalid_number"]


@settings(max_examples=200, deadline=None)
@given(
    delivered=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    delay_minutes=st.integers(min_value=0, max_value=100 * 60),
    outcomes=st.lists(st.sampled_from(CALL_OUTCOMES), max_size=8),
    callback_hours=st.integers(min_value=0, max_value=120),
    call_minutes=st.integers(min_value=0, max_value=15),
    skip_holidays=st.booleans(),
    has_mobile=st.booleans(),
)
def test_property_calls_in_windows_never_a_fourth_failure_nothing_after_close(
    delivered: datetime,
    delay_minutes: int,
    outcomes: list[str],
    callback_hours: int,
    call_minutes: int,
    skip_holidays: bool,
    has_mobile: bool,
) -> None:
    policy = replace(POLICY, skip_holidays=skip_holidays)
    case = CaseFacts(
        delivered,
        delivered + policy.deadline,
        delivered + timedelta(minutes=delay_minutes),
        closed=False,
        has_mobile=has_mobile,
        has_landline=not has_mobile,
        has_address=True,
        do_not_call=False,
        no_sms=False,
        no_contact=False,
        reached=False,
    )
    pending = iter(outcomes)
    history: list[AttemptFacts] = []
    now = case.opened_at
    for _ in range(40):
        d = plan_next_contact(case, history, now, policy, TZ)
        if d.action == "close":
            closed = replace(case, closed=True)
            assert plan_next_contact(closed, history, now, policy, TZ) == Decision("wait", None, "closed")
            return
        assert d.due_at is not None and d.due_at >= now
        if d.action == "wait":
            now = d.due_at
            continue
        failed = sum(1 for a in history if a.channel == "call" and a.outcome in FAILED_CALL_OUTCOMES)
        if d.action == "call":
            assert in_call_window(d.due_at, policy, TZ)
            assert failed < policy.max_call_attempts
            assert d.reason == "callback" or d.due_at < case.deadline_at
            outcome = next(pending, "no_answer")
        else:
            assert d.action == "letter" or in_sms_hours(d.due_at, policy, TZ)
            outcome = {"call": "", "sms": "delivered", "letter": "sent"}[CHANNEL[d.action]]
        callback = d.due_at + timedelta(hours=callback_hours) if outcome == "callback_requested" else None
        end = d.due_at + timedelta(minutes=call_minutes)
        history.append(
            AttemptFacts(
                CHANNEL[d.action],
                "reminder" if d.action == "reminder_sms" else "survey",
                "done",
                outcome,
                d.due_at,
                d.due_at,
                end,
                callback,
            )
        )
        now = end
    raise AssertionError("the case never closed")
