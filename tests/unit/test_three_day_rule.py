"""The three-day rule as a metric (RULES R8), in Asia/Shanghai with the default policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from factories import case_facts
from freezegun import freeze_time

from followup.rules.contact_policy import AttemptFacts, CaseFacts, plan_next_contact
from followup.rules.three_day_rule import reached_at, three_day_rule
from followup.settings import ContactPolicy, load_settings

TZ = ZoneInfo("Asia/Shanghai")
POLICY: ContactPolicy = load_settings({}).stores["SZ01"].policy
DELIVERED = "2026-11-20 19:55"  # Friday; deadline Monday 2026-11-23 19:55
DEADLINE = "2026-11-23 19:55"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def make_case(opened: str | None = None, delivered: str = DELIVERED, **facts: bool) -> CaseFacts:
    return case_facts(local(delivered), POLICY.deadline, local(opened) if opened else None, **facts)


def row(
    channel: str,
    outcome: str | None,
    due: str,
    started: str | None = None,
    *,
    kind: str = "survey",
    status: str = "done",
    minutes: int = 1,
) -> AttemptFacts:
    """A contact due at ``due``, started at ``started`` (default: on time), done after ``minutes``."""
    start = local(started or due) if status in ("done", "dispatching") else None
    end = start + timedelta(minutes=minutes) if start and status == "done" else None
    return AttemptFacts(channel, kind, status, outcome, local(due), start, end)


CALLS = [
    row("call", "no_answer", "2026-11-21 19:55"),
    row("call", "busy", "2026-11-22 09:00"),
    row("call", "voicemail", "2026-11-22 14:00"),
]


def rule(case: CaseFacts, history: list[AttemptFacts], now: str) -> tuple[str, str | None, str | None]:
    """Evaluate with the frozen clock's now, as the engine does; the moment in local time."""
    with freeze_time(local(now)):
        status, reason, at = three_day_rule(case, history, datetime.now(UTC), POLICY)
    return status, reason, None if at is None else at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("history", "now", "expected"),
    [
        ([], "2026-11-21 10:00", ("pending", None, None)),
        (CALLS[:2], "2026-11-23 19:54", ("pending", None, None)),
        # reached: a survey answer, a decline or a callback request, dated by its end
        (
            [row("call", "answered", "2026-11-21 19:55", minutes=4)],
            "2026-11-21 20:00",
            ("met", None, "2026-11-21 19:59"),
        ),
        (
            [row("call", "declined", "2026-11-21 19:55")],
            "2026-11-25 10:00",
            ("met", None, "2026-11-21 19:56"),
        ),
        (
            CALLS[:2] + [row("sms", "replied", "2026-11-22 14:01", minutes=30)],
            "2026-11-22 15:00",
            ("met", None, "2026-11-22 14:31"),
        ),
        (
            [row("letter", "replied", "2026-11-23 09:00")],
            "2026-11-23 10:00",
            ("met", None, "2026-11-23 09:01"),
        ),
        # three failed calls and the fallback started before the deadline: met when the SMS went out
        (
            CALLS + [row("sms", "delivered", "2026-11-22 14:01")],
            "2026-11-22 14:02",
            ("met", None, "2026-11-22 14:01"),
        ),
        (
            CALLS + [row("sms", None, "2026-11-22 14:01", status="dispatching")],
            "2026-11-22 14:01",
            ("met", None, "2026-11-22 14:01"),
        ),
        # three calls without a fallback yet: pending, then a system delay
        (CALLS, "2026-11-22 14:05", ("pending", None, None)),
        (
            CALLS + [row("sms", None, "2026-11-22 14:01", status="planned")],
            DEADLINE,
            ("breached", "system_delay", DEADLINE),
        ),
        (
            CALLS + [row("sms", "delivered", "2026-11-22 14:01", "2026-11-23 20:30")],
            "2026-11-24 10:00",
            ("breached", "system_delay", DEADLINE),
        ),
        # answered only after the deadline does not count
        (
            CALLS[:2] + [row("call", "answered", "2026-11-23 19:50", minutes=10)],
            "2026-11-24 10:00",
            ("breached", "system_delay", DEADLINE),
        ),
        # attempt 2 dispatched two hours after it was due
        (
            [CALLS[0], row("call", "no_answer", "2026-11-22 09:00", "2026-11-22 11:00")],
            "2026-11-24 10:00",
            ("breached", "system_delay", DEADLINE),
        ),
        # nothing was planned at all
        ([], DEADLINE, ("breached", "system_delay", DEADLINE)),
        # a planned call cancelled does not hide the delay of the next one
        (
            [
                row("call", None, "2026-11-21 19:55", status="cancelled"),
                row("call", None, "2026-11-21 19:55", status="error"),
            ],
            DEADLINE,
            ("breached", "system_delay", DEADLINE),
        ),
    ],
)
def test_three_day_rule(
    history: list[AttemptFacts], now: str, expected: tuple[str, str | None, str | None]
) -> None:
    assert rule(make_case(), history, now) == expected


def test_callback_for_a_time_after_the_deadline_counts_as_met() -> None:
    asked = AttemptFacts(
        "call",
        "survey",
        "done",
        "callback_requested",
        local("2026-11-22 09:00"),
        local("2026-11-22 09:00"),
        local("2026-11-22 09:02"),
        local("2026-11-24 10:00"),
    )
    history = [CALLS[0], asked]
    case = make_case()
    decision = plan_next_contact(case, history, local("2026-11-22 09:02"), POLICY, TZ)
    assert (decision.action, decision.due_at, decision.reason) == (
        "call",
        local("2026-11-24 10:00"),
        "callback",
    )
    assert rule(case, history, "2026-11-24 10:00") == ("met", None, "2026-11-22 09:02")
    assert reached_at(history) == local("2026-11-22 09:02")


@pytest.mark.parametrize(
    ("facts", "history", "expected_reason"),
    [
        ({"has_mobile": False}, [row("letter", "sent", "2026-11-20 20:00")], "no_phone"),
        ({"do_not_call": True}, [row("sms", "delivered", "2026-11-20 20:00")], "no_phone"),
        (
            {"has_mobile": False},
            [row("call", "invalid_number", "2026-11-21 19:55"), row("letter", "sent", "2026-11-21 19:56")],
            "no_phone",
        ),
        (
            {"has_mobile": False, "has_landline": False},
            [row("call", "invalid_number", "2026-11-21 19:55"), row("call", "invalid_number", "2026-11-21 19:56"),
             row("letter", "sent", "2026-11-21 19:57")],
            "no_phone",
        ),
        # R3: the mobile was invalid but the landline was left: the calls should have gone on to it, so
        # the bad mobile is no excuse (here nothing more was called: the system's delay)
        (
            {"has_mobile": False, "has_landline": True},
            [row("call", "invalid_number", "2026-11-21 19:55"), row("sms", "sent", "2026-11-21 19:56")],
            "system_delay",
        ),
    ],
)
def test_breached_without_a_phone(
    facts: dict[str, Any], history: list[AttemptFacts], expected_reason: str
) -> None:
    assert rule(replace(make_case(), **facts), history, "2026-11-24 08:00") == (
        "breached",
        expected_reason,
        DEADLINE,
    )


def test_late_intake_is_breached_at_import() -> None:
    case = make_case(opened="2026-11-24 10:00")
    history = [row("sms", "delivered", "2026-11-24 10:00")]
    assert rule(case, history, "2026-11-24 10:00") == ("breached", "late_intake", "2026-11-24 10:00")


def walk_calls(case: CaseFacts, policy: ContactPolicy = POLICY) -> list[AttemptFacts]:
    """Failed calls, made when due, until the policy moves on; then the first fallback contact."""
    history: list[AttemptFacts] = []
    now = case.opened_at
    while True:
        d = plan_next_contact(case, history, now, policy, TZ)
        assert d.due_at is not None
        channel = "call" if d.action == "call" else d.action
        outcome = "no_answer" if channel == "call" else "delivered"
        history.append(
            AttemptFacts(
                channel, "survey", "done", outcome, d.due_at, d.due_at, d.due_at + timedelta(minutes=1)
            )
        )
        now = d.due_at + timedelta(minutes=1)
        if channel != "call":
            return history


@pytest.mark.parametrize(
    ("delivered", "opened", "policy", "expected"),
    [
        (DELIVERED, None, POLICY, ("met", None, "2026-11-22 14:01")),
        ("2026-11-16 11:30", "2026-11-19 09:30", POLICY, ("met", None, "2026-11-19 11:28")),
        # 71h late: two calls fit, the SMS goes out at the deadline
        (
            "2026-11-16 11:00",
            "2026-11-19 10:00",
            POLICY,
            ("breached", "insufficient_window", "2026-11-19 11:00"),
        ),
        # National Day with skip_holidays: no call fits before the deadline
        (
            "2026-09-30 10:00",
            None,
            replace(POLICY, skip_holidays=True),
            ("breached", "insufficient_window", "2026-10-03 10:00"),
        ),
        (
            "2026-09-30 10:00",
            None,
            replace(POLICY, skip_holidays=True, workdays=frozenset({"2026-10-02"})),
            ("met", None, "2026-10-02 17:02"),
        ),
    ],
)
def test_rule_after_the_policy_ran(
    delivered: str, opened: str | None, policy: ContactPolicy, expected: tuple[str, str | None, str]
) -> None:
    case = make_case(opened, delivered)
    history = walk_calls(case, policy)
    assert rule(case, history, "2026-12-31 00:00") == expected
