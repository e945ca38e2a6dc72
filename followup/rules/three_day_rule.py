"""The three-day rule as a metric (RULES R8), decided from a case's facts and contact history.

A case **meets** the rule when, before its deadline, the customer was reached (a survey answer,
a decline or a callback request) or ``max_call_attempts`` failed calls were made and the fallback
started. Once the deadline has passed without that, it is **breached**, with one reason:

* ``late_intake``: the visit was imported after its deadline (decided at import time);
* ``no_phone``: there was no phone the rules allow to call (no valid mobile or landline, the
  customer is do-not-call, or the numbers turned out invalid);
* ``staff_capacity``: in a store whose calls are made by staff (the call worklist), a call due
  before the deadline was not made before it (cancelled unmade at the deadline, still waiting, or
  made only after it): there was not enough staff time;
* ``system_delay``: a contact due before the deadline was not dispatched in time (not started by
  the deadline, or started more than ``transient_give_up`` after it was due; or it fell due while
  no tick came — an outage — and was moved to a window after the deadline; or a provider outage
  of an hour or more kept a contact from going out, R3), or nothing was planned at all;
* ``insufficient_window``: otherwise, when the plan ran out of time: a call or the fallback was
  planned at or after the deadline because the calling windows could not hold every attempt.

Pure like the policy: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from followup.rules.contact_policy import (
    FAILED_CALL_OUTCOMES,
    FALLBACK_KINDS,
    AttemptFacts,
    CaseFacts,
    fallback_started,
)
from followup.rules.values import ContactPolicy

#: ``ContactAttempt.reason`` of a row the dispatcher moved to a later window because no tick came
#: while it was due (the worker was down or behind); its ``due_at`` is then the new, later time
MISSED_WINDOW = "missed_window"

#: ``ContactAttempt.reason`` of a row a provider outage kept from going out (R3): after an hour of
#: provider errors it is planned again at the next window opening (still not an attempt), or, when
#: that opening is past the deadline of a case whose rule is not met, cancelled (the fallback starts)
PROVIDER_OUTAGE = "provider_outage"

#: ``ContactAttempt.reason`` of a call that waited on a channel paused for an account error (R3)
#: until its case's deadline had passed: cancelled when the channel resumed; the fallback starts
CHANNEL_PAUSED = "channel_paused"

#: ``ContactAttempt.reason`` of a worklist call cancelled unmade when its case's deadline passed
STAFF_CAPACITY = "staff_capacity"

#: call outcomes that mean the customer was reached (R8)
REACHING_CALL_OUTCOMES = frozenset({"answered", "declined", "callback_requested"})

RuleState = tuple[str, str | None, datetime | None]


def _when(a: AttemptFacts) -> datetime | None:
    return a.ended_at or a.started_at


def reached_at(history: Sequence[AttemptFacts]) -> datetime | None:
    """When the customer was first reached on any channel, as far as the history tells."""
    times = [
        _when(a)
        for a in history
        if a.status == "done"
        and (
            (a.channel == "call" and a.outcome in REACHING_CALL_OUTCOMES)
            or (a.channel in ("sms", "letter") and a.outcome == "replied")
        )
    ]
    return min((t for t in times if t is not None), default=None)


def _met_at(case: CaseFacts, history: Sequence[AttemptFacts], policy: ContactPolicy) -> datetime | None:
    deadline = case.deadline_at
    candidates: list[datetime] = []
    reached = reached_at(history)
    if reached is not None and reached <= deadline:
        candidates.append(reached)
    failed = [
        a.started_at
        for a in history
        if a.channel == "call"
        and a.status == "done"
        and a.outcome in FAILED_CALL_OUTCOMES
        and a.started_at is not None
        and a.started_at < deadline
    ]
    started = fallback_started(history)
    if len(failed) >= policy.max_call_attempts and started is not None and started < deadline:
        candidates.append(max(started, *failed))
    return min(candidates, default=None)


def _delayed(a: AttemptFacts, deadline: datetime, policy: ContactPolicy) -> bool:
    """A contact due before the deadline that the system did not dispatch in time."""
    if a.missed_window and (a.started_at is None or a.started_at >= deadline):
        return True  # it was due while no tick came (an outage) and went out too late, or not at all
    if a.due_at is None or a.due_at >= deadline:
        return False
    if a.started_at is None or a.started_at >= deadline:
        return True
    return a.started_at - a.due_at > policy.transient_give_up


def _not_made_by_staff(a: AttemptFacts, deadline: datetime) -> bool:
    """A worklist call due before the deadline that nobody made before it (R8 ``staff_capacity``)."""
    if a.channel != "call" or a.due_at is None or a.due_at >= deadline:
        return False
    if a.status == "cancelled":
        return a.not_made  # cancelled for another reason (the customer answered, do-not-call): not staff's
    return a.started_at is None or a.started_at >= deadline


def breach_reason(case: CaseFacts, history: Sequence[AttemptFacts], policy: ContactPolicy) -> str:
    """Why a case that did not meet the rule by its deadline breached it."""
    deadline = case.deadline_at
    if case.opened_at >= deadline:
        return "late_intake"
    if case.do_not_call or not (case.has_mobile or case.has_landline):
        return "no_phone"
    # an invalid number is marked bad (has_mobile / has_landline above): with another phone left the
    # calls went on to it (R3), and the breach has the reason it would have without the bad number
    contacts = [
        a for a in history if a.status != "cancelled" and (a.channel == "call" or a.kind in FALLBACK_KINDS)
    ]
    if any(a.outage for a in history):
        return "system_delay"  # a provider outage outlasted its hour of retries (R3): our delay
    staff = policy.calls_by == "staff"
    if staff and any(_not_made_by_staff(a, deadline) for a in history):
        return "staff_capacity"
    # In a staff store a call is made when a person takes it, never late by the system's fault.
    if any(_delayed(a, deadline, policy) for a in contacts if not (staff and a.channel == "call")):
        return "system_delay"
    if any(a.due_at is not None and a.due_at >= deadline for a in contacts):
        return "insufficient_window"
    return "system_delay"


def three_day_rule(
    case: CaseFacts, history: Sequence[AttemptFacts], now: datetime, policy: ContactPolicy
) -> RuleState:
    """``(status, breach reason, decided at)``: ``("pending", None, None)`` until decided.

    ``met`` is dated by the event that met it; a breach by the deadline, or by the import time
    for ``late_intake``.
    """
    met = _met_at(case, history, policy)
    if met is not None:
        return "met", None, met
    if case.opened_at >= case.deadline_at:
        return "breached", "late_intake", case.opened_at
    if now < case.deadline_at:
        return "pending", None, None
    return "breached", breach_reason(case, history, policy), case.deadline_at
