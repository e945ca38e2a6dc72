"""Rows -> the pure policy's facts (CaseFacts, AttemptFacts)."""

from __future__ import annotations

from collections.abc import Sequence

from followup.models import ContactAttempt, Customer, FollowupCase, Visit
from followup.rules.contact_policy import AttemptFacts, CaseFacts
from followup.rules.three_day_rule import CHANNEL_PAUSED, MISSED_WINDOW, PROVIDER_OUTAGE, STAFF_CAPACITY

#: a letter needs at least this much of an address, and at most what fits the envelope window
ADDRESS_MIN, ADDRESS_MAX = 6, 120


def usable_address(address: str | None) -> bool:
    text = (address or "").strip()
    return ADDRESS_MIN <= len(text) <= ADDRESS_MAX


def case_facts(case: FollowupCase, visit: Visit, customer: Customer, reached: bool) -> CaseFacts:
    return CaseFacts(
        delivered_at=visit.delivered_at,
        deadline_at=case.deadline_at,
        opened_at=case.opened_at,
        closed=case.state == "closed",
        has_mobile=bool(customer.mobile) and not customer.mobile_bad,
        has_landline=bool(customer.phone) and not customer.phone_bad,
        has_address=usable_address(customer.address),
        do_not_call=customer.do_not_call,
        no_sms=customer.no_sms or customer.sms_opted_out,
        no_contact=customer.no_contact,
        # a case handed to a complaint is the complaint loop's (R7): the survey policy plans nothing for it
        reached=reached or case.state == "complaint",
        late_intake=case.breach_reason == "late_intake",
    )


def attempt_facts(attempts: Sequence[ContactAttempt]) -> list[AttemptFacts]:
    """Oldest first; ``in_progress`` (waiting for the provider) counts as in flight."""
    return [
        AttemptFacts(
            channel=a.channel,
            kind=a.kind,
            status="dispatching" if a.status == "in_progress" else a.status,
            outcome=a.outcome,
            due_at=a.due_at,
            started_at=a.started_at,
            ended_at=a.ended_at,
            callback_at=a.callback_at,
            missed_window=a.reason == MISSED_WINDOW,
            not_made=a.reason == STAFF_CAPACITY,
            outage=a.reason in (PROVIDER_OUTAGE, CHANNEL_PAUSED),
        )
        for a in attempts
    ]
