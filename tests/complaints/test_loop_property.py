"""R7's "no complaint can reach a state from which nobody can move it", as a hypothesis state
machine over the real services and the real ticks (SQLite): any sequence of acknowledging,
logging a contact, escalating now, resolving, the customer's re-survey answers (satisfied,
dissatisfied, none), the customer's contact marks, time passing and a manager's close, by any
user (refused actions are part of the play). After every step the complaint is closed or has a
way forward that someone can take; at the end, following only the advertised ways forward
closes it.

Each example plays one new complaint in the same database; the clock only moves forward.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

import pytest
from complaints.world import BAD, COMPLAINT_DUE, GOOD, add_visit, answer, get_user, local, user
from fakes.worker_ticks import run_due_until
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from followup.cases.staff_actions import mark_customer
from followup.channels.base import Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.complaints import actions
from followup.complaints.health import stuck_complaints, ways_forward
from followup.engine.tick import run_tick
from followup.models import Complaint, FollowupCase
from followup.runtime import Runtime

USERS = ("sa01", "staff", "boss", "manager", "gm")
ANSWERS = {"satisfied": GOOD, "dissatisfied": BAD, "none": None}
OUTCOMES = {"satisfied", "dissatisfied_closed", "resolved_unconfirmed"}


class Customer:
    """The sandbox customer of the example: answers each re-survey contact as told, else stays silent."""

    def __init__(self) -> None:
        self.next: deque[dict[str, str] | None] = deque()

    def __call__(self, contact: Contact, now: datetime) -> Sent:
        if contact.kind in ("resurvey", "re_remind") and self.next:
            given = self.next.popleft()
            if given is not None:
                outcome = "answered" if contact.channel == "call" else "delivered"
                return Sent(f"P{contact.attempt_id}", outcome=outcome, ended_at=now, answers=dict(given))
        return silent(contact, now)


def machine(rt: Runtime) -> type[RuleBasedStateMachine]:
    class ComplaintLoop(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.customer = Customer()
            self.channel = SandboxChannel(self.customer)
            self.case_id = 0

        @initialize()
        def a_dissatisfied_customer(self) -> None:
            now = rt.clock.now()
            with rt.sessions() as s:
                n = len(s.scalars(select(FollowupCase.id)).all())
            # a customer of its own: one example's contact marks must not follow the next
            self.case_id = add_visit(rt, f"RO-P-{n + 1}", delivered=now - timedelta(hours=20), at=now,
                                     mobile=f"+86139{n:08d}", phone=f"+86755{n:08d}")
            answer(rt, self.case_id, BAD, at=now)

        def complaint(self, s: object) -> Complaint:
            found = s.scalars(select(Complaint).where(Complaint.case_id == self.case_id)  # type: ignore[attr-defined]
                              .order_by(Complaint.id.desc())).first()
            assert found is not None
            return found

        def attempt(self, action: object) -> None:
            """Run a staff action as a user would: refused ones change nothing."""
            with rt.sessions() as s:
                try:
                    action(s, self.complaint(s))  # type: ignore[operator]
                except actions.ComplaintError:
                    s.rollback()
                else:
                    s.commit()

        def advance(self, until: datetime) -> None:
            run_due_until(rt, lambda: run_tick(rt, self.channel), until, also_due=COMPLAINT_DUE, most=60)

        @rule(who=st.sampled_from(USERS))
        def acknowledge(self, who: str) -> None:
            self.attempt(lambda s, c: actions.acknowledge(s, c, get_user(s, who), settings=rt.settings,
                                                          now=rt.clock.now()))

        @rule(who=st.sampled_from(USERS))
        def log_contact(self, who: str) -> None:
            self.attempt(lambda s, c: actions.log_contact(s, c, get_user(s, who), note="已联系客户", cause=None,
                                                          fix=None, settings=rt.settings, now=rt.clock.now()))

        @rule(who=st.sampled_from(USERS))
        def escalate_now(self, who: str) -> None:
            self.attempt(lambda s, c: actions.escalate_now(s, c, get_user(s, who), note=None, settings=rt.settings,
                                                           now=rt.clock.now()))

        @rule(who=st.sampled_from(USERS), reply=st.sampled_from(sorted(ANSWERS)))
        def resolve(self, who: str, reply: str) -> None:
            """Resolve; the customer will answer the re-survey with ``reply``."""
            self.customer.next = deque([ANSWERS[reply]])
            self.attempt(lambda s, c: actions.resolve(s, c, get_user(s, who), cause=None, fix="已为客户处理",
                                                      settings=rt.settings, now=rt.clock.now()))

        @rule(who=st.sampled_from(USERS), unconfirmed=st.booleans())
        def manager_close(self, who: str, unconfirmed: bool) -> None:
            if unconfirmed:
                self.attempt(lambda s, c: actions.close_unconfirmed(s, c, get_user(s, who), note=None,
                                                                    settings=rt.settings, now=rt.clock.now()))
            else:
                self.attempt(lambda s, c: actions.close_dissatisfied(s, c, get_user(s, who), reason="客户坚持",
                                                                     settings=rt.settings, now=rt.clock.now()))

        @rule(reply=st.sampled_from(sorted(ANSWERS)))
        def the_customer_will_answer(self, reply: str) -> None:
            self.customer.next.append(ANSWERS[reply])

        @rule(flag=st.sampled_from(["no_sms", "do_not_call", "no_contact"]))
        def the_customer_asks(self, flag: str) -> None:
            with rt.sessions() as s:
                case = s.get_one(FollowupCase, self.case_id)
                mark_customer(s, rt.settings, case, flag=flag, on=True, user=get_user(s, "staff"), now=rt.clock.now())
                s.commit()

        @rule(hours=st.integers(min_value=1, max_value=24 * 9))
        def time_passes(self, hours: int) -> None:
            self.advance(rt.clock.now() + timedelta(hours=hours))

        @rule(minutes=st.integers(min_value=0, max_value=6 * 60))
        def a_day_passes(self, minutes: int) -> None:
            """The most common wait of the loop: a re-survey, an SLA, a reminder is a day or two away."""
            self.advance(rt.clock.now() + timedelta(days=1, minutes=minutes))

        @rule(days=st.integers(min_value=2, max_value=8))
        def days_pass(self, days: int) -> None:
            self.advance(rt.clock.now() + timedelta(days=days))

        @invariant()
        def never_stuck(self) -> None:
            if not self.case_id:
                return
            now = rt.clock.now()
            with rt.sessions() as s:
                c = self.complaint(s)
                if c.status == "closed":
                    assert c.outcome in OUTCOMES and s.get_one(FollowupCase, c.case_id).state == "closed"
                    return
                assert ways_forward(s, rt.settings, c, now), f"complaint {c.id} ({c.status}) has no way forward"
                assert c.id not in {p.complaint_id for p in stuck_complaints(s, rt.settings, now)}

        def teardown(self) -> None:
            """Follow the ways forward the complaint advertises: it closes."""
            if not self.case_id:
                return
            for _ in range(30):
                self.never_stuck()
                with rt.sessions() as s:
                    c = self.complaint(s)
                    if c.status == "closed":
                        return
                    ways = {w.kind: w for w in ways_forward(s, rt.settings, c, rt.clock.now())}
                if "close" in ways:
                    who = ways["close"].who[0]
                    self.manager_close(who, unconfirmed=c.status == "resolved" and c.unconfirmed_at is not None)
                elif "act" in ways:
                    self.resolve(ways["act"].who[0], "satisfied")
                else:
                    due = min(w.at for w in ways.values() if w.at is not None)
                    self.advance(max(due, rt.clock.now()) + timedelta(minutes=1))
            pytest.fail(f"case {self.case_id}: following its ways forward did not close the complaint")

    return ComplaintLoop


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_reachable_complaint_state_has_a_way_forward_until_closed(rt: Runtime) -> None:
    rt.clock.set(local(2026, 11, 2, 10, 0))  # type: ignore[attr-defined]
    first = add_visit(rt, "RO-P-0", delivered=local(2026, 11, 1, 10, 0))  # advisor SA01 exists to be linked
    answer(rt, first, GOOD, at=rt.clock.now())  # and that case is done with
    user(rt, "sa01", "advisor", advisor="SA01")
    for name, role in (("staff", "info_staff"), ("boss", "manager"), ("manager", "manager"), ("gm", "manager")):
        user(rt, name, role)
    run_state_machine_as_test(machine(rt), settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
