"""Fault 6 (issue #10): the worker is down for two hours; on restart it catches up properly.

The outage runs 10:15–12:15 Shanghai on Wednesday 25 November 2026; the web side keeps running
(a DMS push arrives during it). Contacts that fell due meanwhile are all handled by the first
tick after the restart: SMS go out at once (inside 08–21), calls wait for the next calling
window (14:00: 12:15 is the lunch rest) and then go out in the order they were due. A case
whose deadline passed during the outage with calls still owed is breached ``system_delay``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from factories import SH, add_visit, run_until, visit_row
from sqlalchemy import select

from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.intake.records import VisitRow
from followup.models import ContactAttempt, FollowupCase
from followup.runtime import Runtime

DOWN = datetime(2026, 11, 25, 10, 15, tzinfo=SH)
UP = DOWN + timedelta(hours=2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after the outage's day, local time."""
    return datetime(2026, 11, 25 + day, hour, minute, tzinfo=SH) if day >= 0 else \
        datetime(2026, 11, 25, hour, minute, tzinfo=SH) + timedelta(days=day)


def visit(ro: str, delivered: datetime, mobile: str) -> VisitRow:
    return visit_row(ro, customer_name=f"客户{ro}", mobile=mobile, address="深圳市福田区深南大道1号", plate=None,
                     vehicle_model=None, advisor_name="王顾问", delivered_at=delivered.astimezone(UTC), mileage_km=None)


def opening(when: datetime) -> bool:
    """Within the first second of today's 14:00 calling window."""
    return timedelta(0) <= when - at(0, 14) < timedelta(seconds=1)


def accept(rt: Runtime, row: VisitRow, now: datetime, *, do_not_call: bool = False) -> int:
    rt.clock.set(now)  # type: ignore[attr-defined]
    return add_visit(rt, row, at=now, do_not_call=do_not_call)


def test_two_hours_down_every_due_contact_handled_in_windows_in_due_order(rt: Runtime) -> None:
    channel = SandboxChannel(silent)
    # Two days before: a do-not-call customer gets the SMS survey at 10:45, so its reminder is due at 10:45 today.
    accept(rt, visit("RO-SMS", at(-2, 9), "+8613800000001"), at(-2, 10, 45), do_not_call=True)
    run_until(rt, channel, at(-2, 10, 45))
    # Yesterday's visits: first calls due today at 11:30 and 10:30 (imported in that order: ids differ from due order).
    accept(rt, visit("RO-1130", at(-1, 11, 30), "+8613800000002"), at(-1, 12))
    accept(rt, visit("RO-1030", at(-1, 10, 30), "+8613800000003"), at(-1, 12))
    run_until(rt, channel, at(0, 9, 50))
    # A late DMS export: delivered three days ago at 11:00, so its deadline is today 11:00.
    late = accept(rt, visit("RO-LATE", at(-3, 11), "+8613800000004"), at(0, 9, 50))
    # Imported during the outage (the web side is up): planned by the first tick after it.
    during = accept(rt, visit("RO-PUSH", at(-1, 15), "+8613800000005"), at(0, 11), do_not_call=True)
    rt.clock.set(at(0, 9, 50))  # type: ignore[attr-defined]  # the worker goes on from where it was
    run_until(rt, channel, DOWN - timedelta(seconds=1))

    with rt.sessions() as s:
        fell_due: dict[int, datetime] = {a.id: a.due_at for a in s.scalars(select(ContactAttempt).where(
            ContactAttempt.status == "planned", ContactAttempt.due_at >= DOWN, ContactAttempt.due_at < UP)) if a.due_at}
    assert len(fell_due) >= 4, fell_due  # two first calls, the late case's next call, the reminder SMS
    before = len(channel.sent)

    # Restart at 12:15: the first tick handles everything that fell due.
    rt.clock.set(UP)  # type: ignore[attr-defined]
    first = run_tick(rt, channel)
    at_restart = channel.sent[before:]
    with rt.sessions() as s:
        rows = {a.id: a for a in s.scalars(select(ContactAttempt).where(ContactAttempt.id.in_(fell_due)))}
        late_case = s.get_one(FollowupCase, late)
        push_sms = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == during)).all()
    # calls moved to the 14:00 opening (within its first second: the sub-second part keeps their order)
    assert all(rows[i].status != "planned" or opening(rows[i].due_at or DOWN) for i in fell_due)
    assert all(c.channel == "sms" for _, c in at_restart), "a call went out in the lunch rest"
    sent_now = {c.attempt_id for _, c in at_restart}
    assert {i for i in fell_due if rows[i].channel == "sms"} <= sent_now
    assert [fell_due[c.attempt_id] for _, c in at_restart if c.attempt_id in fell_due] == \
        sorted(fell_due[c.attempt_id] for _, c in at_restart if c.attempt_id in fell_due)
    assert first["rescheduled"] == sum(1 for i in fell_due if rows[i].channel == "call")
    # the push that arrived meanwhile: its SMS (do-not-call) was planned and sent within the first ticks
    run_tick(rt, channel)
    assert any(c.case_id == during and c.channel == "sms" for _, c in channel.sent[before:]), push_sms
    # the case whose deadline passed while the worker was down
    assert (late_case.three_day_rule, late_case.breach_reason) == ("breached", "system_delay")

    # 14:00: the waiting calls go out, in the order they fell due.
    run_until(rt, channel, at(0, 14, 1))
    calls = [(when, c) for when, c in channel.sent[before:] if c.channel == "call"]
    waited = [c for when, c in calls if c.attempt_id in fell_due]
    assert all(opening(when) for when, c in calls if c.attempt_id in fell_due)
    assert {c.attempt_id for c in waited} == {i for i in fell_due if rows[i].channel == "call"}
    assert [fell_due[c.attempt_id] for c in waited] == sorted(fell_due[c.attempt_id] for c in waited), \
        "the waiting calls did not go out in the order they fell due"


def test_a_contact_moved_past_the_deadline_by_an_outage_is_a_system_delay() -> None:
    """The rule itself: a call due 11:30 (deadline 12:30) moved to 14:00 because no tick came is our fault."""
    from followup.rules.contact_policy import AttemptFacts, CaseFacts
    from followup.rules.three_day_rule import three_day_rule
    from followup.settings import load_settings

    policy = load_settings({}).stores["SZ01"].policy
    delivered = at(-3, 12, 30).astimezone(UTC)
    case = CaseFacts(delivered, delivered + policy.deadline, delivered, closed=False, has_mobile=True,
                     has_landline=False, has_address=True, do_not_call=False, no_sms=False, no_contact=False,
                     reached=False)
    done = [AttemptFacts("call", "survey", "done", "no_answer", t, t, t) for t in
            (at(-2, 12, 30).astimezone(UTC), at(-1, 9).astimezone(UTC))]
    moved = AttemptFacts("call", "survey", "planned", None, at(0, 14).astimezone(UTC), None, None)
    after = at(0, 13).astimezone(UTC)  # the deadline (12:30) has passed; the call waits for 14:00
    assert three_day_rule(case, [*done, moved], after, policy)[:2] == ("breached", "insufficient_window")
    assert three_day_rule(case, [*done, replace(moved, missed_window=True)], after, policy)[:2] == \
        ("breached", "system_delay")
