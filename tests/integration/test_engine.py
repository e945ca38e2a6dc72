"""The follow-up engine driven through `tick` with the sandbox channel, over simulated days.

The clock jumps from one due moment to the next (no test sleeps); every assertion is about what
the sandbox recorded as sent, and when, and what the rows say. The ticks run every duty but the
daily letter batch, which would render each queued letter's PDF again and again (two thirds of
these tests' time) while no test here reads a printed letter: tests/letters runs it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import factories
import pytest
from factories import accept, make_user
from next_step_check import assert_every_open_case_has_a_next_step
from sqlalchemy import func, select

from followup.channels.base import Contact, PermanentError, Sent, TransientError
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.intake.table import open_table
from followup.intake.validate import validate_row
from followup.models import ContactAttempt, Customer, FollowupCase, SurveyResponse, Visit, WebhookEvent
from followup.runtime import Runtime

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _every_open_case_has_a_next_step(rt: Runtime) -> Iterator[None]:
    """Each scenario ends as ``followup doctor`` wants it: no open case without a next step (R3, #16).
    An administrator exists, as in every deployment: the complaints these scenarios open have
    someone to act on them (R7; with no user at all the doctor rightly lists every one)."""
    make_user(rt, "admin", "admin")
    yield
    assert_every_open_case_has_a_next_step(rt)


def run_until(rt: Runtime, channel: SandboxChannel, until: datetime) -> None:
    """Tick (without the letter batch) at every moment something falls due, up to ``until``."""
    factories.run_until(rt, channel, until, skip=("letters",), most=2000)


def import_rows_as_delivered(rt: Runtime, path: Path, channel: SandboxChannel) -> None:
    """Each visit enters the system at its own delivery time, as a DMS push would do it."""
    tz = rt.settings.stores["SZ01"].timezone
    with open_table(path) as table:
        rows = [validate_row(n, raw, store_tz=lambda c: tz, default_store=None, now=datetime(2030, 1, 1, tzinfo=UTC))
                for n, raw in table.rows()]
    ordered = sorted(rows, key=lambda r: r.delivered_at)  # type: ignore[union-attr]
    rt.clock.set(ordered[0].delivered_at)  # type: ignore[attr-defined,union-attr]
    for row in ordered:
        assert not isinstance(row, list)
        run_until(rt, channel, row.delivered_at)
        accept(rt, row)  # the internal visit opens no case


def sent_by_ro(rt: Runtime, channel: SandboxChannel) -> dict[str, list[tuple[datetime, Contact]]]:
    with rt.sessions() as s:
        ro_of = dict(s.execute(select(FollowupCase.id, Visit.ro_number).join(Visit, Visit.id == FollowupCase.visit_id)).all())
    out: dict[str, list[tuple[datetime, Contact]]] = defaultdict(list)
    for at, contact in channel.sent:
        out[ro_of[contact.case_id]].append((at, contact))
    return out


def in_call_window(at: datetime) -> bool:
    local = at.astimezone(SH).time()
    return time(9) <= local < time(12) or time(14) <= local < time(20)


def test_gbk_sample_three_calls_in_windows_then_sms_or_letter(rt: Runtime, samples: Path) -> None:
    channel = SandboxChannel(silent)  # nobody ever answers
    import_rows_as_delivered(rt, samples / "visits_dms_gbk.csv", channel)
    run_until(rt, channel, datetime(2026, 11, 26, tzinfo=UTC))
    sent = sent_by_ro(rt, channel)
    with rt.sessions() as s:
        cases = {visit.ro_number: (case, visit) for case, visit in s.execute(
            select(FollowupCase, Visit).join(Visit, Visit.id == FollowupCase.visit_id))}
    assert len(cases) == 39  # the internal visit has no case
    for ro, (case, visit) in cases.items():
        contacts = sent[ro]
        calls = [(at, c) for at, c in contacts if c.channel == "call"]
        assert len(calls) == 3, ro
        for at, _ in calls:
            assert in_call_window(at), (ro, at)
            assert visit.delivered_at + timedelta(hours=24) <= at < case.deadline_at, (ro, at)
        starts = [at for at, _ in calls]
        assert all(b - a >= timedelta(hours=3) for a, b in zip(starts, starts[1:], strict=False)), (ro, starts)
        fallback = [(at, c) for at, c in contacts if c.channel != "call"]
        assert fallback and fallback[0][0] >= starts[-1]
        first_at, first = fallback[0]
        if ro in ("RO26110007", "RO26110023"):  # landline only: no SMS, a letter
            assert first.channel == "letter" and first.to is None
            assert case.state == "letter_queued"
        else:
            assert first.channel == "sms" and first.to and first.to.startswith("+86")
            assert time(8) <= first_at.astimezone(SH).time() < time(21)
            assert first.body and first.body.startswith("【星河大众】") and first.body.endswith("回T退订")
        assert case.three_day_rule == "met", (ro, case.breach_reason)


def test_sms_unanswered_gets_one_reminder_then_a_letter(rt: Runtime, samples: Path) -> None:
    channel = SandboxChannel(silent)
    import_rows_as_delivered(rt, samples / "visits_dms_gbk.csv", channel)
    run_until(rt, channel, datetime(2026, 12, 3, tzinfo=UTC))
    contacts = sent_by_ro(rt, channel)["RO26110001"]
    kinds = [(c.channel, c.kind) for _, c in contacts]
    assert kinds == [("call", "survey")] * 3 + [("sms", "survey"), ("sms", "reminder"), ("letter", "survey")]
    sms_at, reminder_at, letter_at = (at for at, c in contacts if c.channel != "call")
    assert reminder_at - sms_at >= timedelta(hours=48)
    assert letter_at - reminder_at >= timedelta(hours=48)
    assert "/s/" in (contacts[4][1].body or "")  # the reminder offers the web survey


def _answer_first_call(answers: dict[str, str]) -> Callable[[Contact, datetime], Sent]:
    def behaviour(contact: Contact, now: datetime) -> Sent:
        if contact.channel == "call":
            return Sent(f"SB{contact.attempt_id}", outcome="answered", ended_at=now, answers=answers)
        return silent(contact, now)

    return behaviour


GOOD = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "9", "comment": "很好"}
BAD = {"overall": "4", "fixed_right": "no", "on_time": "yes", "advisor": "6"}


@pytest.mark.parametrize(("answers", "state", "outcome", "scores"), [
    # repairs 98.0; maintenance and quick service are not asked fixed_right (R5): (40 + 20 + 18) / 0.8
    (GOOD, "closed", "satisfied", {98.0, 97.5}),
    (BAD, "complaint", None, {48.0, 60.0}),  # 40*.4 + 0*.2 + 100*.2 + 60*.2; (16 + 20 + 12) / 0.8
])
def test_answered_call_records_the_survey_and_stops_the_campaign(
    rt: Runtime, samples: Path, answers: dict[str, str], state: str, outcome: str | None, scores: set[float]
) -> None:
    channel = SandboxChannel(_answer_first_call(answers))
    import_rows_as_delivered(rt, samples / "visits_utf8_bom.csv", channel)
    run_until(rt, channel, datetime(2026, 11, 30, tzinfo=UTC))
    assert all(c.channel == "call" for _, c in channel.sent)
    assert len(channel.sent) == 20  # one call each, nothing after the answer
    with rt.sessions() as s:
        cases = s.scalars(select(FollowupCase)).all()
        assert {(c.state, c.outcome, c.three_day_rule) for c in cases} == {(state, outcome, "met")}
        assert set(s.scalars(select(SurveyResponse.score))) == scores
        types = set(s.scalars(select(WebhookEvent.type)))
        assert {"call.completed", "survey.completed"} <= types
        assert ("complaint.opened" in types) == (state == "complaint")


def test_transient_errors_are_retried_without_using_an_attempt(rt: Runtime, samples: Path) -> None:
    failures = {"left": 2}

    def flaky(contact: Contact, now: datetime) -> Sent:
        if contact.channel == "call" and failures["left"] > 0:
            failures["left"] -= 1
            raise TransientError("HTTP 503 from provider", code="503")
        return silent(contact, now)

    channel = SandboxChannel(flaky)
    import_rows_as_delivered(rt, samples / "visits_utf8_bom.csv", channel)
    run_until(rt, channel, datetime(2026, 11, 30, tzinfo=UTC))
    with rt.sessions() as s:
        calls = s.scalars(select(ContactAttempt).where(ContactAttempt.channel == "call")).all()
        per_case: dict[int, list[ContactAttempt]] = defaultdict(list)
        for a in calls:
            per_case[a.case_id].append(a)
        assert all(len(v) == 3 for v in per_case.values())  # the errors used no attempt
        retried = [a for a in calls if a.retries]
        assert len(retried) == 1 and retried[0].retries == 2 and retried[0].outcome == "no_answer"
        assert retried[0].error_code == "503"


def test_invalid_numbers_end_calling_and_fall_back_at_once(rt: Runtime, samples: Path) -> None:
    def invalid(contact: Contact, now: datetime) -> Sent:
        if contact.channel == "call":
            raise PermanentError("21211 invalid 'To' number", outcome="invalid_number", code="21211")
        return silent(contact, now)

    channel = SandboxChannel(invalid)
    import_rows_as_delivered(rt, samples / "visits_utf8_bom.csv", channel)
    run_until(rt, channel, datetime(2026, 11, 22, tzinfo=UTC))
    by_case: dict[int, list[str]] = defaultdict(list)
    for _, c in channel.sent:
        by_case[c.case_id].append(c.channel)
    # one call each, then no SMS to the bad mobile: the letter is next; a customer with a landline
    # has it called too (R3: the other phone), refused as well, and then the letter
    with rt.sessions() as s:
        has_landline = {cid for cid, phone in s.execute(
            select(FollowupCase.id, Customer.phone).join(Visit, Visit.id == FollowupCase.visit_id)
            .join(Customer, Customer.id == Visit.customer_id)) if phone}
    assert has_landline and set(by_case) - has_landline
    assert {tuple(v) for k, v in by_case.items() if k not in has_landline} == {("call", "letter")}
    assert {tuple(v) for k, v in by_case.items() if k in has_landline} == {("call", "call", "letter")}


def test_restart_after_downtime_catches_up_in_due_order(rt: Runtime, samples: Path) -> None:
    channel = SandboxChannel(silent)
    import_rows_as_delivered(rt, samples / "visits_utf8_bom.csv", channel)
    with rt.sessions() as s:
        first_due = s.scalar(select(func.min(ContactAttempt.due_at)).where(ContactAttempt.status == "planned"))
    assert first_due is not None
    rt.clock.set(first_due + timedelta(hours=2))  # type: ignore[attr-defined]
    before = len(channel.sent)
    counts = run_tick(rt, channel)
    caught_up = channel.sent[before:]
    with rt.sessions() as s:
        due_then = s.scalars(
            select(ContactAttempt.due_at).where(ContactAttempt.id.in_([c.attempt_id for _, c in caught_up]))
        ).all()
    assert counts["due"] == len(caught_up) > 0
    assert due_then == sorted(due_then)  # handled in due order
    assert all(in_call_window(at) for at, c in caught_up if c.channel == "call")

