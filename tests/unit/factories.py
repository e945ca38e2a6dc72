"""Builders shared by the pure-rule tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from followup.rules.contact_policy import CaseFacts


def case_facts(delivered: datetime, deadline: timedelta, opened: datetime | None = None, **facts: bool) -> CaseFacts:
    """A reachable customer (mobile, address, no flags) unless ``facts`` says otherwise."""
    flags = dict(
        closed=False,
        has_mobile=True,
        has_landline=False,
        has_address=True,
        do_not_call=False,
        no_sms=False,
        no_contact=False,
        reached=False,
    )
    flags.update(facts)
    return CaseFacts(delivered, delivered + deadline, opened or delivered, **flags)
