"""The pure side of R3's provider outages (issue #16 item 2): when the next window opens after an
hour of failures, and what the policy and the three-day rule make of an outage's row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from factories import case_facts

from followup.rules.calendar import case_deadline, next_call_opening, next_sms_opening
from followup.rules.contact_policy import AttemptFacts, plan_next_contact
from followup.rules.three_day_rule import three_day_rule
from followup.settings import ContactPolicy, load_settings

TZ = ZoneInfo("Asia/Shanghai")
POLICY: ContactPolicy = load_settings({}).stores["SZ01"].policy


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def wall(at: datetime) -> str:
    return at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-20 10:15", "2026-11-20 14:00"),  # the morning window's hour is over: the afternoon
        ("2026-11-20 09:00", "2026-11-20 14:00"),  # even at its first minute: the next window, not this one
        ("2026-11-20 19:30", "2026-11-21 09:00"),  # the evening: tomorrow morning
        ("2026-11-20 12:30", "2026-11-20 14:00"),  # outside every window: the next opening
        ("2026-12-31 19:00", "2027-01-02 09:00"),  # no calls on 元旦 (skip_holidays)
    ],
)
def test_next_call_opening_is_the_next_window_after_this_one_closes(at: str, expected: str) -> None:
    assert wall(next_call_opening(local(at), POLICY, TZ)) == expected


def test_next_sms_opening_is_tomorrow_morning() -> None:
    assert wall(next_sms_opening(local("2026-11-20 10:15"), POLICY, TZ)) == "2026-11-21 08:00"


def outage_call(due: str, status: str) -> AttemptFacts:
    return AttemptFacts("call", "survey", status, None, local(due), None, None, outage=True)


def test_a_call_cancelled_by_an_outage_past_the_deadline_starts_the_fallback_now() -> None:
    case = case_facts(local("2026-11-19 10:00"), POLICY.deadline)
    case = replace(case, deadline_at=case_deadline(case.delivered_at, POLICY, TZ))
    d = plan_next_contact(case, [outage_call("2026-11-22 09:00", "cancelled")], local("2026-11-22 09:35"), POLICY, TZ)
    assert (d.action, wall(d.due_at), d.reason) == ("sms", "2026-11-22 09:35", "system_delay")  # type: ignore[arg-type]


def test_an_outage_is_the_systems_delay_when_the_case_breaches() -> None:
    case = case_facts(local("2026-11-19 10:00"), POLICY.deadline)
    sms = AttemptFacts("sms", "survey", "done", "delivered", local("2026-11-22 09:35"), local("2026-11-22 09:35"),
                       local("2026-11-22 09:35"))
    history = [outage_call("2026-11-22 09:00", "cancelled"), sms]
    assert three_day_rule(case, history, local("2026-11-23 10:00"), POLICY)[:2] == ("breached", "system_delay")


def test_a_call_an_outage_pushed_to_a_later_window_makes_the_breach_the_systems() -> None:
    case = case_facts(local("2026-11-19 10:00"), POLICY.deadline)  # deadline Sunday 10:00

    def done(at: str, outage: bool = False) -> AttemptFacts:
        return AttemptFacts("call", "survey", "done", "no_answer", local(at), local(at), local(at), outage=outage)

    sms = AttemptFacts("sms", "survey", "done", "delivered", local("2026-11-22 10:00"), local("2026-11-22 10:00"),
                       local("2026-11-22 10:00"))
    pushed = [done("2026-11-21 09:00", outage=True), done("2026-11-21 14:00"), sms]
    assert three_day_rule(case, pushed, local("2026-11-23 10:00"), POLICY)[:2] == ("breached", "system_delay")
    # the same history without the outage is the calling windows' fault
    plain = [replace(pushed[0], outage=False), *pushed[1:]]
    assert three_day_rule(case, plain, local("2026-11-23 10:00"), POLICY)[:2] == ("breached", "insufficient_window")
