"""SQLAlchemy 2.x typed models, one module per aggregate."""

from .audit import AuditEntry, TestClockRow
from .base import Base, UTCDateTime
from .case import CASE_OUTCOMES, CASE_STATES, ContactAttempt, FollowupCase
from .complaint import Complaint, ComplaintStep
from .customer import Customer, Vehicle
from .letters import BatchLetter, LetterBatch
from .messages import SmsMessage
from .outbox import DeliveryTry, ReceivedEvent, WebhookDelivery, WebhookEvent, WebhookSubscriber
from .store import Advisor, Store
from .survey import SurveyAnswer, SurveyResponse
from .twilio import IvrCall, PacingSlot, TwilioCallback
from .users import ROLES, ApiToken, LoginFailure, User, UserStore
from .visit import Visit

__all__ = [
    "CASE_OUTCOMES", "CASE_STATES", "ROLES",
    "Advisor", "ApiToken", "AuditEntry", "Base", "Complaint", "ComplaintStep", "ContactAttempt",
    "Customer", "FollowupCase", "LoginFailure", "SmsMessage", "Store", "SurveyAnswer", "SurveyResponse",
    "TestClockRow", "User", "UserStore", "UTCDateTime", "Vehicle", "Visit", "WebhookDelivery",
    "WebhookEvent", "WebhookSubscriber",
    "DeliveryTry", "ReceivedEvent",
    "BatchLetter", "LetterBatch",
    "IvrCall", "PacingSlot", "TwilioCallback",
]
