"""The IVR survey (R3, R5): TwiML for each step of an automated survey call.

Steps: ``identity`` (the IVR names the store and asks whether it speaks to the customer: 1 yes,
2 no) -> ``intro`` (1 start, 9 callback, 0 decline) -> ``slot`` (only callback slots still ahead,
:mod:`followup.rules.callback_slots`) or one ``<Gather>`` per scored question of the visit's
service type (0-10 with ``#``, or 1 yes / 2 no) -> thanks. 10 s timeout and one re-prompt per
step; then a question is left unanswered. Every keypress is stored as it arrives (:class:`IvrCall`
and the survey answers), so a dropped call keeps what was said. The call's outcome is decided
when its final status callback arrives (:mod:`followup.engine.provider_callbacks`).

Not the customer (2 at the identity question, or no key after the re-prompt): the call ends
politely and counts as ``hung_up`` (a failed attempt, R3: nobody answered the first question); a
"2" is kept in the audit trail as ``call.not_the_customer``, the reason for that attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from followup import audit
from followup.engine.dispatch import SERVICE_LABEL
from followup.messages import render
from followup.models import ContactAttempt, Customer, FollowupCase, IvrCall, Store, SurveyResponse, Visit
from followup.rules.callback_slots import offered_slots
from followup.settings import Question, Settings
from followup.surveys import progress

#: Twilio's Mandarin text-to-speech voice (Amazon Polly, cmn-CN) and its English counterpart
VOICES = {"zh": ("Polly.Zhiyu", "cmn-CN"), "en": ("Polly.Joanna", "en-US")}
GATHER_TIMEOUT = 10
MAX_REPROMPTS = 1
IVR_KINDS = ("scale10", "yesno")
MACHINE_PREFIXES = ("machine", "fax")
#: a name that already carries how to address the customer ("张先生", "Mr Chen")
HONORIFICS_ZH = ("先生", "女士", "小姐", "太太", "夫人")
HONORIFICS_EN = ("MR", "MRS", "MS", "MISS", "DR")
#: the steps after which the call is over (a late or repeated request is told goodbye again)
ENDED_STEPS = ("done", "not_customer")


def has_honorific(name: str, lang: str) -> bool:
    """Whether the stored name says how to address the customer: ``张先生``, ``王女士``, ``Mr Chen``.

    The IVR then asks "请问是张先生吗？"; otherwise it uses the full name ("张伟您好……请问您是张伟本人吗？"),
    never guessing 先生 or 女士.
    """
    name = name.strip()
    if lang == "en":
        first = name.split(maxsplit=1)[0].rstrip(".").upper() if " " in name else ""
        return first in HONORIFICS_EN
    return any(name.endswith(h) and len(name) > len(h) for h in HONORIFICS_ZH)


class IvrTurn:
    """One request of one call: the call's rows, its language, and the TwiML being built."""

    def __init__(self, session: Session, settings: Settings, attempt: ContactAttempt, call_sid: str,
                 now: datetime) -> None:
        self.s, self.settings, self.a, self.now = session, settings, attempt, now
        self.case = session.get_one(FollowupCase, attempt.case_id)
        self.visit = session.get_one(Visit, self.case.visit_id)
        customer = session.get_one(Customer, self.visit.customer_id)
        self.customer_name = customer.name.strip()
        self.lang = customer.language if customer.language in VOICES else "zh"
        self.code = session.scalar(select(Store.code).where(Store.id == self.case.store_id)) or ""
        ivr = session.scalar(select(IvrCall).where(IvrCall.call_sid == call_sid))
        if ivr is None:
            ivr = IvrCall(call_sid=call_sid, attempt_id=attempt.id, step="identity", reprompts=0, updated_at=now)
            session.add(ivr)
            session.flush()
        self.ivr = ivr
        #: R5: the questions of this visit's service type
        self.questions = settings.survey.questions_for(self.visit.service_type)
        self.twiml = VoiceResponse()

    # -- speaking ---------------------------------------------------------------------------
    def text(self, name: str, **context: object) -> str:
        return render(f"ivr_{name}.txt.j2", self.lang, **context)

    def say(self, text: str) -> None:
        voice, language = VOICES[self.lang]
        self.twiml.say(text, voice=voice, language=language)

    def gather(self, step: str, prompt: str, *, hash_terminated: bool = False, lead: str | None = None) -> None:
        """One ``<Gather>`` whose action comes back to this call's ``step``."""
        voice, language = VOICES[self.lang]
        action = f"{self.settings.public_base_url}/twilio/voice/gather?attempt={self.a.id}&step={step}"
        kw: dict[str, object] = {"finish_on_key": "#"} if hash_terminated else {"num_digits": 1}
        g = self.twiml.gather(input="dtmf", action=action, method="POST", timeout=GATHER_TIMEOUT,
                              language=language, action_on_empty_result=True, **kw)
        if lead:
            g.say(lead, voice=voice, language=language)
        g.say(prompt, voice=voice, language=language)

    def hang_up(self, text: str, step: str = "done") -> str:
        self.say(text)
        self.twiml.hangup()
        self.ivr.step = step
        return str(self.twiml)

    # -- steps ------------------------------------------------------------------------------
    @property
    def store_name(self) -> str:
        store = self.settings.stores[self.code]
        return store.name if self.lang == "zh" else store.name_en

    def identity_prompt(self) -> str:
        """"您好，这里是<店名>。请问是张先生吗？是请按1，不是请按2。" (R5: the customer first)."""
        return self.text("identity", store_name=self.store_name, customer_name=self.customer_name,
                         honorific=has_honorific(self.customer_name, self.lang))

    def intro_prompt(self) -> str:
        local = self.visit.delivered_at.astimezone(self.settings.stores[self.code].timezone)
        return self.text(
            "intro", store_name=self.store_name,
            visit_date=f"{local.month}月{local.day}日" if self.lang == "zh" else f"{local:%d %B}",
            service_label=SERVICE_LABEL.get(self.visit.service_type, "维修") if self.lang == "zh"
            else self.visit.service_type,
        )

    def ask(self, q: Question, lead: str | None = None) -> str:
        self.ivr.step = q.id
        self.gather(q.id, spoken_question(q, self.lang), hash_terminated=q.kind == "scale10", lead=lead)
        return str(self.twiml)

    def next_question(self, after: str | None, lead: str | None = None) -> str:
        resp = self.response()
        answered = set(progress.stored_answers(self.s, resp))
        q = progress.next_question(self.questions, after, answered=answered, kinds=IVR_KINDS)
        self.ivr.reprompts = 0
        if q is None:
            resp.current_question = None
            if answered and self.case.state != "closed":
                progress.finish(self.s, self.case, resp, settings=self.settings, now=self.now)
            return self.hang_up(self.text("thanks"))
        resp.current_question = q.id
        return self.ask(q, lead)

    def response(self) -> SurveyResponse:
        if self.ivr.response_id is None:
            first = progress.next_question(self.questions, None, answered=set(), kinds=IVR_KINDS)
            resp = progress.open_response(self.s, self.case, "ivr", made_by="ivr", now=self.now,
                                          first=first.id if first else None)
            self.ivr.response_id = resp.id
            return resp
        return self.s.get_one(SurveyResponse, self.ivr.response_id)

    def retry_or(self, give_up: str) -> str | None:
        """Re-prompt once: returns None when a re-prompt is allowed (and counts it)."""
        if self.ivr.reprompts >= MAX_REPROMPTS:
            return give_up
        self.ivr.reprompts += 1
        return None

    def on_digits(self, step: str, digits: str) -> str:
        """The customer pressed ``digits`` (empty on timeout) at ``step``."""
        self.ivr.updated_at = self.now
        if step != self.ivr.step:  # a repeated or stale request: say the current step again
            step, digits = self.ivr.step, ""
        if step in ENDED_STEPS:
            return self.hang_up(self.text("thanks" if step == "done" else "not_customer"), step)
        if step == "identity":
            return self.on_identity(digits)
        if step == "intro":
            return self.on_intro(digits)
        if step == "slot":
            return self.on_slot(digits)
        return self.on_answer(self.settings.survey.question(step), digits)

    def on_identity(self, digits: str) -> str:
        """1: it is the customer, on to the intro. 2: someone else, end politely (a failed attempt)."""
        if digits == "1":
            self.ivr.step, self.ivr.reprompts = "intro", 0
            self.gather("intro", self.intro_prompt())
            return str(self.twiml)
        if digits == "2":
            audit.record(self.s, "ivr", "call.not_the_customer", at=self.now, store_id=self.case.store_id,
                         case_id=self.case.id, attempt=self.a.id, number=self.a.number)
            return self.hang_up(self.text("not_customer"), "not_customer")
        if self.retry_or("give_up") is not None:
            return self.hang_up(self.text("goodbye"))
        self.gather("identity", self.identity_prompt(), lead=self.text("reprompt"))
        return str(self.twiml)

    def slots(self) -> tuple[int, ...]:
        """R3: the callback slots still ahead (at least 30 minutes) at this moment."""
        return offered_slots(self.now, self.settings.stores[self.code].timezone)

    def on_intro(self, digits: str) -> str:
        if digits == "1":
            return self.next_question(None)
        if digits == "9":
            slots = self.slots()
            if not slots:  # none left today or tomorrow: a callback "later" (the policy's gap)
                self.ivr.choice, self.ivr.callback_slot = "callback_requested", None
                return self.hang_up(self.text("callback", slot=0))
            self.ivr.step, self.ivr.reprompts = "slot", 0
            self.gather("slot", self.text("slot", slots=slots))
            return str(self.twiml)
        if digits == "0":
            self.ivr.choice = "declined"
            return self.hang_up(self.text("declined"))
        if self.retry_or("give_up") is not None:
            return self.hang_up(self.text("goodbye"))
        self.gather("intro", self.intro_prompt(), lead=self.text("reprompt"))
        return str(self.twiml)

    def on_slot(self, digits: str) -> str:
        slots = self.slots()
        chosen = int(digits) if digits.isdigit() and int(digits) in slots else None
        if chosen is not None or self.retry_or("give_up") is not None:
            # no valid choice after the re-prompt: still a callback request, at the policy's gap
            self.ivr.choice, self.ivr.callback_slot = "callback_requested", chosen
            return self.hang_up(self.text("callback", slot=chosen or 0))
        self.gather("slot", self.text("slot", slots=slots), lead=self.text("reprompt"))
        return str(self.twiml)

    def on_answer(self, q: Question, digits: str) -> str:
        value = read_keys(q.kind, digits)
        if value is not None:
            progress.record_answer(self.s, self.response(), q, value, raw=digits, now=self.now)
            return self.next_question(q.id)
        if self.retry_or("skip") is not None:
            return self.next_question(q.id)  # left unanswered (R5)
        return self.ask(q, lead=self.text("reprompt"))


def spoken_question(q: Question, lang: str) -> str:
    """The question as a complete sentence, then how to answer it on the keypad (R5):
    "请您为本次服务的总体满意度打分，0分为非常不满意，10分为非常满意，输入后请按井号键。"."""
    question = q.ask(lang)
    if lang != "en" and q.kind == "scale10":
        question = question.rstrip("。")  # the Chinese template goes on: "，0分为非常不满意……"
    elif lang == "en" and not question.endswith(("?", ".", "!")):
        question += "."
    return render(f"ivr_question_{q.kind}.txt.j2", lang, question=question)


def read_keys(kind: str, digits: str) -> str | None:
    """Keypad input per R5: 0-10 (``#``-terminated), 1 = yes, 2 = no; None when not valid."""
    d = digits.strip().rstrip("#")
    if kind == "scale10":
        return str(int(d)) if d.isdigit() and int(d) <= 10 else None
    if kind == "yesno":
        return {"1": "yes", "2": "no"}.get(d)
    return None


def _attempt(session: Session, attempt_id: int, call_sid: str) -> ContactAttempt | None:
    """The call attempt a request is about; its SID must match (a URL cannot be replayed elsewhere)."""
    a = session.get(ContactAttempt, attempt_id)
    if a is None or a.channel != "call" or (a.provider_id and a.provider_id != call_sid):
        return None
    return a


def answer_call(session: Session, settings: Settings, attempt_id: int, params: dict[str, str],
                now: datetime) -> str:
    """TwiML when the customer picks up: the store's name and whether it speaks to the customer (or
    hang up on a machine)."""
    a = _attempt(session, attempt_id, params.get("CallSid", ""))
    if a is None or (params.get("AnsweredBy") or "").startswith(MACHINE_PREFIXES):
        twiml = VoiceResponse()
        twiml.hangup()
        return str(twiml)
    turn = IvrTurn(session, settings, a, params.get("CallSid", ""), now)
    turn.ivr.step, turn.ivr.reprompts = "identity", 0
    turn.gather("identity", turn.identity_prompt())
    return str(turn.twiml)


def gather(session: Session, settings: Settings, attempt_id: int, step: str, params: dict[str, str],
           now: datetime) -> str:
    """TwiML answering one ``<Gather>`` result."""
    a = _attempt(session, attempt_id, params.get("CallSid", ""))
    if a is None:
        twiml = VoiceResponse()
        twiml.hangup()
        return str(twiml)
    turn = IvrTurn(session, settings, a, params.get("CallSid", ""), now)
    return turn.on_digits(step, params.get("Digits", ""))
