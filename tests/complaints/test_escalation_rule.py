"""The pure rules of R7 (no database, no clock): tables of cases for escalation, who may act at
each level, and what a resolved complaint's unanswered re-survey leads to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followup.rules.complaint_levels import (
    Authority,
    ComplaintFacts,
    Escalation,
    escalate_now,
    level_above,
    may_act,
    next_escalation,
)
from followup.rules.complaint_resurvey import ResurveyFacts, ResurveyStep, resurvey_step
from followup.settings import ComplaintSettings

SLA = ComplaintSettings(ack_sla=timedelta(hours=24), resurvey_delay=timedelta(hours=24), max_resurveys=2)
DUE = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(("level", "status", "now", "expected"), [
    (1, "open", DUE - timedelta(seconds=1), None),
    (1, "open", DUE, Escalation(2, DUE + timedelta(hours=24))),
    (2, "open", DUE + timedelta(hours=5), Escalation(3, DUE + timedelta(hours=29))),
    (3, "open", DUE + timedelta(days=9), None),  # the general manager is the top
    # R7 revised: acknowledged is not solved; a missed resolution escalates the same way
    (1, "acknowledged", DUE - timedelta(seconds=1), None),
    (1, "acknowledged", DUE + timedelta(days=1), Escalation(2, DUE + timedelta(hours=48), "not_resolved")),
    (3, "acknowledged", DUE + timedelta(days=1), None),
    (2, "resolved", DUE + timedelta(days=1), None),
    (1, "closed", DUE + timedelta(days=1), None),
])
def test_next_escalation(level: int, status: str, now: datetime, expected: Escalation | None) -> None:
    assert next_escalation(ComplaintFacts(level, status, DUE), now, SLA) == expected


def test_the_resolution_deadline_defaults_to_72h() -> None:
    assert SLA.resolve_sla == timedelta(hours=72)
    assert SLA.progress_sms_after == timedelta(hours=24)
    assert SLA.resurvey_timeout == timedelta(days=7)


@pytest.mark.parametrize(("level", "status", "expected"), [
    (1, "open", Escalation(2, DUE + timedelta(hours=24), "beyond_authority")),
    (2, "acknowledged", Escalation(3, DUE + timedelta(hours=24), "beyond_authority")),
    (3, "open", None),
    (1, "resolved", None),
    (1, "closed", None),
])
def test_escalate_now(level: int, status: str, expected: Escalation | None) -> None:
    assert escalate_now(ComplaintFacts(level, status, DUE + timedelta(days=3)), DUE, SLA) == expected


def test_a_reopened_complaint_goes_one_level_up_but_never_past_3() -> None:
    assert [level_above(n) for n in (1, 2, 3)] == [2, 3, 3]


ADVISOR = Authority("advisor", is_visit_advisor=True)
OTHER_ADVISOR = Authority("advisor")
STAFF = Authority("info_staff")
MANAGER = Authority("manager")
SERVICE_MANAGER = Authority("manager", is_service_manager=True)
GM = Authority("manager", is_general_manager=True)
ADMIN = Authority("admin")


@pytest.mark.parametrize(("who", "levels"), [
    (ADVISOR, {1}),
    (OTHER_ADVISOR, set()),
    (STAFF, set()),  # information staff survey; they do not take complaints over
    (MANAGER, {1}),
    (SERVICE_MANAGER, {1, 2}),
    (GM, {1, 2, 3}),
    (ADMIN, {1, 2, 3}),
])
def test_only_the_assignee_or_someone_above_may_act(who: Authority, levels: set[int]) -> None:
    assert {level for level in (1, 2, 3) if may_act(level, who)} == levels


T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
REPLY = timedelta(hours=48)


@pytest.mark.parametrize(("facts", "now", "expected"), [
    # the re-survey has not gone out yet: look again once it has had its time to be answered
    (ResurveyFacts(T0, None, T0 + 24 * H, False, True), T0, ResurveyStep("wait", T0 + 72 * H)),
    # sent, not answered: reminded once after the reply timeout
    (ResurveyFacts(T0, T0 + 24 * H, None, False, True), T0 + 50 * H, ResurveyStep("wait", T0 + 72 * H)),
    (ResurveyFacts(T0, T0 + 24 * H, None, False, True), T0 + 72 * H, ResurveyStep("remind", T0 + 72 * H)),
    # reminded: nothing more is sent; 7 days after the re-survey a manager may close it
    (ResurveyFacts(T0, T0 + 24 * H, None, True, True), T0 + 80 * H, ResurveyStep("wait", T0 + 24 * H + 7 * 24 * H)),
    (ResurveyFacts(T0, T0 + 24 * H, None, True, True), T0 + 8 * 24 * H, ResurveyStep("unconfirmed", T0 + 8 * 24 * H)),
    # no channel for a reminder: straight to the timeout
    (ResurveyFacts(T0, T0 + 24 * H, None, False, False), T0 + 72 * H, ResurveyStep("wait", T0 + 8 * 24 * H)),
    # never sent (no channel at all): the timeout runs from the resolution
    (ResurveyFacts(T0, None, None, False, False), T0 + 7 * 24 * H, ResurveyStep("unconfirmed", T0 + 7 * 24 * H)),
])
def test_an_unanswered_resurvey(facts: ResurveyFacts, now: datetime, expected: ResurveyStep) -> None:
    assert resurvey_step(facts, now, SLA, REPLY) == expected
