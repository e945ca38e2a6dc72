"""Sandbox results recorded several per commit (issue #9): the same histories, and a crash loses none.

The dispatcher commits each real provider's result before the next send; for the sandbox, whose
sends reach nobody, it records a group of rows per commit. These tests run one campaign both
ways and compare every row, and kill a group half way through its sends.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from template_db import migrated_sqlite_url

from bench.backlog import load_cases
from bench.common import NOW, pg_db, runtime_for
from followup.channels.base import Contact, Sent, TransientError
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine import dispatch as dispatcher
from followup.engine.tick import dispatch_contacts
from followup.models import AuditEntry, ContactAttempt, FollowupCase, WebhookEvent
from followup.runtime import Runtime

CASES = 40
#: 11:00, 14:00 and 17:00 in Shanghai, then two days later (past the deadlines: the rule is decided)
STEPS = (NOW, NOW + timedelta(hours=3), NOW + timedelta(hours=6), NOW + timedelta(hours=54))
HAPPY = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "10", "comment": ""}
UNHAPPY = {"overall": "2", "fixed_right": "no", "on_time": "no", "advisor": "3", "comment": "太慢"}


class Customers:
    """Each case's customer does the same in both runs: answers happy or unhappy, declines, meets a
    provider error once, or never answers."""

    def __init__(self) -> None:
        self.failed_once: set[int] = set()

    def __call__(self, contact: Contact, now: datetime) -> Sent:
        kind = contact.case_id % 5
        if contact.channel == "call" and kind in (0, 2):
            return Sent(f"G{contact.attempt_id}", outcome="answered", ended_at=now,
                        answers=dict(HAPPY if kind == 0 else UNHAPPY))
        if contact.channel == "call" and kind == 1:
            return Sent(f"G{contact.attempt_id}", outcome="declined", ended_at=now)
        if kind == 3 and contact.attempt_id not in self.failed_once:
            self.failed_once.add(contact.attempt_id)
            raise TransientError("503 from the provider", code="503")
        return silent(contact, now)


class OneByOne(SandboxChannel):
    """The sandbox as a real provider is handled: each result committed before the next send."""

    results_in_groups = False


@contextmanager
def database(backend: str, path: Path) -> Iterator[Runtime]:
    if backend == "postgres":
        with pg_db() as url:
            rt = runtime_for(url)
            yield rt
            rt.engine.dispose()
        return
    rt = runtime_for(migrated_sqlite_url(path))
    yield rt
    rt.engine.dispose()


def campaign(rt: Runtime, channel: SandboxChannel) -> None:
    load_cases(rt, CASES, now=NOW, open_due=True, tag="G")
    for at in STEPS:
        for _ in range(50):
            if dispatch_contacts(rt, at, channel, batch=10)["due"] == 0:
                break


def histories(rt: Runtime) -> dict[str, Any]:
    """Everything the campaign wrote, by case (case ids are the same: both databases start empty; the
    rows' own ids are not, as cases planned at one moment may be planned in either order)."""
    with rt.sessions() as s:
        attempts = sorted(((a.case_id, a.channel, a.kind, a.number, a.status, a.outcome, a.reason, a.due_at,
                            a.started_at, a.retries, a.claimed_by) for a in s.scalars(select(ContactAttempt))), key=str)
        cases = [(c.id, c.state, c.outcome, c.three_day_rule, c.breach_reason, c.rule_decided_at, c.flagged,
                  c.next_check_at) for c in s.scalars(select(FollowupCase).order_by(FollowupCase.id))]
        events = collections.Counter(s.execute(select(WebhookEvent.case_id, WebhookEvent.type)).all())
        audit = collections.Counter(s.execute(select(AuditEntry.case_id, AuditEntry.action)).all())
        # per case, events keep the order they happened in
        order: dict[int | None, list[str]] = collections.defaultdict(list)
        for case_id, type_ in s.execute(select(WebhookEvent.case_id, WebhookEvent.type).order_by(WebhookEvent.id)):
            order[case_id].append(type_)
    return {"attempts": attempts, "cases": cases, "events": events, "audit": audit, "order": dict(order)}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_results_recorded_in_groups_write_what_one_by_one_writes(backend: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatcher, "GROUP", 3)  # several groups per batch of 10, split anywhere
    with database(backend, tmp_path / "one.db") as rt:
        campaign(rt, OneByOne(Customers()))
        one_by_one = histories(rt)
    with database(backend, tmp_path / "grouped.db") as rt:
        grouped = SandboxChannel(Customers())
        assert dispatcher.rows_per_commit(grouped) == 3
        campaign(rt, grouped)
        in_groups = histories(rt)
    # the campaign did all it can: answers, declines, complaints, retries, fallbacks, breaches
    outcomes = {(state, outcome) for _id, state, outcome, *_ in one_by_one["cases"]}
    assert {("closed", "satisfied"), ("closed", "declined")} <= outcomes
    assert any(state == "complaint" for _id, state, *_ in one_by_one["cases"])
    assert any(a[9] > 0 for a in one_by_one["attempts"]), "no provider error was retried"
    assert any(a[1] == "sms" for a in one_by_one["attempts"]), "no fallback started"
    assert {c[3] for c in one_by_one["cases"]} >= {"met", "breached"}
    for key in ("attempts", "cases", "events", "audit", "order"):
        assert in_groups[key] == one_by_one[key], key


class DiesAtSend(SandboxChannel):
    """The worker process dies during its ``n``-th send (an exception no dispatcher catches)."""

    def __init__(self, n: int) -> None:
        super().__init__(silent)
        self.n = n

    def send(self, contact: Contact, now: datetime) -> Sent:
        if len(self.sent) + 1 == self.n:
            raise SystemExit("killed")
        return super().send(contact, now)


def test_a_group_cut_short_comes_back_planned_and_goes_out_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatcher, "GROUP", 4)
    load_cases(rt, 10, now=NOW, open_due=True, tag="X")
    dying = DiesAtSend(6)  # the second group: its first row went out, then the worker died
    with pytest.raises(SystemExit):
        dispatch_contacts(rt, NOW, dying, worker="w-dead")
    with rt.sessions() as s:
        rows = s.scalars(select(ContactAttempt).where(ContactAttempt.number == 1).order_by(ContactAttempt.id)).all()
        # the first group was committed; nothing of the second group was (its send lost with the process)
        assert [(a.status, a.outcome) for a in rows[:4]] == [("done", "no_answer")] * 4
        assert {(a.status, a.claimed_by, a.started_at) for a in rows[4:]} == {("dispatching", "w-dead", None)}
        assert s.scalars(select(WebhookEvent.case_id).order_by(WebhookEvent.id)).all() == [a.case_id for a in rows[:4]]
        s.execute(ContactAttempt.__table__.update().values(lease_until=NOW - timedelta(hours=1)))  # the lease ran out
        s.commit()
    after = SandboxChannel(silent)
    counts = dispatch_contacts(rt, NOW, after, worker="w-next")
    assert counts["reclaimed"] == 6 and counts["dispatched"] == 6
    sent = [c.attempt_id for _at, c in after.sent]
    assert sorted(sent) == [a.id for a in rows[4:]], "every row of the lost group went out once more, and only those"
    with rt.sessions() as s:
        statuses = s.scalars(select(ContactAttempt.status).where(ContactAttempt.number == 1)).all()
        assert statuses == ["done"] * 10
        assert len(s.scalars(select(WebhookEvent.id)).all()) == 10


def two_rows_for_one_case(rt: Runtime, channel: SandboxChannel) -> None:
    """Three cases due now; the first also has its SMS survey due (a call and an SMS in one group)."""
    cases = load_cases(rt, 3, now=NOW, open_due=True, tag="T")
    with rt.sessions() as s:
        call = s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == cases[0])).one()
        s.add(ContactAttempt(case_id=cases[0], channel="sms", kind="survey", number=1, status="planned",
                             destination=call.destination, due_at=NOW, created_at=NOW))
        s.commit()
    for at in STEPS:
        dispatch_contacts(rt, at, channel)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_rows_of_one_case_in_one_group_write_what_one_by_one_writes(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path / "one.db") as rt:
        two_rows_for_one_case(rt, OneByOne(silent))
        one_by_one = histories(rt)
    with database(backend, tmp_path / "grouped.db") as rt:
        grouped = SandboxChannel(silent)
        two_rows_for_one_case(rt, grouped)
        in_groups = histories(rt)
    assert ("call", "survey") in {(c.channel, c.kind) for _at, c in grouped.sent if c.case_id == 1}
    assert ("sms", "survey") in {(c.channel, c.kind) for _at, c in grouped.sent if c.case_id == 1}
    for key in ("attempts", "cases", "events", "audit", "order"):
        assert in_groups[key] == one_by_one[key], key
