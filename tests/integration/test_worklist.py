"""The call worklist's service (RULES R2, R3, R8; CONTRACT §9) on SQLite and PostgreSQL: what the
list shows and when, claims (one wins, they lapse, they renew), outcomes recorded exactly as an
IVR call's, who may, staff time running out, and claims raced from threads with their own sessions.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from factories import add_visit, local, make_user, visit_row
from sqlalchemy import func, select
from worklist_world import (
    BAD,
    DELIVERED,
    GOOD,
    at,
    calls_of,
    planned_call,
    staff_visit,
    staffed,
    user,
)

from followup.cases import worklist
from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import run_tick
from followup.models import (
    AuditEntry,
    Complaint,
    ContactAttempt,
    Customer,
    FollowupCase,
    Store,
    SurveyResponse,
    WebhookEvent,
)
from followup.runtime import Runtime

T = TypeVar("T")


@pytest.fixture
def srt(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    yield from staffed(backend, tmp_path, request, DELIVERED)


def service(rt: Runtime, fn: Callable[..., T], username: str, *args: Any, now: datetime | None = None,
            **kwargs: Any) -> T:
    """Call a worklist function as ``username`` at ``now`` (the clock's unless told), committing on
    success and rolling back on a refusal, as the API and the page do."""
    when = now or rt.clock.now()
    with rt.sessions() as s:
        try:
            if fn is worklist.record_outcome:
                out = fn(s, rt.settings, user(rt, username), *args, now=when, **kwargs)
            else:
                out = fn(s, rt.settings, user(rt, username), *args, when, **kwargs)
        except worklist.WorklistError:
            s.rollback()
            raise
        s.commit()
        return out


def events(rt: Runtime, type_: str) -> list[dict[str, Any]]:
    with rt.sessions() as s:
        return [e.data for e in s.scalars(select(WebhookEvent).where(WebhookEvent.type == type_)
                                          .order_by(WebhookEvent.id))]


def audit_rows(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.sessions() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        s.expunge_all()
        return rows


#: Friday 20 November 2026, 10:30 in Shanghai: inside staff hours, the call due
MORNING = local(2026, 11, 20, 10, 30)


def claimed_call(rt: Runtime, *, by: str = "caller1", when: datetime = MORNING) -> tuple[int, int]:
    """Visit RO1 of the staff store, its first call taken by ``by`` at ``when``: the case's and the call's ids."""
    case_id = staff_visit(rt, "RO1")
    attempt = planned_call(rt, case_id).id
    at(rt, when)
    service(rt, worklist.claim, by, attempt)
    return case_id, attempt


def case(rt: Runtime, case_id: int) -> FollowupCase:
    with rt.sessions() as s:
        found = s.get_one(FollowupCase, case_id)
        s.expunge(found)
        return found


# --- the list -----------------------------------------------------------------------------------


def test_a_due_call_waits_on_the_worklist_and_is_never_placed_by_the_dispatcher(srt: Runtime) -> None:
    case_id = staff_visit(srt, "RO1")
    channel = SandboxChannel(silent)
    now = at(srt, local(2026, 11, 20, 10, 30))
    for _ in range(3):
        run_tick(srt, channel)
    assert channel.sent == []  # the sandbox placed nothing: the call is the staff's
    page = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now)
    assert page.next_opening is None and len(page.calls) == 1
    call = page.calls[0]
    assert (call.ro_number, call.number, call.customer_name, call.phone, call.claimed_by) == \
        ("RO1", 1, "张伟", "138****8000", None)
    assert (call.due_at, call.deadline_at, call.at_risk) == (local(2026, 11, 20, 10), local(2026, 11, 22, 10), False)
    assert [q.id for q in call.questions] == ["overall", "on_time", "advisor", "comment"]  # a maintenance (R5)
    assert call.previous == () and call.case_id == case_id
    body = page.as_json(srt.settings.stores["SZ01"].timezone)
    assert body["calls"][0]["due_at"] == "2026-11-20T10:00:00+08:00"
    assert body["calls"][0]["questions"][0] == {"id": "overall", "text": "请您为本次服务的总体满意度打分"}
    assert "+8613800138000" not in str(body)


@pytest.mark.parametrize(("clock", "opens"), [
    ((2026, 11, 20, 12, 30), (2026, 11, 20, 14, 0)),  # lunch
    ((2026, 11, 20, 18, 0), (2026, 11, 21, 9, 0)),  # staff hours are over, the calling windows are not
    ((2026, 11, 21, 8, 30), (2026, 11, 21, 9, 0)),  # staff are in, the calling windows not yet
])
def test_outside_staff_hours_the_list_is_empty_and_says_when_it_opens(srt: Runtime, clock: tuple[int, ...],
                                                                     opens: tuple[int, ...]) -> None:
    staff_visit(srt, "RO1")
    now = at(srt, local(*clock))
    page = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now)
    assert page.calls == [] and page.next_opening == local(*opens)
    with pytest.raises(worklist.NotFound):  # nothing to claim while the list is closed
        service(srt, worklist.claim, "caller1", planned_call(srt, case_id=1).id)


def test_an_unmade_call_stays_due_over_the_evening_and_costs_no_attempt(srt: Runtime) -> None:
    case_id = staff_visit(srt, "RO1")
    channel = SandboxChannel(silent)
    for clock in ((2026, 11, 20, 17, 59), (2026, 11, 20, 20, 0), (2026, 11, 21, 9, 0)):
        at(srt, local(*clock))
        run_tick(srt, channel)
    rows = calls_of(srt, case_id)
    assert [(r.number, r.status, r.due_at) for r in rows] == [(1, "planned", local(2026, 11, 20, 10))]
    page = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", srt.clock.now())
    assert [c.attempt_id for c in page.calls] == [rows[0].id]  # back on the list at the next opening


def test_soonest_deadline_first_and_at_risk_marked(srt: Runtime) -> None:
    staff_visit(srt, "RO-LATER", mobile="+8613800138001")
    staff_visit(srt, "RO-SOONER", mobile="+8613800138002", delivered=DELIVERED - timedelta(days=1))
    now = at(srt, local(2026, 11, 20, 10, 30))
    calls = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now).calls
    assert [(c.ro_number, c.at_risk) for c in calls] == [("RO-SOONER", False), ("RO-LATER", False)]
    now = at(srt, local(2026, 11, 21, 10, 30))  # RO-SOONER's deadline was 10:00 today
    calls = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now).calls
    assert [c.ro_number for c in calls] == ["RO-LATER"]  # RO-SOONER's deadline has passed: not on the list
    now = at(srt, local(2026, 11, 21, 23, 0))
    assert worklist.next_call(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now) is None  # closed
    now = at(srt, local(2026, 11, 22, 9, 0))
    calls = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "SZ01", now).calls
    assert [(c.ro_number, c.at_risk) for c in calls] == [("RO-LATER", True)]  # deadline 10:00 today


# --- claims -------------------------------------------------------------------------------------


def test_one_claim_wins_the_other_gets_409_and_the_next_call(srt: Runtime) -> None:
    first = staff_visit(srt, "RO1", mobile="+8613800138001")
    second = staff_visit(srt, "RO2", mobile="+8613800138002")
    at(srt, local(2026, 11, 20, 10, 30))
    a1, a2 = planned_call(srt, first).id, planned_call(srt, second).id
    held = service(srt, worklist.claim, "caller1", a1)
    assert (held.phone, held.claimed_until) == ("+8613800138001", local(2026, 11, 20, 10, 45))
    with pytest.raises(worklist.Conflict, match="caller1"):
        service(srt, worklist.claim, "caller2", a1)
    call, other = service(srt, worklist.claim_next, "caller2", "SZ01") or (None, None)
    assert call is not None and other is not None and other.attempt_id == a2 and other.phone == "+8613800138002"
    page = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller3"), "SZ01", srt.clock.now())
    assert {c.attempt_id: c.claimed_by for c in page.calls} == {a1: "caller1", a2: "caller2"}
    assert service(srt, worklist.claim_next, "caller3", "SZ01") is None  # nothing free is left
    reveals = audit_rows(srt, "pii.revealed")
    assert [(r.actor, r.detail["attempt"], r.detail["field"]) for r in reveals] == \
        [("user:caller1", a1, "mobile"), ("user:caller2", a2, "mobile")]


def test_a_claim_lapses_after_15_minutes_and_claiming_again_renews_it(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt)
    at(srt, local(2026, 11, 20, 10, 40))
    assert service(srt, worklist.claim, "caller1", attempt).claimed_until == local(2026, 11, 20, 10, 55)
    at(srt, local(2026, 11, 20, 10, 50))
    with pytest.raises(worklist.Conflict):
        service(srt, worklist.claim, "caller2", attempt)
    at(srt, local(2026, 11, 20, 10, 55))  # lapsed: anyone may take it
    assert service(srt, worklist.claim, "caller2", attempt).claimed_until == local(2026, 11, 20, 11, 10)
    # caller1's claim ran out: recording on it is a conflict and records nothing
    with pytest.raises(worklist.Conflict, match="do not hold"):
        service(srt, worklist.record_outcome, "caller1", attempt, "no_answer")
    assert [(r.status, r.outcome) for r in calls_of(srt, case_id)] == [("planned", None)]
    assert events(srt, "call.completed") == [] and events(srt, "worklist.call_recorded") == []
    at(srt, local(2026, 11, 20, 11, 20))  # and caller2's lapsed too, with nobody taking it: nobody holds it
    with pytest.raises(worklist.Conflict):
        service(srt, worklist.record_outcome, "caller2", attempt, "no_answer")
    page = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller3"), "SZ01", srt.clock.now())
    assert [c.claimed_by for c in page.calls] == [None]


def test_two_calls_of_one_customer_are_never_held_at_once(srt: Runtime) -> None:
    first = staff_visit(srt, "RO1")
    second = staff_visit(srt, "RO2", vin="LSVAA4182E2999999", plate="粤B99999")  # the same customer, a second car
    with srt.sessions() as s:
        owners = {s.get_one(FollowupCase, c).visit_id for c in (first, second)}
        assert len(owners) == 2 and s.scalar(select(func.count()).select_from(Customer)) == 1
    at(srt, local(2026, 11, 20, 10, 30))
    service(srt, worklist.claim, "caller1", planned_call(srt, first).id)
    with pytest.raises(worklist.Conflict, match="customer"):
        service(srt, worklist.claim, "caller2", planned_call(srt, second).id)
    assert service(srt, worklist.claim_next, "caller2", "SZ01") is None
    # the same person may hold both (they are on the phone with that customer)
    assert service(srt, worklist.claim, "caller1", planned_call(srt, second).id).attempt_id == planned_call(srt, second).id


def test_release_puts_the_call_back_for_anyone(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    at(srt, local(2026, 11, 20, 10, 30))
    service(srt, worklist.claim, "caller1", attempt)
    service(srt, worklist.release, "caller1", attempt)
    assert service(srt, worklist.claim, "caller2", attempt).attempt_id == attempt


# --- outcomes: the IVR's own path ------------------------------------------------------------------


def test_an_answered_call_is_recorded_as_a_staff_survey_and_closes_the_case(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt)
    at(srt, local(2026, 11, 20, 10, 36))
    done = service(srt, worklist.record_outcome, "caller1", attempt, "answered", GOOD, None, "客户很满意")
    assert (done.store_code, done.ro_number, done.outcome) == ("SZ01", "RO1", "answered")
    row = calls_of(srt, case_id)[0]
    assert (row.status, row.outcome, row.made_by, row.held_by) == ("done", "answered", "user:caller1", None)
    assert row.started_at == local(2026, 11, 20, 10, 36)
    closed = case(srt, case_id)
    assert (closed.state, closed.outcome, closed.three_day_rule) == ("closed", "satisfied", "met")
    with srt.sessions() as s:
        resp = s.scalar(select(SurveyResponse).where(SurveyResponse.case_id == case_id))
        assert resp is not None and (resp.channel, resp.made_by, resp.satisfied) == ("staff", "user:caller1", True)
    assert events(srt, "call.completed")[-1] == {"store_code": "SZ01", "ro_number": "RO1", "number": 1,
                                                 "outcome": "answered", "made_by": "user:caller1"}
    assert events(srt, "worklist.call_recorded") == [{"store_code": "SZ01", "ro_number": "RO1",
                                                      "attempt_id": attempt, "number": 1, "outcome": "answered",
                                                      "made_by": "user:caller1"}]
    assert [e["outcome"] for e in events(srt, "case.closed")] == ["satisfied"]
    assert [(r.actor, r.detail["outcome"]) for r in audit_rows(srt, "call.outcome")] == [("user:caller1", "answered")]
    assert [r.detail["text"] for r in audit_rows(srt, "note.added")] == ["客户很满意"]
    with pytest.raises(worklist.Conflict, match="already recorded"):
        service(srt, worklist.record_outcome, "caller1", attempt, "answered", GOOD)


def test_a_dissatisfied_answer_opens_a_complaint_as_after_an_ivr_call(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt, by="caller2")
    service(srt, worklist.record_outcome, "caller2", attempt, "answered", BAD)
    assert case(srt, case_id).state == "complaint"
    with srt.sessions() as s:
        complaint = s.scalar(select(Complaint).where(Complaint.case_id == case_id))
        assert complaint is not None and complaint.level == 1
    assert [e["ro_number"] for e in events(srt, "complaint.opened")] == ["RO1"]


def test_unanswered_calls_come_back_inside_staff_hours_then_the_sms_fallback(srt: Runtime) -> None:
    case_id = staff_visit(srt, "RO1")
    channel = SandboxChannel(silent)
    outcomes = iter(["no_answer", "busy", "voicemail"])
    for clock in ((2026, 11, 20, 10, 30), (2026, 11, 20, 15, 30), (2026, 11, 21, 9, 30)):
        at(srt, local(*clock))
        run_tick(srt, channel)
        got = service(srt, worklist.claim_next, "caller1", "SZ01")
        assert got is not None, clock
        service(srt, worklist.record_outcome, "caller1", got[1].attempt_id, next(outcomes))
    rows = calls_of(srt, case_id)
    assert [(r.number, r.outcome, r.made_by) for r in rows] == [
        (1, "no_answer", "user:caller1"), (2, "busy", "user:caller1"), (3, "voicemail", "user:caller1")]
    # the second call fell due 3 hours after the first (13:30, lunch): at 14:00; the third 3 hours
    # after the second (18:30, no staff): the next morning at 09:00 (R2, R3)
    assert [r.due_at for r in rows] == [local(2026, 11, 20, 10), local(2026, 11, 20, 14), local(2026, 11, 21, 9)]
    run_tick(srt, channel)
    assert [c.channel for _, c in channel.sent] == ["sms"]  # three failed calls: the SMS survey (R4)
    assert case(srt, case_id).three_day_rule == "met"


def test_a_callback_the_customer_asked_for_is_planned_at_their_time(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt)
    service(srt, worklist.record_outcome, "caller1", attempt, "callback_requested", None, "2026-11-21 15:00")
    rows = calls_of(srt, case_id)
    assert [(r.outcome, r.callback_at) for r in rows[:1]] == [("callback_requested", local(2026, 11, 21, 15))]
    assert (rows[1].status, rows[1].due_at, rows[1].number) == ("planned", local(2026, 11, 21, 15), 2)
    assert case(srt, case_id).three_day_rule == "met"  # reached (R8)


@pytest.mark.parametrize(("outcome", "state", "closed_as"), [("declined", "closed", "declined"),
                                                              ("invalid_number", "letter_queued", None)])
def test_a_decline_closes_and_a_wrong_number_marks_it_bad(srt: Runtime, outcome: str, state: str,
                                                         closed_as: str | None) -> None:
    case_id, attempt = claimed_call(srt)
    service(srt, worklist.record_outcome, "caller1", attempt, outcome)
    run_tick(srt, SandboxChannel(silent))
    found = case(srt, case_id)
    assert found.outcome == closed_as
    with srt.sessions() as s:
        customer = s.scalars(select(Customer)).one()
        assert customer.mobile_bad is (outcome == "invalid_number")
    if outcome == "invalid_number":  # the only phone is bad and no SMS can go to it: the letter (R4)
        assert found.state == state
        assert [r.status for r in calls_of(srt, case_id)] == ["done"]


def test_field_errors_name_the_field_and_record_nothing(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt)
    cases: list[tuple[tuple[Any, ...], set[str]]] = [
        (("maybe",), {"outcome"}),
        (("answered", {**GOOD, "overall": 11}), {"answers.overall"}),
        (("answered", {"overall": 8}), {"answers.on_time", "answers.advisor"}),
        (("callback_requested", None, "2026-11-20T09:00:00+08:00"), {"callback_at"}),
        (("callback_requested", None, "2026-11-20T19:00:00+08:00"), {"callback_at"}),
        (("no_answer", None, None, 42), {"note"}),
    ]
    for args, fields in cases:
        with pytest.raises(worklist.FieldErrors) as err:
            service(srt, worklist.record_outcome, "caller1", attempt, *args)
        assert {e["field"] for e in err.value.errors} == fields, args
    assert [(r.status, r.held_by) for r in calls_of(srt, case_id)] == [("planned", "caller1")]
    assert events(srt, "call.completed") == []


# --- who may --------------------------------------------------------------------------------------


def test_advisors_never_work_the_list_nor_see_their_own_customers_calls(srt: Runtime) -> None:
    own = staff_visit(srt, "RO-OWN", mobile="+8613800138001")  # advisor SA01 王强, linked to "wang"
    other = staff_visit(srt, "RO-OTHER", mobile="+8613800138002", advisor_code="SA02", advisor_name="李娜")
    make_user(srt, "li", "manager", advisor="SA02")  # a manager who is also the advisor of RO-OTHER
    now = at(srt, local(2026, 11, 20, 10, 30))
    with pytest.raises(worklist.Forbidden):
        worklist.due_calls(srt.sessions(), srt.settings, user(srt, "wang"), "SZ01", now)
    with pytest.raises(worklist.Forbidden):
        service(srt, worklist.claim, "wang", planned_call(srt, own).id)
    calls = worklist.due_calls(srt.sessions(), srt.settings, user(srt, "li"), "SZ01", now).calls
    assert [c.ro_number for c in calls] == ["RO-OWN"]  # never their own customer's (R3)
    with pytest.raises(worklist.Forbidden):
        service(srt, worklist.claim, "li", planned_call(srt, other).id)
    assert worklist.worklist_stores(srt.sessions(), srt.settings, user(srt, "wang")) == []
    assert worklist.worklist_stores(srt.sessions(), srt.settings, user(srt, "caller1")) == ["SZ01"]


def test_another_stores_people_get_403_on_the_list_and_404_on_its_calls(srt: Runtime) -> None:
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    with srt.sessions() as s:
        s.add(Store(code="GZ01", name="广州店", timezone="Asia/Shanghai", created_at=DELIVERED))
        s.commit()
    make_user(srt, "gz", "info_staff", ["GZ01"])
    now = at(srt, local(2026, 11, 20, 10, 30))
    with pytest.raises(worklist.Forbidden):
        worklist.due_calls(srt.sessions(), srt.settings, user(srt, "gz"), "SZ01", now)
    with pytest.raises(worklist.NotFound):
        service(srt, worklist.claim, "gz", attempt)
    with pytest.raises(worklist.NotFound):
        worklist.due_calls(srt.sessions(), srt.settings, user(srt, "caller1"), "XX99", now)


# --- staff time runs out (R8) ---------------------------------------------------------------------


def test_calls_not_made_by_the_deadline_are_cancelled_the_fallback_starts_and_r8_counts_staff_capacity(
        srt: Runtime) -> None:
    made = staff_visit(srt, "RO-ONE-CALL", mobile="+8613800138001")
    never = staff_visit(srt, "RO-NO-CALL", mobile="+8613800138002")
    channel = SandboxChannel(silent)
    at(srt, local(2026, 11, 20, 10, 30))
    service(srt, worklist.claim, "caller1", planned_call(srt, made).id)
    service(srt, worklist.record_outcome, "caller1", planned_call(srt, made).id, "no_answer")
    at(srt, local(2026, 11, 22, 9, 59))  # nobody made another call
    run_tick(srt, channel)
    assert channel.sent == [] and case(srt, made).three_day_rule == "pending"
    at(srt, local(2026, 11, 22, 10, 0))  # both deadlines
    counts = run_tick(srt, channel)
    assert counts["staff_calls_not_made"] == 2
    for case_id in (made, never):
        rows = calls_of(srt, case_id)
        assert rows[-1].status == "cancelled" and rows[-1].reason == "staff_capacity"
        found = case(srt, case_id)
        assert (found.three_day_rule, found.breach_reason, found.state) == ("breached", "staff_capacity", "sms_survey")
    assert sorted(c.to or "" for _, c in channel.sent) == ["+8613800138001", "+8613800138002"]
    assert all(c.channel == "sms" for _, c in channel.sent)
    assert sorted(e["reason"] for e in events(srt, "three_day_rule.breached")) == ["staff_capacity"] * 2
    assert len(audit_rows(srt, "call.not_made")) == 2


def test_a_call_held_when_the_deadline_passes_is_left_to_its_caller(srt: Runtime) -> None:
    case_id, attempt = claimed_call(srt, when=local(2026, 11, 22, 9, 55))
    at(srt, local(2026, 11, 22, 10, 0))
    run_tick(srt, SandboxChannel(silent))
    assert calls_of(srt, case_id)[0].status == "planned"  # not cancelled under the caller's hands
    at(srt, local(2026, 11, 22, 10, 4))
    service(srt, worklist.record_outcome, "caller1", attempt, "answered", GOOD)
    found = case(srt, case_id)
    # the customer was reached and is satisfied; the call came after the deadline all the same
    assert (found.state, found.outcome, found.three_day_rule, found.breach_reason) == \
        ("closed", "satisfied", "breached", "staff_capacity")


# --- races ----------------------------------------------------------------------------------------


def race(rt: Runtime, attempts: list[int], usernames: list[str], now: datetime) -> Counter[str]:
    """Each user claims at the same moment from a thread with its own session; what each got."""
    barrier = threading.Barrier(len(usernames))
    results: list[str] = []
    lock = threading.Lock()

    def one(username: str, attempt_id: int) -> None:
        staff = user(rt, username)
        barrier.wait()
        with rt.sessions() as s:
            try:
                worklist.claim(s, rt.settings, staff, attempt_id, now)
                s.commit()
                got = f"won:{attempt_id}"
            except worklist.Conflict:
                s.rollback()
                got = "conflict"
        with lock:
            results.append(got)

    threads = [threading.Thread(target=one, args=(u, a)) for u, a in zip(usernames, attempts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(results)


def test_people_claiming_the_same_call_at_once_one_wins(srt: Runtime) -> None:
    for n in range(5):
        make_user(srt, f"extra{n}", "info_staff")
    attempt = planned_call(srt, staff_visit(srt, "RO1")).id
    now = at(srt, local(2026, 11, 20, 10, 30))
    names = ["caller1", "caller2", "caller3", *(f"extra{n}" for n in range(5))]
    got = race(srt, [attempt] * len(names), names, now)
    assert got == Counter({f"won:{attempt}": 1, "conflict": len(names) - 1})
    with srt.sessions() as s:
        row = s.get_one(ContactAttempt, attempt)
        assert row.held_by in names and row.held_until == now + timedelta(minutes=15)


def test_two_calls_of_one_customer_claimed_at_once_one_wins(srt: Runtime) -> None:
    first = staff_visit(srt, "RO1")
    second = add_visit(srt, visit_row("RO2", delivered_at=DELIVERED, vin="LSVAA4182E2999999"), plan=True)
    now = at(srt, local(2026, 11, 20, 10, 30))
    for _ in range(3):  # a few rounds: the threads meet in different orders
        with srt.sessions() as s:
            for row in s.scalars(select(ContactAttempt)):
                row.held_by = row.held_until = None
            s.commit()
        got = race(srt, [planned_call(srt, first).id, planned_call(srt, second).id], ["caller1", "caller2"], now)
        assert sum(n for k, n in got.items() if k.startswith("won")) == 1 and got["conflict"] == 1
