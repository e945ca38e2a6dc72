"""Readable English labels of the stored codes (states, outcomes, channels, audit actions).

The pages show ``label(code)`` through the catalogue, so Chinese comes from the gettext catalogue
(``followup/translations``) like every other string; a test checks each label has its Chinese text.
"""

from __future__ import annotations

from followup.web.i18n import N_

LABELS: dict[str, str] = {
    # case states and outcomes (CONTRACT §4)
    "scheduled": N_("Scheduled"), "calling": N_("Calling"), "sms_survey": N_("SMS survey"), "letter_queued": N_("Letter queued"),
    "letter_sent": N_("Letter sent"), "complaint": N_("Complaint"), "closed": N_("Closed"),
    "satisfied": N_("Satisfied"), "declined": N_("Declined"), "unreachable": N_("Unreachable"), "opted_out": N_("Opted out"),
    "dissatisfied_closed": N_("Closed dissatisfied"), "cancelled": N_("Cancelled"),
    # three-day rule and breach reasons (R8)
    "pending": N_("Not decided yet"), "met": N_("Met"), "breached": N_("Breached"), "late_intake": N_("Late intake"),
    "insufficient_window": N_("Insufficient window"), "system_delay": N_("System delay"), "no_phone": N_("No phone"),
    "staff_capacity": N_("Not enough staff time"),
    # channels and attempt statuses
    "call": N_("Call"), "sms": N_("SMS"), "letter": N_("Letter"), "ivr": N_("IVR"), "web": N_("Web"), "staff": N_("Staff call"),
    "planned": N_("Planned"), "dispatching": N_("Sending"), "in_progress": N_("In progress"), "done": N_("Done"),
    "error": N_("Error"), "queued": N_("Queued"), "sent": N_("Sent"), "delivered": N_("Delivered to the phone"), "undelivered": N_("Undelivered"),
    "replied": N_("Replied"), "returned": N_("Returned"), "mailed": N_("Mailed"),
    # call outcomes (R3)
    "answered": N_("Answered"), "no_answer": N_("No answer"), "busy": N_("Busy"), "failed": N_("Failed"), "voicemail": N_("Voicemail"),
    "hung_up": N_("Hung up"), "invalid_number": N_("Invalid number"), "callback_requested": N_("Callback requested"),
    # service types
    "maintenance": N_("Maintenance"), "repair": N_("Repair"), "warranty": N_("Warranty"), "insurance": N_("Insurance/accident"),
    "quick": N_("Quick service"), "internal": N_("Internal"),
    # roles
    "info_staff": N_("Information staff"), "advisor": N_("Service advisor"), "manager": N_("Manager"), "admin": N_("Administrator"),
    # SMS directions, customer flags, survey statuses
    "in": N_("Received"), "out": N_("Sent to customer"), "do_not_call": N_("Do not call"), "no_sms": N_("No SMS"),
    "no_contact": N_("No contact"), "completed": N_("Completed"), "incomplete": N_("Incomplete"),
    # timeline kinds
    "attempt": N_("Contact"), "survey": N_("Survey"), "audit": N_("Log"),
    # audit actions worth a readable name; others show their code
    "note.added": N_("Note"), "pii.revealed": N_("Phone number revealed"), "call.recorded": N_("Call recorded by staff"),
    "customer.marked": N_("Customer marked"), "case.closed": N_("Case closed"), "survey.completed": N_("Survey completed"),
    "three_day_rule.breached": N_("Three-day rule breached"), "complaint.opened": N_("Complaint opened"),
    "case.opened": N_("Case opened"), "visit.imported": N_("Visit imported"),
    "case.reopened": N_("Case reopened"), "case.deadline_moved": N_("Deadline moved"),
    "three_day_rule.reopened": N_("Three-day rule open again"),
    "call.outcome": N_("Call outcome"), "sms.outcome": N_("SMS outcome"),
    "advisor_call.recorded": N_("Advisor's 3-day call recorded"),
    "call.not_made": N_("Call not made before the deadline (staff time)"), "worklist.released": N_("Call put back on the worklist"),
    "visit.created": N_("Visit received"), "reminder": N_("Reminder"), "resurvey": N_("Re-survey"), "reply": N_("Reply"),
    "re_remind": N_("Re-survey reminder"), "progress": N_("Complaint progress SMS"),
    "call.sent": N_("Call placed"), "sms.sent": N_("SMS sent"), "letter.sent": N_("Letter queued for the batch"),
    # R3: account errors pause a store's channel; provider outages move a contact to the next window
    "channel.paused": N_("Channel paused (account or configuration error)"), "channel.resumed": N_("Channel resumed"),
    "doctor.found": N_("Daily check: cases without a next step found"),
    "privacy.purged": N_("Retention: customers anonymised, old records deleted"),
    "provider_outage": N_("Provider outage"), "channel_paused": N_("Waited on a paused channel"),
}


def label(code: str | None) -> str:
    """The English label of a stored code; the code itself when it has none."""
    if code is None:
        return ""
    return LABELS.get(code, code)
