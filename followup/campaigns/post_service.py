"""The post-service follow-up (售后回访): one case per visit (R1), and what comes next for it (R3, R4).

The engine is the same for every kind of campaign; this module is what makes it *this* kind: when
a visit opens a case and with which deadline, which pure rule decides the next step, and how a
decision becomes a planned contact row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from followup.rules.calendar import case_deadline
from followup.rules.contact_policy import AttemptFacts, CaseFacts, Decision, plan_next_contact
from followup.settings import StoreSettings

#: a decision's action -> the (channel, kind) of the contact row it plans
KIND_OF_ACTION = {"call": ("call", "survey"), "sms": ("sms", "survey"), "reminder_sms": ("sms", "reminder"),
                  "letter": ("letter", "survey")}


@dataclass(frozen=True)
class CaseOpening:
    """The values a new case starts with (R1): its deadline and, for a late intake, its breach."""

    deadline_at: datetime
    three_day_rule: str  # pending | breached
    breach_reason: str | None
    rule_decided_at: datetime | None


def opens_case(service_type: str, store: StoreSettings) -> bool:
    """R1: every visit gets a case, except the service types the store excludes (``internal``)."""
    return service_type not in store.policy.exclude_service_types


def deadline_for(delivered_at: datetime, store: StoreSettings) -> datetime:
    """R1/R2: the case's deadline, ``D + 72h`` moved out by the closed days between them (holiday
    blocks with ``skip_holidays``, the store's own closed days). Intake and re-import both use it."""
    return case_deadline(delivered_at, store.policy, store.timezone)


def case_opening(delivered_at: datetime, store: StoreSettings, now: datetime) -> CaseOpening:
    """R1: ``deadline = D + 72h``, moved out by the store's closed days (R2); a visit imported after its
    deadline is ``breached``/``late_intake`` at once and goes straight to the fallback (the customer
    is still followed up)."""
    deadline = deadline_for(delivered_at, store)
    if now >= deadline:
        return CaseOpening(deadline, "breached", "late_intake", now)
    return CaseOpening(deadline, "pending", None, None)


def next_step(facts: CaseFacts, history: list[AttemptFacts], now: datetime, store: StoreSettings) -> Decision:
    """R3/R4: the next contact, a close or a wait, from the store's policy and calendar."""
    return plan_next_contact(facts, history, now, store.policy, store.timezone)
