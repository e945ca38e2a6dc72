"""Planning: ask the pure policy what comes next for a case and write it down as a row.

A case whose ``next_check_at`` has come is loaded with its history, the policy decides, and the
decision becomes one planned :class:`ContactAttempt` (with ``due_at``), a close, or a later
``next_check_at``. The three-day rule (R8) is brought up to date at the same time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .. import audit
from ..models import ContactAttempt, Customer, FollowupCase, Store, SurveyResponse, Visit
from ..settings import Settings
from ..webhooks.outbox import emit
from .calendar import default_calendar
from .facts import attempt_facts, case_facts
from .policy import Decision, plan_next_contact
from .surveys import close_case
from .three_day_rule import three_day_rule

KIND_OF_ACTION = {"call": ("call", "survey"), "sms": ("sms", "survey"), "reminder_sms": ("sms", "reminder"),
                  "letter": ("letter", "survey")}


def history(session: Session, case_id: int) -> list[ContactAttempt]:
    return list(session.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id).order_by(ContactAttempt.id)))


def _reached(session: Session, case_id: int) -> bool:
    return bool(
        session.scalar(
            select(exists().where(SurveyResponse.case_id == case_id, SurveyResponse.status == "completed"))
        )
    )


def update_rule(session: Session, case: FollowupCase, store_code: str, ro: str, facts_args: tuple, now: datetime,
                settings: Settings) -> bool:
    """Bring the case's three-day rule up to date; True when it just became breached."""
    if case.three_day_rule != "pending":
        return False
    facts, hist = facts_args
    status, reason, at = three_day_rule(facts, hist, now, settings.stores[store_code].policy)
    if status == "pending":
        return False
    case.three_day_rule, case.breach_reason, case.rule_decided_at = status, reason, at
    if status == "breached":
        audit.record(session, "system", "three_day_rule.breached", at=now, store_id=case.store_id, case_id=case.id,
                     reason=reason)
        emit(session, "three_day_rule.breached",
             {"store_code": store_code, "ro_number": ro, "reason": reason,
              "deadline_at": case.deadline_at.isoformat()}, at=now, case_id=case.id)
        return True
    return False


def refresh_rule(session: Session, case: FollowupCase, settings: Settings, now: datetime) -> bool:
    """Decide the three-day rule now (a customer just answered, a fallback just started)."""
    if case.three_day_rule != "pending":
        return False
    session.flush()
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    code = session.scalar(select(Store.code).where(Store.id == case.store_id)) or ""
    facts = case_facts(case, visit, customer, _reached(session, case.id))
    return update_rule(session, case, code, visit.ro_number, (facts, attempt_facts(history(session, case.id))), now,
                       settings)


def plan_case(session: Session, case: FollowupCase, settings: Settings, now: datetime) -> Decision:
    """Decide and record the next step for one case; the caller commits."""
    visit = session.get_one(Visit, case.visit_id)
    customer = session.get_one(Customer, visit.customer_id)
    store_code = session.scalar(select(Store.code).where(Store.id == case.store_id)) or ""
    store = settings.stores[store_code]
    rows = history(session, case.id)
    facts, hist = case_facts(case, visit, customer, _reached(session, case.id)), attempt_facts(rows)
    holidays = default_calendar() if store.policy.skip_holidays else None
    decision = plan_next_contact(facts, hist, now, store.policy, store.timezone, holidays=holidays)
    update_rule(session, case, store_code, visit.ro_number, (facts, hist), now, settings)
    if decision.flag_for_staff and not case.flagged:
        case.flagged, case.flag_reason = True, decision.reason
    if decision.action == "wait":
        case.next_check_at = decision.due_at
    elif decision.action == "close":
        case.next_check_at = None
        if decision.outcome is not None and case.state != "closed":
            close_case(session, case, decision.outcome, now=now, actor="system")
    else:
        channel, kind = KIND_OF_ACTION[decision.action]
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
    for case in cases:
        plan_case(session, case, settings, now)
    return len(cases)


def sweep_deadlines(session: Session, settings: Settings, now: datetime, *, limit: int = 1000) -> int:
    """Decide the rule of every pending case whose deadline has passed; returns new breaches."""
    rows = session.execute(
        select(FollowupCase, Visit, Customer, Store.code)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(FollowupCase.three_day_rule == "pending", FollowupCase.deadline_at <= now)
        .order_by(FollowupCase.deadline_at)
        .limit(limit)
    ).all()
    breaches = 0
    for case, visit, customer, code in rows:
        facts = case_facts(case, visit, customer, _reached(session, case.id))
        breaches += update_rule(session, case, code, visit.ro_number, (facts, attempt_facts(history(session, case.id))),
                                now, settings)
    return breaches


def store_zone(session: Session, settings: Settings, store_id: int) -> ZoneInfo:
    code = session.scalar(select(Store.code).where(Store.id == store_id)) or ""
    return settings.stores[code].timezone
