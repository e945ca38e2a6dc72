"""Planning: ask the pure policy what comes next for a case and write it down as a row.

A case whose ``next_check_at`` has come is loaded with its history, the policy decides, and the
decision becomes one planned :class:`ContactAttempt` (with ``due_at``), a close, or a later
``next_check_at``. The three-day rule (R8) is brought up to date at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup import audit
from followup.campaigns import post_service
from followup.cases.lifecycle import close_case
from followup.engine.facts import attempt_facts, case_facts
from followup.engine.loading import load_cases
from followup.id_sets import among
from followup.models import ContactAttempt, Customer, FollowupCase, SurveyResponse, Visit
from followup.rules.contact_policy import AttemptFacts, CaseFacts, Decision
from followup.rules.three_day_rule import three_day_rule
from followup.settings import Settings
from followup.webhooks.outbox import emit


@dataclass(frozen=True)
class CaseContext:
    """A case with what the rules need to know about it, loaded once."""

    case: FollowupCase
    visit: Visit
    customer: Customer
    store_code: str
    rows: list[ContactAttempt]
    facts: CaseFacts
    history: list[AttemptFacts]


def load_context(session: Session, case: FollowupCase) -> CaseContext:
    return load_contexts(session, [case])[case.id]


def load_contexts(session: Session, cases: Sequence[FollowupCase]) -> dict[int, CaseContext]:
    """The contexts of many cases with one query per table (a tick plans hundreds at once)."""
    if not cases:
        return {}
    case_ids = [c.id for c in cases]
    # After a send the visits and customers are in the session already: only the others are read.
    parts = load_cases(session, cases)
    rows: dict[int, list[ContactAttempt]] = {cid: [] for cid in case_ids}
    for a in session.scalars(select(ContactAttempt).where(among(session, ContactAttempt.case_id, case_ids))
                             .order_by(ContactAttempt.id)):
        rows[a.case_id].append(a)
    reached = set(session.scalars(select(SurveyResponse.case_id).where(
        among(session, SurveyResponse.case_id, case_ids), SurveyResponse.status == "completed")))
    out = {}
    for case in cases:
        p = parts[case.id]
        history_rows = rows[case.id]
        facts = case_facts(case, p.visit, p.customer, case.id in reached)
        out[case.id] = CaseContext(case, p.visit, p.customer, p.store_code, history_rows, facts,
                                   attempt_facts(history_rows))
    return out


def update_rule(session: Session, ctx: CaseContext, now: datetime, settings: Settings) -> bool:
    """Bring the case's three-day rule up to date; True when it just became breached."""
    case = ctx.case
    if case.three_day_rule != "pending":
        return False
    status, reason, at = three_day_rule(ctx.facts, ctx.history, now, settings.stores[ctx.store_code].policy)
    if status == "pending":
        return False
    case.three_day_rule, case.breach_reason, case.rule_decided_at = status, reason, at
    if status != "breached":
        return False
    audit.record(session, "system", "three_day_rule.breached", at=now, store_id=case.store_id, case_id=case.id,
                 reason=reason)
    emit(session, "three_day_rule.breached",
         {"store_code": ctx.store_code, "ro_number": ctx.visit.ro_number, "reason": reason,
          "deadline_at": case.deadline_at.isoformat()}, at=now, case_id=case.id)
    return True


def refresh_rule(session: Session, case: FollowupCase, settings: Settings, now: datetime) -> bool:
    """Decide the three-day rule now (a customer just answered, a fallback just started)."""
    return refresh_rules(session, [case], settings, now) > 0


def refresh_rules(session: Session, cases: Sequence[FollowupCase], settings: Settings, now: datetime) -> int:
    """:func:`refresh_rule` for many cases, their histories loaded together; how many just breached."""
    pending = [case for case in cases if case.three_day_rule == "pending"]
    if not pending:
        return 0
    session.flush()
    contexts = load_contexts(session, pending)
    return sum(update_rule(session, contexts[case.id], now, settings) for case in pending)


def plan_case(session: Session, case: FollowupCase, settings: Settings, now: datetime,
              ctx: CaseContext | None = None) -> Decision:
    """Decide and record the next step for one case; the caller commits."""
    ctx = ctx or load_context(session, case)
    customer, rows = ctx.customer, ctx.rows
    store = settings.stores[ctx.store_code]
    decision = post_service.next_step(ctx.facts, ctx.history, now, store)
    update_rule(session, ctx, now, settings)
    if decision.flag_for_staff and not case.flagged:
        case.flagged, case.flag_reason = True, decision.reason
    if decision.action == "wait":
        case.next_check_at = decision.due_at
    elif decision.action == "close":
        case.next_check_at = None
        if decision.outcome is not None and case.state != "closed":
            close_case(session, case, decision.outcome, now=now, actor="system")
    else:
        channel, kind = post_service.KIND_OF_ACTION[decision.action]
        number = 1 + sum(1 for a in rows if a.channel == channel and a.status != "cancelled")
        if channel == "call":
            destination = customer.mobile if customer.mobile and not customer.mobile_bad else customer.phone
        elif channel == "sms":
            destination = customer.mobile
        else:
            destination = None
        session.add(ContactAttempt(
            case_id=case.id, channel=channel, kind=kind, number=number, status="planned",
            destination=destination, due_at=decision.due_at, reason=decision.reason, created_at=now,
        ))
        case.next_check_at = None
    return decision


def plan_due_cases(session: Session, settings: Settings, now: datetime, *, limit: int = 500) -> int:
    """Plan every case whose check time has come (oldest first); returns how many."""
    cases = session.scalars(
        select(FollowupCase)
        .where(FollowupCase.next_check_at <= now, FollowupCase.state != "closed")
        .order_by(FollowupCase.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    contexts = load_contexts(session, cases)
    for case in cases:
        plan_case(session, case, settings, now, contexts[case.id])
    return len(cases)


def sweep_deadlines(session: Session, settings: Settings, now: datetime, *, limit: int = 1000) -> int:
    """Decide the rule of every pending case whose deadline has passed; returns new breaches.

    A case cancelled because its visit became an excluded type (R1) is never judged: it is outside
    the metric, like a visit that never had a case."""
    cases = session.scalars(
        select(FollowupCase)
        .where(FollowupCase.three_day_rule == "pending", FollowupCase.deadline_at <= now,
               FollowupCase.outcome.is_distinct_from("cancelled"))
        .order_by(FollowupCase.deadline_at)
        .limit(limit)
    ).all()
    contexts = load_contexts(session, cases)
    return sum(update_rule(session, contexts[case.id], now, settings) for case in cases)
