"""R3: a provider outage never silences a case (issue #16 item 2).

The provider answers every call with a 503 for a while. Inside the hour of retries nothing is an
attempt; after that hour the retries stop for that calling window, the case is flagged for staff
and the same attempt is planned again at the next window's opening, with its own hour of retries.
When the outage outlasts the deadline the calls end, the SMS fallback starts at once and the case
counts ``breached`` / ``system_delay`` (R8). SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import factories
from factories import add_visit, local, visit_row
from sqlalchemy import select

from followup.channels.base import Contact, Sent, TransientError
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.models import ContactAttempt, FollowupCase, WebhookEvent
from followup.rules.three_day_rule import PROVIDER_OUTAGE
from followup.runtime import Runtime

# visit_row(): delivered Thursday 2026-11-19 10:00 Shanghai; first call due Friday 10:00, deadline Sunday 10:00
FIRST_CALL = local(2026, 11, 20, 10)
DEADLINE = local(2026, 11, 22, 10)


class Outage:
    """The sandbox customer (nobody answers) behind a provider that fails calls until ``calls_back``."""

    def __init__(self, calls_back: datetime | None) -> None:
        self.calls_back = calls_back
        self.failed: list[datetime] = []
        self.made: list[tuple[datetime, Contact]] = []

    def __call__(self, contact: Contact, now: datetime) -> Sent:
        if contact.channel == "call" and (self.calls_back is None or now < self.calls_back):
            self.failed.append(now)
            raise TransientError("HTTP 503 from provider", code="503")
        self.made.append((now, contact))
        return silent(contact, now)


def _calls(rt: Runtime, case_id: int) -> list[ContactAttempt]:
    with rt.sessions() as s:
        return list(s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                                           ContactAttempt.channel == "call")
                              .order_by(ContactAttempt.id)))


def test_an_hour_of_failures_plans_the_same_attempt_at_the_next_window_opening(rt: Runtime) -> None:
    outage = Outage(calls_back=local(2026, 11, 20, 12))  # down the whole morning window
    channel = SandboxChannel(outage)
    case_id = add_visit(rt, visit_row(), plan=True)
    rt.clock.set(local(2026, 11, 19, 10))  # type: ignore[attr-defined]
    factories.run_until(rt, channel, local(2026, 11, 20, 13), skip=("letters",))
    # 10:00, then backoff 5, 10, 20 minutes; at 11:15 the hour is over: retries stop for this window
    assert [t.astimezone(factories.SH).strftime("%H:%M") for t in outage.failed] == \
        ["10:00", "10:05", "10:15", "10:35", "11:15"]
    (waiting,) = _calls(rt, case_id)
    assert (waiting.status, waiting.number, waiting.reason) == ("planned", 1, PROVIDER_OUTAGE)
    assert waiting.due_at == local(2026, 11, 20, 14)  # the afternoon window's opening, not 11:20
    assert (waiting.retries, waiting.first_error_at) == (0, None)  # a fresh hour of retries there
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert case.flagged and "provider errors" in (case.flag_reason or "")
    factories.run_until(rt, channel, local(2026, 11, 20, 15), skip=("letters",))
    ((called_at, contact),) = outage.made
    assert called_at == local(2026, 11, 20, 14) and contact.attempt_id == waiting.id
    first, second = _calls(rt, case_id)
    assert (first.status, first.outcome, first.number) == ("done", "no_answer", 1)  # the outage used no attempt
    assert (second.status, second.number) == ("planned", 2)
    factories.run_until(rt, channel, local(2026, 11, 24), skip=("letters",))
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert case.three_day_rule == "met"  # three calls and the SMS before the deadline
    assert [c.channel for _, c in outage.made][:4] == ["call", "call", "call", "sms"]


def test_an_outage_past_the_deadline_starts_the_sms_fallback_and_breaches_with_system_delay(rt: Runtime) -> None:
    outage = Outage(calls_back=None)  # calls never go through; SMS do
    channel = SandboxChannel(outage)
    case_id = add_visit(rt, visit_row(), plan=True)
    rt.clock.set(local(2026, 11, 19, 10))  # type: ignore[attr-defined]
    factories.run_until(rt, channel, local(2026, 11, 23), skip=("letters",))
    run_tick(rt, channel)  # a tick after the deadline judges the rule (the reminder is not due yet)
    (call,) = _calls(rt, case_id)
    assert (call.status, call.reason, call.outcome, call.started_at) == ("cancelled", PROVIDER_OUTAGE, None, None)
    # every window got its hour of retries: Friday morning and afternoon, Saturday's two, Sunday until the deadline
    days = sorted({t.astimezone(factories.SH).strftime("%d %H") for t in outage.failed})
    assert {"20 10", "20 14", "21 09", "21 14", "22 09"} <= set(days)
    assert max(outage.failed) < DEADLINE  # no call at or after the deadline
    ((sms_at, sms),) = [(t, c) for t, c in outage.made if c.kind == "survey"]
    assert sms.channel == "sms" and sms_at < DEADLINE  # the fallback started at once, before the deadline
    with rt.sessions() as s:
        case = s.get_one(FollowupCase, case_id)
        assert (case.three_day_rule, case.breach_reason) == ("breached", "system_delay")
        assert case.flagged and case.state != "closed"
        types = list(s.scalars(select(WebhookEvent.type).where(WebhookEvent.case_id == case_id)))
        assert "case.fallback" in types and "three_day_rule.breached" in types
