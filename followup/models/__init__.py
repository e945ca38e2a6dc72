"""SQLAlchemy 2.x typed models, one module per aggregate."""

from followup.models.advisor_call import AdvisorCall
from followup.models.audit import AuditEntry, TestClockRow
from followup.models.base import Base, UTCDateTime
from followup.models.case import CASE_OUTCOMES, CASE_STATES, ContactAttempt, FollowupCase
from followup.models.channel_pause import ChannelPause
from followup.models.complaint import Complaint, ComplaintStep
from followup.models.customer import Customer, Vehicle
from followup.models.letters import BatchLetter, LetterBatch
from followup.models.messages import SmsMessage
from followup.models.outbox import (
    DeliveryTry,
    ReceivedEvent,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscriber,
)
from followup.models.store import Advisor, Store
from followup.models.survey import CodeMiss, SurveyAnswer, SurveyResponse
from followup.models.twilio import IvrCall, PacingSlot, TwilioCallback
from followup.models.users import ROLES, ApiToken, LoginFailure, User, UserStore
from followup.models.visit import Visit

__all__ = [
    "CASE_OUTCOMES", "CASE_STATES", "ROLES",
    "Advisor", "AdvisorCall", "ApiToken", "AuditEntry", "Base", "ChannelPause", "CodeMiss", "Complaint", "ComplaintStep", "ContactAttempt",
    "Customer", "FollowupCase", "LoginFailure", "SmsMessage", "Store", "SurveyAnswer", "SurveyResponse",
    "TestClockRow", "User", "UserStore", "UTCDateTime", "Vehicle", "Visit", "WebhookDelivery",
    "WebhookEvent", "WebhookSubscriber",
    "DeliveryTry", "ReceivedEvent",
    "BatchLetter", "LetterBatch",
    "IvrCall", "PacingSlot", "TwilioCallback",
]
