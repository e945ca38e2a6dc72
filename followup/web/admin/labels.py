"""Readable English labels of the stored codes (states, outcomes, channels, audit actions).

The pages show ``label(code)`` through the catalogue, so Chinese comes from ``catalogues.panel.ZH``
like every other string; a test checks each label has its Chinese text.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    # case states and outcomes (CONTRACT §4)
    "scheduled": "Scheduled", "calling": "Calling", "sms_survey": "SMS survey", "letter_queued": "Letter queued",
    "letter_sent": "Letter sent", "complaint": "Complaint", "closed": "Closed",
    "satisfied": "Satisfied", "declined": "Declined", "unreachable": "Unreachable", "opted_out": "Opted out",
    "dissatisfied_closed": "Closed dissatisfied", "cancelled": "Cancelled",
    # three-day rule and breach reasons (R8)
    "pending": "Not decided yet", "met": "Met", "breached": "Breached", "late_intake": "Late intake",
    "insufficient_window": "Insufficient window", "system_delay": "System delay", "no_phone": "No phone",
    # channels and attempt statuses
    "call": "Call", "sms": "SMS", "letter": "Letter", "ivr": "IVR", "web": "Web", "staff": "Staff call",
    "planned": "Planned", "dispatching": "Sending", "in_progress": "In progress", "done": "Done",
    "error": "Error", "queued": "Queued", "sent": "Sent", "delivered": "Delivered to the phone", "undelivered": "Undelivered",
    "replied": "Replied", "returned": "Returned", "mailed": "Mailed",
    # call outcomes (R3)
    "answered": "Answered", "no_answer": "No answer", "busy": "Busy", "failed": "Failed", "voicemail": "Voicemail",
    "hung_up": "Hung up", "invalid_number": "Invalid number", "callback_requested": "Callback requested",
    # service types
    "maintenance": "Maintenance", "repair": "Repair", "warranty": "Warranty", "insurance": "Insurance/accident",
    "quick": "Quick service", "internal": "Internal",
    # roles
    "info_staff": "Information staff", "advisor": "Service advisor", "manager": "Manager", "admin": "Administrator",
    # SMS directions, customer flags, survey statuses
    "in": "Received", "out": "Sent to customer", "do_not_call": "Do not call", "no_sms": "No SMS",
    "no_contact": "No contact", "completed": "Completed", "incomplete": "Incomplete",
    # timeline kinds
    "attempt": "Contact", "survey": "Survey", "audit": "Log",
    # audit actions worth a readable name; others show their code
    "note.added": "Note", "pii.revealed": "Phone number revealed", "call.recorded": "Call recorded by staff",
    "customer.marked": "Customer marked", "case.closed": "Case closed", "survey.completed": "Survey completed",
    "three_day_rule.breached": "Three-day rule breached", "complaint.opened": "Complaint opened",
    "case.opened": "Case opened", "visit.imported": "Visit imported",
    "visit.created": "Visit received", "reminder": "Reminder", "resurvey": "Re-survey", "reply": "Reply",
    "call.sent": "Call placed", "sms.sent": "SMS sent", "letter.sent": "Letter queued for the batch",
}


def label(code: str | None) -> str:
    """The English label of a stored code; the code itself when it has none."""
    if code is None:
        return ""
    return LABELS.get(code, code)
