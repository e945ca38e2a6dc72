"""Calls made by information staff (RULES R2, R3, R8; CONTRACT §9) as pure rules: staff hours ∩
calling windows, when a staff call falls due, ``staff_capacity``, and what may be recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import case_facts

from followup.rules.calendar import (
    call_windows,
    in_call_window,
    intersect_windows,
    next_call_moment,
    worklist_opening,
)
from followup.rules.contact_policy import AttemptFacts, plan_next_contact
from followup.rules.three_day_rule import three_day_rule
from followup.rules.values import Question, Window
from followup.rules.worklist import at_risk, callback_times, check_outcome
from followup.settings import ConfigError, ContactPolicy, load_settings

TZ = ZoneInfo("Asia/Shanghai")
IVR: ContactPolicy = load_settings({}).stores["SZ01"].policy
STAFF: ContactPolicy = replace(IVR, calls_by="staff")
QUESTIONS = load_settings({}).survey.questions_for("maintenance")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def wall(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def w(text: str) -> Window:
    a, b = text.split("-")
    return Window(time.fromisoformat(a), time.max if b == "24:00" else time.fromisoformat(b))


# --- staff hours ∩ calling windows (R2) ---------------------------------------------------------


@pytest.mark.parametrize(("calling", "staff", "both"), [
    (["09:00-12:00", "14:00-20:00"], ["08:20-12:00", "13:00-18:00"], ["09:00-12:00", "14:00-18:00"]),
    (["00:00-24:00"], ["08:20-12:00", "13:00-18:00"], ["08:20-12:00", "13:00-18:00"]),
    (["09:00-12:00"], ["13:00-18:00"], []),
    (["09:00-20:00"], ["08:00-10:00", "11:00-24:00"], ["09:00-10:00", "11:00-20:00"]),
])
def test_staff_hours_meet_the_calling_windows(calling: list[str], staff: list[str], both: list[str]) -> None:
    assert intersect_windows(tuple(map(w, calling)), tuple(map(w, staff))) == tuple(map(w, both))


def test_a_staff_store_calls_only_inside_both_an_ivr_store_keeps_its_windows() -> None:
    assert [str(x) for x in call_windows(STAFF)] == ["09:00-12:00", "14:00-18:00"]
    assert call_windows(IVR) == IVR.calling_windows
    # 08:30 is staff time but no calling window; 18:30 a calling window but no staff time (R2)
    for at, ivr, staff in [("2026-11-20 08:30", False, False), ("2026-11-20 09:00", True, True),
                           ("2026-11-20 17:59", True, True), ("2026-11-20 18:30", True, False),
                           ("2026-11-20 13:30", False, False)]:
        assert (in_call_window(local(at), IVR, TZ), in_call_window(local(at), STAFF, TZ)) == (ivr, staff), at
    assert wall(next_call_moment(local("2026-11-20 18:30"), STAFF, TZ)) == "2026-11-21 09:00"
    assert wall(next_call_moment(local("2026-11-20 18:30"), IVR, TZ)) == "2026-11-20 18:30"


def test_the_worklist_opens_at_the_next_staff_moment_and_skips_a_holiday_block() -> None:
    assert worklist_opening(local("2026-11-20 10:00"), STAFF, TZ) is None
    assert wall(worklist_opening(local("2026-11-20 12:00"), STAFF, TZ)) == "2026-11-20 14:00"
    assert wall(worklist_opening(local("2026-11-20 08:25"), STAFF, TZ)) == "2026-11-20 09:00"
    # National Day 2026 (1-7 October, config/holidays_cn.toml): nobody calls, the list opens on the 8th
    assert wall(worklist_opening(local("2026-09-30 18:00"), STAFF, TZ)) == "2026-10-08 09:00"
    assert worklist_opening(local("2026-10-03 10:00"), STAFF, TZ) is not None


def test_settings_refuse_a_bad_calls_by_and_staff_hours_that_leave_no_call_time() -> None:
    with pytest.raises(ConfigError, match="FOLLOWUP_CALLS_BY"):
        load_settings({"FOLLOWUP_CALLS_BY": "robot"})
    with pytest.raises(ConfigError, match="stores.SZ01.calls_by"):
        load_settings({"FOLLOWUP__stores__SZ01__calls_by": "robot"})
    with pytest.raises(ConfigError, match="stores.SZ01.staff_hours"):
        load_settings({"FOLLOWUP__stores__SZ01__calls_by": "staff",
                       "FOLLOWUP__stores__SZ01__staff_hours": '["20:00-22:00"]'})
    staff = load_settings({"FOLLOWUP__stores__SZ01__calls_by": "staff",
                           "FOLLOWUP__stores__SZ01__staff_hours": '["10:00-16:00"]'}).stores["SZ01"]
    assert staff.calls_by == "staff" and [str(x) for x in call_windows(staff.policy)] == ["10:00-12:00", "14:00-16:00"]
    # the environment overrides every store's own choice
    assert load_settings({"FOLLOWUP_CALLS_BY": "ivr", "FOLLOWUP__stores__SZ01__calls_by": "staff"}).stores[
        "SZ01"].calls_by == "ivr"
    assert load_settings({}).stores["SZ01"].calls_by == "ivr"


# --- when a staff call falls due (R3) -----------------------------------------------------------


def call(outcome: str | None, start: str, *, status: str = "done", not_made: bool = False,
         due: str | None = None) -> AttemptFacts:
    at = local(start)
    done = status == "done"
    return AttemptFacts("call", "survey", status, outcome if done else None, local(due or start),
                        at if done else None, at + timedelta(minutes=2) if done else None, not_made=not_made)


def test_staff_calls_are_planned_inside_staff_hours() -> None:
    # delivered Thursday 07:30: D + 24h is Friday 07:30; the IVR calls at 09:00, staff too (08:20 is no window)
    case = case_facts(local("2026-11-19 07:30"), IVR.deadline)
    now = local("2026-11-19 07:30")
    assert wall(plan_next_contact(case, [], now, STAFF, TZ).due_at) == "2026-11-20 09:00"
    # a call at 15:30 that nobody answered: the next one 3 hours on is 18:32, after staff hours
    history = [call("no_answer", "2026-11-20 15:30")]
    ivr = plan_next_contact(case, history, local("2026-11-20 15:32"), IVR, TZ)
    staff = plan_next_contact(case, history, local("2026-11-20 15:32"), STAFF, TZ)
    assert (ivr.action, wall(ivr.due_at)) == ("call", "2026-11-20 18:32")
    assert (staff.action, wall(staff.due_at)) == ("call", "2026-11-21 09:00")


def test_a_call_not_made_before_the_deadline_starts_the_fallback_and_counts_staff_capacity() -> None:
    case = case_facts(local("2026-11-19 10:00"), IVR.deadline)  # deadline Sunday 10:00
    deadline = local("2026-11-22 10:00")
    history = [call("no_answer", "2026-11-20 10:05"),
               call(None, "2026-11-20 14:00", status="cancelled", not_made=True)]
    decision = plan_next_contact(case, history, deadline, STAFF, TZ)
    assert (decision.action, decision.reason, decision.due_at) == ("sms", "staff_capacity", deadline)
    assert three_day_rule(case, history, deadline, STAFF)[:2] == ("breached", "staff_capacity")
    # while it still waits unmade (the tick that cancels it has not come yet): the same reason
    waiting = [history[0], call(None, "2026-11-20 14:00", status="planned")]
    assert three_day_rule(case, waiting, deadline, STAFF)[:2] == ("breached", "staff_capacity")
    # made only after the deadline (held by someone when it passed): still not made in time
    late = [history[0], call("no_answer", "2026-11-22 10:05", due="2026-11-20 14:00")]
    assert three_day_rule(case, late, deadline + timedelta(minutes=10), STAFF)[:2] == ("breached", "staff_capacity")


def test_a_staff_call_made_late_but_in_time_is_never_the_systems_delay() -> None:
    case = case_facts(local("2026-11-19 10:00"), IVR.deadline)
    deadline = local("2026-11-22 10:00")
    # three calls, each made hours after it fell due (the list was long), the third two minutes
    # before the deadline, and the fallback at the deadline: the rule is met, nobody is blamed
    made = [call("no_answer", "2026-11-20 16:00", due="2026-11-20 10:00"),
            call("busy", "2026-11-21 11:00", due="2026-11-20 19:00"),
            call("voicemail", "2026-11-22 09:58", due="2026-11-21 14:00")]
    sms = AttemptFacts("sms", "survey", "done", "sent", deadline, deadline, deadline)
    assert three_day_rule(case, [*made, sms], deadline, STAFF)[0] == "breached"  # the SMS went at the deadline
    assert three_day_rule(case, [*made, sms], deadline, STAFF)[1] == "insufficient_window"
    # the IVR store: the same lateness is the system's delay (R8)
    assert three_day_rule(case, [*made, sms], deadline, IVR)[1] == "system_delay"


# --- what staff record (CONTRACT §9) --------------------------------------------------------------


NOW = local("2026-11-20 10:30")


def errors(outcome: object, answers: object = None, callback: object = None, note: object = None) -> dict[str, str]:
    checked = check_outcome(outcome, answers, callback, note, QUESTIONS, NOW, STAFF, TZ)
    return {e.field: e.message for e in checked.errors}


GOOD = {"overall": 9, "on_time": "yes", "advisor": "10", "comment": " 很好 "}


def test_an_answered_call_needs_every_answer_in_range() -> None:
    checked = check_outcome("answered", GOOD, None, None, QUESTIONS, NOW, STAFF, TZ)
    assert checked.errors == () and checked.answers == {"overall": "9", "on_time": "yes", "advisor": "10",
                                                         "comment": "很好"}
    assert set(errors("answered", {**GOOD, "overall": 11})) == {"answers.overall"}
    assert set(errors("answered", {**GOOD, "overall": -1, "advisor": 7.5})) == {"answers.overall", "answers.advisor"}
    assert set(errors("answered", {**GOOD, "overall": True})) == {"answers.overall"}
    assert set(errors("answered", {**GOOD, "on_time": "maybe"})) == {"answers.on_time"}
    assert set(errors("answered", {"overall": 8, "advisor": 8})) == {"answers.on_time"}  # the comment may be left out
    assert set(errors("answered", {**GOOD, "colour": 3})) == {"answers.colour"}
    assert set(errors("answered", {**GOOD, "comment": "好" * 2001})) == {"answers.comment"}
    assert set(errors("answered")) == {"answers"}
    assert set(errors("answered", ["overall", 9])) == {"answers"}
    # fixed_right is asked only after repairs (R5): after a maintenance its answer is left out
    survey = [q.id for q in load_settings({}).survey.questions]
    fixed = check_outcome("answered", {**GOOD, "fixed_right": "no"}, None, None, QUESTIONS, NOW, STAFF, TZ, survey)
    assert fixed.errors == () and "fixed_right" not in fixed.answers


def test_outcomes_callbacks_and_notes() -> None:
    assert set(errors("maybe")) == {"outcome"} and set(errors(None)) == {"outcome"} and set(errors("failed")) == {"outcome"}
    for outcome in ("no_answer", "busy", "voicemail", "hung_up", "invalid_number", "declined"):
        assert errors(outcome, answers={"overall": 99}) == {}, outcome  # answers of an unanswered call are ignored
    assert errors("callback_requested", callback="2026-11-21T10:00:00+08:00") == {}
    assert errors("callback_requested", callback="2026-11-21 10:00") == {}  # no offset: store local time
    assert set(errors("callback_requested")) == {"callback_at"}
    assert set(errors("callback_requested", callback="tomorrow")) == {"callback_at"}
    assert set(errors("callback_requested", callback="2026-11-20T10:00:00+08:00")) == {"callback_at"}  # past
    assert set(errors("callback_requested", callback="2026-11-20T19:00:00+08:00")) == {"callback_at"}  # no staff
    assert set(errors("callback_requested", callback="2026-11-20T12:30:00+08:00")) == {"callback_at"}  # lunch
    assert set(errors("callback_requested", callback="2026-10-02T10:00:00+08:00")) == {"callback_at"}
    assert set(errors("no_answer", note=5)) == {"note"} and set(errors("no_answer", note="x" * 2001)) == {"note"}


def test_the_time_picker_offers_only_times_inside_the_windows_half_an_hour_ahead() -> None:
    times = callback_times(local("2026-11-20 10:45"), STAFF, TZ)
    assert wall(times[0]) == "2026-11-20 11:30"  # 11:15 is less than 30 minutes ahead; half-hour steps
    assert all(in_call_window(t, STAFF, TZ) for t in times)
    days = sorted({wall(t)[:10] for t in times})  # type: ignore[index]
    assert days == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert "2026-11-20 18:00" not in {wall(t) for t in times} and "2026-11-20 17:30" in {wall(t) for t in times}
    # across the National Day block: the first times are on the 8th
    assert wall(callback_times(local("2026-09-30 17:40"), STAFF, TZ)[0]) == "2026-10-08 09:00"


def test_at_risk_is_the_last_twelve_hours() -> None:
    deadline = local("2026-11-22 10:00")
    assert not at_risk(deadline, deadline - timedelta(hours=13))
    assert at_risk(deadline, deadline - timedelta(hours=12)) and at_risk(deadline, deadline - timedelta(minutes=1))
    assert not at_risk(deadline, deadline)


def test_a_question_the_survey_file_adds_is_checked_by_its_kind() -> None:
    extra = (*QUESTIONS, Question("clean", "yesno", 0.0, "车辆是否干净", "Was the car clean"))
    checked = check_outcome("answered", {**GOOD, "clean": False}, None, None, extra, NOW, STAFF, TZ)
    assert checked.errors == () and checked.answers["clean"] == "no"
