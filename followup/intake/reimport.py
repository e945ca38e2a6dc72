"""What importing a stored visit again changes in its case (R1): the case follows the new data.

- A service type that becomes excluded (``internal``) cancels the open case: it closes with the
  outcome ``cancelled`` (reason ``excluded`` in the audit row and the ``case.closed`` webhook), its
  planned contacts and a letter still waiting in an unmailed batch are cancelled, and it leaves the
  three-day metric (its rule goes back to ``pending`` and is never judged, like a visit without a case).
- One that stops being excluded opens the case again with the usual opening
  (:func:`followup.campaigns.post_service.case_opening`); a visit that never had a case gets one
  from :mod:`followup.intake.visit_upsert` the same way.
- A changed delivery time moves the deadline (:func:`~followup.campaigns.post_service.deadline_for`)
  and judges ``late_intake`` again: a case breached only by late intake whose new deadline is still
  ahead goes back to ``pending``; a pending one whose new deadline has passed is ``met`` when the
  customer was already reached in time, else breached ``late_intake`` (the fallback starts). Planned
  survey contacts are cancelled and the engine plans again from the new times.

Attempts already made stay. Everything is written for the whole batch at once: one UPDATE of the
contact rows per kind of change, and the audit rows and webhook events go into the batch's own
single INSERTs (the caller's ``audit.record_many`` / ``emit_many``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from followup.campaigns import post_service
from followup.engine.planner import load_contexts
from followup.id_sets import among
from followup.models import ContactAttempt, FollowupCase, Visit
from followup.rules.three_day_rule import three_day_rule
from followup.settings import StoreSettings

#: states of a case whose survey is still being sought (a complaint case is the complaint loop's, R7)
SURVEY_STATES = ("scheduled", "calling", "sms_survey", "letter_queued", "letter_sent")
#: planned rows the engine plans again after a new delivery time (not a complaint's re-survey)
REPLANNED_KINDS = ("survey", "reminder")
#: ``ContactAttempt.reason`` of a planned row cancelled because the visit came again with other data
REIMPORT = "reimport"


@dataclass(frozen=True)
class Stored:
    """A visit as it was stored before this import, and its case (None: it has none)."""

    visit: Visit
    case: FollowupCase | None
    service_type: str
    delivered_at: datetime


@dataclass
class Changes:
    """The audit rows ``(action, case_id, detail)`` and webhook events ``(type, data, case_id)`` to write."""

    entries: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any], int | None]] = field(default_factory=list)


def apply_reimport(session: Session, store: StoreSettings, stored: Sequence[Stored], now: datetime) -> Changes:
    """Change the cases of the re-imported visits ``stored`` as their new values say; the caller
    writes the returned audit rows and events with the batch's, and commits."""
    changes = Changes()
    cancelled: list[int] = []
    replanned: list[int] = []
    to_judge: list[tuple[FollowupCase, Visit]] = []
    for item in stored:
        case, visit = item.case, item.visit
        if case is None:
            continue
        if not post_service.opens_case(visit.service_type, store):
            if case.state in SURVEY_STATES:
                _cancel(case, visit, store, now, changes)
                cancelled.append(case.id)
        elif case.state == "closed" and case.outcome == "cancelled":
            _reopen(case, visit, store, now, changes)
        elif visit.delivered_at != item.delivered_at:
            if _move_deadline(case, visit, store, now, changes):
                to_judge.append((case, visit))
            if case.state in SURVEY_STATES:
                case.next_check_at = now  # the engine plans again from the new delivery time
                replanned.append(case.id)
    if cancelled:
        session.execute(update(ContactAttempt).where(
            among(session, ContactAttempt.case_id, cancelled), ContactAttempt.status == "planned",
        ).values(status="cancelled", reason="closed:cancelled"))
        # a letter waiting in a batch that was not mailed yet is taken out (as no-contact does)
        session.execute(update(ContactAttempt).where(
            among(session, ContactAttempt.case_id, cancelled), ContactAttempt.channel == "letter",
            ContactAttempt.status == "in_progress", ContactAttempt.outcome == "queued",
        ).values(status="cancelled", reason="closed:cancelled"))
    if replanned:
        session.execute(update(ContactAttempt).where(
            among(session, ContactAttempt.case_id, replanned), ContactAttempt.status == "planned",
            ContactAttempt.kind.in_(REPLANNED_KINDS),
        ).values(status="cancelled", reason=REIMPORT))
    if to_judge:
        _judge_late(session, store, to_judge, now, changes)
    return changes


def _ref(store: StoreSettings, visit: Visit) -> dict[str, str]:
    return {"store_code": store.code, "ro_number": visit.ro_number}


def _cancel(case: FollowupCase, visit: Visit, store: StoreSettings, now: datetime, changes: Changes) -> None:
    """Close as :func:`followup.cases.lifecycle.close_case` does, for a batch, with the reason ``excluded``."""
    was = case.three_day_rule
    case.state, case.outcome, case.closed_at, case.next_check_at = "closed", "cancelled", now, None
    # an excluded visit is outside the three-day metric (R1, R8), as if it never had a case
    case.three_day_rule, case.breach_reason, case.rule_decided_at = "pending", None, None
    detail: dict[str, Any] = {"outcome": "cancelled", "reason": "excluded"}
    if was != "pending":
        detail["three_day_rule_was"] = was
    changes.entries.append(("case.closed", case.id, detail))
    changes.events.append(("case.closed", {**_ref(store, visit), "outcome": "cancelled", "reason": "excluded"},
                           case.id))


def _reopen(case: FollowupCase, visit: Visit, store: StoreSettings, now: datetime, changes: Changes) -> None:
    """The visit is no longer excluded: its cancelled case opens again, as a new case would."""
    opening = post_service.case_opening(visit.delivered_at, store, now)
    case.state, case.outcome, case.closed_at, case.next_check_at = "scheduled", None, None, now
    case.deadline_at = opening.deadline_at
    case.three_day_rule, case.breach_reason = opening.three_day_rule, opening.breach_reason
    case.rule_decided_at = opening.rule_decided_at
    changes.entries.append(("case.reopened", case.id, {"reason": "included", "service_type": visit.service_type}))
    if opening.breach_reason == "late_intake":
        changes.events.append(("three_day_rule.breached", {**_ref(store, visit), "reason": "late_intake",
                                                           "deadline_at": case.deadline_at.isoformat()}, case.id))


def _move_deadline(case: FollowupCase, visit: Visit, store: StoreSettings, now: datetime, changes: Changes) -> bool:
    """The new deadline; whether the case must now be judged late. A decided rule of a closed case stays."""
    if case.state == "closed" and case.three_day_rule != "pending":
        return False
    old, new = case.deadline_at, post_service.deadline_for(visit.delivered_at, store)
    if new == old:
        return False
    case.deadline_at = new
    changes.entries.append(("case.deadline_moved", case.id, {"from": old.isoformat(), "to": new.isoformat()}))
    if case.state == "closed":
        return False  # still pending: the deadline sweep decides it at the new deadline
    if case.three_day_rule == "breached" and case.breach_reason == "late_intake" and now < new:
        case.three_day_rule, case.breach_reason, case.rule_decided_at = "pending", None, None
        changes.entries.append(("three_day_rule.reopened", case.id, {"was": "breached", "reason": "late_intake"}))
        return False
    return case.three_day_rule == "pending" and now >= new


def _judge_late(session: Session, store: StoreSettings, cases: Sequence[tuple[FollowupCase, Visit]], now: datetime,
                changes: Changes) -> None:
    """Pending cases whose new deadline has passed: met when the customer was reached in time, else
    breached ``late_intake`` (R1, R8: the webhook goes out at once)."""
    session.flush()
    contexts = load_contexts(session, [case for case, _ in cases])
    for case, visit in cases:
        ctx = contexts[case.id]
        status, _reason, at = three_day_rule(ctx.facts, ctx.history, now, store.policy)
        if status == "met":
            case.three_day_rule, case.rule_decided_at = "met", at
            continue
        case.three_day_rule, case.breach_reason, case.rule_decided_at = "breached", "late_intake", now
        changes.entries.append(("three_day_rule.breached", case.id, {"reason": "late_intake"}))
        changes.events.append(("three_day_rule.breached", {**_ref(store, visit), "reason": "late_intake",
                                                           "deadline_at": case.deadline_at.isoformat()}, case.id))
