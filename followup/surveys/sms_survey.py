"""The SMS survey conversation (R5, R6): one question per message, replies read as they come.

:func:`handle_inbound` takes one incoming SMS and returns the texts to send back at once (the
web endpoint answers them as TwiML ``<Message>``s). Order of business: store the message (never
dropped), opt-out / opt-in / HELP words first (R6), then a message that starts with a reply code
(R4.4, the letter's way: :mod:`followup.surveys.code_replies`, from any phone), then the answer to
the current question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from followup import audit
from followup.complaints.words import late_reply
from followup.messages import OPT_OUT_CONFIRMATION, render, sms_text
from followup.models import ContactAttempt, Customer, FollowupCase, SmsMessage, Store, SurveyResponse, Visit
from followup.privacy import mask_phone
from followup.rules.sms_replies import keyword, parse_answer
from followup.settings import Question, Settings
from followup.surveys import progress
from followup.surveys.code_replies import CodedReply, example_reply, leading_code, read_answers
from followup.surveys.questions import questions_for_case
from followup.surveys.reply_codes import code_status
from followup.surveys.responses import record_survey
from followup.webhooks.outbox import emit

#: unreadable replies to one question before the survey is kept as incomplete (R5)
MAX_UNREADABLE = 2
#: SMS that re-ask the question a survey still waits on (the survey's reminder, a re-survey's reminder, R7)
REMINDER_KINDS = ("reminder", "re_remind")


@dataclass(frozen=True)
class Inbound:
    """One SMS a customer sent to the store's number."""

    sid: str
    from_number: str
    to_number: str
    body: str


@dataclass(frozen=True)
class Reply:
    """One answer to the customer: the text, and what it was rendered from (the message template
    and its context) for a provider that sends approved templates instead of text (CONTRACT §10)."""

    template: str
    context: dict[str, str]
    body: str
    #: its copy in ``sms_messages`` (direction out), to note the provider id once it went out
    stored: SmsMessage
    store_code: str
    language: str


def ask(q: Question, lang: str) -> str:
    """The question as a complete sentence in the customer's language (``config/survey.toml``)."""
    text = q.ask(lang)
    return text if text.endswith(("？", "?", "。", ".", "！", "!")) else text + ("." if lang == "en" else "。")


def hint(q: Question, lang: str) -> str:
    """How to answer it by SMS: ``请回复0-10的数字（10分为非常满意）。``, ``请回复“是”或“否”。``."""
    return render(f"sms_hint_{q.kind}.txt.j2", lang)


def question_context(q: Question, lang: str) -> dict[str, str]:
    """What every SMS template that asks a question needs: ``question`` and ``hint``."""
    return {"question": ask(q, lang), "hint": hint(q, lang)}


def latest_open(session: Session, case_id: int) -> SurveyResponse | None:
    """The case's newest SMS response that is not completed (in progress or incomplete)."""
    return session.scalar(
        select(SurveyResponse)
        .where(SurveyResponse.case_id == case_id, SurveyResponse.channel == "sms",
               SurveyResponse.status != "completed")
        .order_by(SurveyResponse.id.desc())
    )


def question_to_send(session: Session, case: FollowupCase, kind: str, settings: Settings) -> Question:
    """The question an outgoing survey SMS asks: the first, or (reminder) the one still open."""
    questions = questions_for_case(session, case, settings)
    resp = latest_open(session, case.id) if kind in REMINDER_KINDS else None
    if resp is not None:
        answered = set(progress.stored_answers(session, resp))
        q = progress.next_question(questions, None, answered=answered)
        if q is not None:
            return q
    return questions[0]


def begin(session: Session, case: FollowupCase, kind: str, q: Question, settings: Settings,
          now: datetime) -> SurveyResponse:
    """After a survey SMS went out: the response its replies go to, waiting at question ``q``."""
    resp = latest_open(session, case.id) if kind in REMINDER_KINDS else None
    if resp is None:
        return progress.open_response(session, case, "sms", made_by="sms", now=now, first=q.id,
                                      resurvey=kind == "resurvey")
    resp.status, resp.current_question, resp.unreadable = "in_progress", q.id, 0
    return resp


def _cases_of(session: Session, number: str) -> list[tuple[FollowupCase, Customer, str, str]]:
    """Every case of every customer with this mobile, newest first, with store code and RO."""
    rows = session.execute(
        select(FollowupCase, Customer, Store.code, Visit.ro_number)
        .join(Visit, Visit.id == FollowupCase.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Store, Store.id == FollowupCase.store_id)
        .where(Customer.mobile == number)
        .order_by(FollowupCase.opened_at.desc(), FollowupCase.id.desc())
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _pick(session: Session, cases: list[tuple[FollowupCase, Customer, str, str]]
          ) -> tuple[tuple[FollowupCase, Customer, str, str], SurveyResponse | None] | None:
    """The case a reply belongs to: one with an SMS survey in progress, else the newest open one."""
    for row in cases:
        resp = latest_open(session, row[0].id)
        if resp is not None and resp.status == "in_progress":
            return row, resp
    open_cases = [r for r in cases if r[0].state != "closed"]
    if open_cases:
        return open_cases[0], None
    return (cases[0], None) if cases else None


class Conversation:
    """One inbound SMS being handled: what it matched and the replies it gets."""

    def __init__(self, session: Session, settings: Settings, msg: Inbound, now: datetime) -> None:
        self.s, self.settings, self.msg, self.now = session, settings, msg, now
        self.replies: list[Reply] = []
        self.cases = _cases_of(session, msg.from_number)
        picked = _pick(session, self.cases)
        self.row: tuple[FollowupCase, Customer, str, str] | None = picked[0] if picked else None
        self.resp: SurveyResponse | None = picked[1] if picked else None
        self.stored = SmsMessage(
            direction="in", from_number=msg.from_number, to_number=msg.to_number, body=msg.body,
            provider_id=msg.sid or None, status="received", received_at=now,
        )
        if self.row is not None:
            case, customer, _code, _ro = self.row
            self.stored.case_id, self.stored.customer_id, self.stored.store_id = case.id, customer.id, case.store_id
        session.add(self.stored)

    @property
    def lang(self) -> str:
        return self.row[1].language if self.row else "zh"

    def sender_opted_out(self) -> bool:
        """R6: the sender's phone opted out of SMS (a customer with this mobile replied T, 退订, STOP …)."""
        return any(customer.sms_opted_out for _case, customer, _code, _ro in self.cases)

    def say(self, template: str, **context: str) -> None:
        """Queue one reply (with signature and opt-out hint) and keep a copy. After an opt-out nothing is
        sent to that phone but the opt-out's own confirmation, which carries no opt-out hint (R6)."""
        confirmation = template == OPT_OUT_CONFIRMATION
        if self.row is None or (self.sender_opted_out() and not confirmation):
            return  # not even HELP, until the customer opts back in (START, UNSTOP, 恢复)
        case, customer, code, _ro = self.row
        store = self.settings.stores[code]
        context = {"store_name": store.name if self.lang == "zh" else store.name_en, "store_phone": store.phone,
                   **context}
        body = sms_text(store.sms_signature, render(template, self.lang, **context), self.lang,
                        opt_out_hint=not confirmation)
        stored = SmsMessage(direction="out", store_id=case.store_id, case_id=case.id, customer_id=customer.id,
                            from_number=self.msg.to_number, to_number=self.msg.from_number, body=body,
                            status="reply", handling="reply", received_at=self.now)
        self.s.add(stored)
        self.replies.append(Reply(template, context, body, stored, code, self.lang))

    def ref(self) -> dict[str, str]:
        return {"store_code": self.row[2], "ro_number": self.row[3]} if self.row else {}

    def attach(self, case: FollowupCase) -> None:
        """The message names ``case`` by its reply code: it, its replies and its audit go to that case."""
        customer, code, ro = self.s.execute(
            select(Customer, Store.code, Visit.ro_number).join(Visit, Visit.customer_id == Customer.id)
            .join(Store, Store.id == Visit.store_id).where(Visit.id == case.visit_id)).one()
        self.row, self.resp = (case, customer, code, ro), None  # not an answer to a question asked by SMS
        self.stored.case_id, self.stored.customer_id, self.stored.store_id = case.id, customer.id, case.store_id

    def handle(self) -> str:
        """Act on the message; returns how it was handled (also stored on the message)."""
        word = keyword(self.msg.body)
        coded = None if word else leading_code(self.s, self.msg.body)
        if coded is not None:
            self.attach(coded.case)
        if self.row is None:
            handling = "unknown_sender"
        elif word == "optout":
            handling = self.opt_out()
        elif word == "optin":
            handling = self.opt_in()
        elif word == "help":
            case, _c, code, _ro = self.row
            store = self.settings.stores[code]
            self.say("sms_help.txt.j2", store_name=store.name if self.lang == "zh" else store.name_en,
                     store_phone=store.phone)
            handling = "help"
        elif coded is not None and code_status(self.s, coded.case, self.settings, self.now).state == "open":
            handling = self.answer_by_code(coded)
        elif self.resp is None:
            handling = "late"  # no survey waiting: kept against the case for staff to see
            # R7: noted on the case's open complaint, or a complaint word opens one
            late_reply(self.s, self.settings, self.row[0], self.msg.body, now=self.now)
        else:
            handling = self.answer(self.resp)
        self.stored.handling = handling
        case_id = self.row[0].id if self.row else None
        store_id = self.row[0].store_id if self.row else None
        audit.record(self.s, "sms", "sms.received", at=self.now, store_id=store_id, case_id=case_id,
                     handling=handling, sid=self.msg.sid)
        emit(self.s, "sms.received", {**self.ref(), "from": mask_phone(self.msg.from_number), "handling": handling},
             at=self.now, case_id=case_id)
        return handling

    def opt_out(self) -> str:
        """R6: no further SMS, one confirmation, and an open SMS survey moves to the letter."""
        already = all(c.sms_opted_out for _case, c, _code, _ro in self.cases)
        for case, customer, code, ro in self.cases:
            if not customer.sms_opted_out:
                customer.sms_opted_out = True
                audit.record(self.s, "sms", "customer.opted_out", at=self.now, store_id=case.store_id,
                             case_id=case.id, channel="sms")
                emit(self.s, "customer.opted_out", {"store_code": code, "ro_number": ro, "channel": "sms",
                                                     "mobile": mask_phone(customer.mobile)},
                     at=self.now, case_id=case.id)
            if case.state != "closed":
                self.s.execute(update(ContactAttempt)
                               .where(ContactAttempt.case_id == case.id, ContactAttempt.channel == "sms",
                                      ContactAttempt.status == "planned")
                               .values(status="cancelled", reason="opted_out"))
                resp = latest_open(self.s, case.id)
                if resp is not None and resp.status == "in_progress":
                    resp.status, resp.current_question = "incomplete", None
                case.next_check_at = self.now  # the planner moves it on to the letter
        if not already:
            self.say(OPT_OUT_CONFIRMATION)
        return "optout"

    def opt_in(self) -> str:
        for case, customer, _code, _ro in self.cases:
            if customer.sms_opted_out:
                customer.sms_opted_out = False
                audit.record(self.s, "sms", "customer.opted_in", at=self.now, store_id=case.store_id,
                             case_id=case.id, channel="sms")
        self.say("sms_optin.txt.j2")
        return "optin"

    def answer_by_code(self, coded: CodedReply) -> str:
        """R4.4: the reply code and every answer in one SMS: the survey is recorded (channel ``sms``),
        the rest cancelled (R4.6) and the customer thanked; unreadable answers get the way to write them."""
        case = coded.case
        questions = questions_for_case(self.s, case, self.settings)
        answers = read_answers(questions, coded.rest)
        if answers is None:
            self.say("sms_code_hint.txt.j2", example=example_reply(case.reply_code, questions, self.lang))
            return "code_unreadable"
        waiting = latest_open(self.s, case.id)
        if waiting is not None and waiting.status == "in_progress":
            waiting.status, waiting.current_question = "incomplete", None  # answered at once instead
        record_survey(self.s, case, answers, channel="sms", made_by="sms", settings=self.settings, now=self.now)
        self.say("sms_thanks.txt.j2")
        return "reply_code"

    def answer(self, resp: SurveyResponse) -> str:
        """Store the answer to the current question; ask the next one, or thank and finish."""
        assert self.row is not None
        case = self.row[0]
        survey = self.settings.survey
        questions = questions_for_case(self.s, case, self.settings)
        q = survey.question(resp.current_question) if resp.current_question else questions[0]
        value = parse_answer(q.kind, self.msg.body)
        if value is None:
            resp.unreadable += 1
            if resp.unreadable >= MAX_UNREADABLE:
                resp.status, resp.current_question = "incomplete", None
                case.flagged, case.flag_reason = True, "SMS survey: two unreadable replies (短信回复无法识别)"
                audit.record(self.s, "sms", "survey.incomplete", at=self.now, store_id=case.store_id,
                             case_id=case.id, question=q.id)
                self.say("sms_incomplete.txt.j2")
                return "unreadable"
            self.say("sms_reask.txt.j2", **question_context(q, self.lang))
            return "unreadable"
        if value != "":
            progress.record_answer(self.s, resp, q, value, raw=self.msg.body, now=self.now)
        resp.unreadable = 0
        answered = set(progress.stored_answers(self.s, resp)) | {q.id}
        nxt = progress.next_question(questions, q.id, answered=answered)
        if nxt is not None:
            resp.current_question = nxt.id
            self.say("sms_question.txt.j2", **question_context(nxt, self.lang))
            return "answer"
        self.say("sms_thanks.txt.j2")
        progress.finish(self.s, case, resp, settings=self.settings, now=self.now)
        return "answer"


def converse(session: Session, settings: Settings, msg: Inbound, now: datetime) -> list[Reply]:
    """Handle one incoming SMS, whichever provider brought it (a repeat of a provider id already
    stored is ignored); the replies to send, each already stored as an outgoing message."""
    if msg.sid and session.scalar(select(SmsMessage.id).where(SmsMessage.provider_id == msg.sid)):
        return []
    conv = Conversation(session, settings, msg, now)
    conv.handle()
    return conv.replies


def handle_inbound(session: Session, settings: Settings, msg: Inbound, now: datetime) -> list[str]:
    """:func:`converse`, the replies as texts (Twilio answers them as TwiML ``<Message>``s)."""
    return [reply.body for reply in converse(session, settings, msg, now)]
