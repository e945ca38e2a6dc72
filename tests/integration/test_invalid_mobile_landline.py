"""R3: ``invalid_number`` on the mobile marks it bad and the remaining attempts go to the landline
(issue #16: "invalid_number on the mobile ends calling even when a valid landline exists").

The provider refuses the mobile as Twilio does (error 21211, sorted by the Twilio channel's own
classification); the landline rings and nobody answers. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import factories
from factories import add_visit, local, visit_row
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from followup.channels.base import Contact, Sent
from followup.channels.sandbox import SandboxChannel, silent
from followup.channels.twilio_errors import classify
from followup.models import ContactAttempt, Customer, FollowupCase, Visit
from followup.runtime import Runtime

MOBILE, LANDLINE = "+8613800138000", "+8675526605049"


def mobile_is_invalid(contact: Contact, now: datetime) -> Sent:
    if contact.channel == "call" and contact.to == MOBILE:
        raise classify(TwilioRestException(400, "https://api.twilio.com/2010-04-01/Calls.json",
                                           "The 'To' number +8613800138000 is not a valid phone number.",
                                           code=21211), "call")
    return silent(contact, now)


def test_an_invalid_mobile_moves_the_remaining_attempts_to_the_landline(rt: Runtime) -> None:
    channel = SandboxChannel(mobile_is_invalid)
    case_id = add_visit(rt, visit_row(phone=LANDLINE), plan=True)
    rt.clock.set(local(2026, 11, 19, 10))  # type: ignore[attr-defined]
    factories.run_until(rt, channel, local(2026, 11, 25), skip=("letters",))
    called = [(c.to, at.astimezone(factories.SH).strftime("%d %H:%M")) for at, c in channel.sent if c.channel == "call"]
    assert called[0] == (MOBILE, "20 10:00")
    assert called[1] == (LANDLINE, "20 10:00")  # at once: nobody was rung on the dead mobile
    assert [to for to, _ in called] == [MOBILE, LANDLINE, LANDLINE, LANDLINE]  # three real attempts
    with rt.sessions() as s:
        calls = list(s.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id,
                                                            ContactAttempt.channel == "call")
                               .order_by(ContactAttempt.id)))
        assert [(a.outcome, a.destination) for a in calls] == [
            ("invalid_number", MOBILE), ("no_answer", LANDLINE), ("no_answer", LANDLINE), ("no_answer", LANDLINE)]
        assert calls[0].error_code == "21211"
        case = s.get_one(FollowupCase, case_id)
        customer = s.get_one(Customer, s.get_one(Visit, case.visit_id).customer_id)
        assert (customer.mobile_bad, customer.phone_bad) == (True, False)
        # the mobile is bad: no SMS; the letter is the fallback after three failed calls, met in time
        fallback = s.scalars(select(ContactAttempt.channel).where(ContactAttempt.case_id == case_id,
                                                                  ContactAttempt.channel != "call")).all()
        assert fallback == ["letter"]
        assert case.three_day_rule == "met"


def test_with_no_callable_number_left_calling_ends_at_once(rt: Runtime) -> None:
    channel = SandboxChannel(mobile_is_invalid)
    case_id = add_visit(rt, visit_row(), plan=True)  # a mobile only
    rt.clock.set(local(2026, 11, 19, 10))  # type: ignore[attr-defined]
    factories.run_until(rt, channel, local(2026, 11, 21), skip=("letters",))
    assert [(c.channel, c.to) for _, c in channel.sent] == [("call", MOBILE), ("letter", None)]
    with rt.sessions() as s:
        assert s.get_one(FollowupCase, case_id).state != "closed"
