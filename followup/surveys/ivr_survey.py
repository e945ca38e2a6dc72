"""The IVR survey (R3, R5): TwiML for each step of an automated survey call.

Steps: ``intro`` (1 start, 9 callback, 0 decline) -> one ``<Gather>`` per scored question
(0-10 with ``#``, or 1 yes / 2 no) -> thanks. 10 s timeout and one re-prompt per step; then a
question is left unanswered. Every keypress is stored as it arrives (:class:`IvrCall` and the
survey answers), so a dropped call keeps what was said. The call's outcome is decided when its
final status callback arrives (:mod:`.provider_status`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from followup.engine.dispatch import SERVICE_LABEL
from followup.messages import render
from followup.models import ContactAttempt, Customer, FollowupCase, IvrCall, Store, SurveyResponse, Visit
from followup.settings import Question, Settings
from followup.surveys import progress

#: Twilio's Mandarin text-to-speech voice (Amazon Polly, cmn-CN) and its English counterpart
VOICES = {"zh": ("Polly.Zhiyu", "cmn-CN"), "en": ("Polly.Joanna", "en-US")}
GATHER_TIMEOUT = 10
MAX_REPROMPTS = 1
IVR_KINDS = ("scale10", "yesno")
MACHINE_PREFIXES = ("machine", "fax")


class IvrTurn:
    """One request of one call: the call's rows, its language, and the TwiML being built."""

    def __init__(self, session: Session, settings: Settings, attempt: ContactAttempt, call_sid: str,
                 now: datetime) -> None:
        self.s, self.settings, self.a, self.now = session, settings, attempt, now
        self.case = session.get_one(FollowupCase, attempt.case_id)
        self.visit = session.get_one(Visit, self.case.visit_id)
        customer = session.get_one(Customer, self.visit.customer_id)
        self.lang = customer.language if customer.language in VOICES else "zh"
        self.code = session.scalar(select(Store.code).where(Store.id == self.case.store_id)) or ""
        ivr = session.scalar(select(IvrCall).where(IvrCall.call_sid == call_sid))
        if ivr is None:
            ivr = IvrCall(call_sid=call_sid, attempt_id=attempt.id, step="intro", reprompts=0, updated_at=now)
            session.add(ivr)
            session.flush()
        self.ivr = ivr
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

    def hang_up(self, text: str) -> str:
        self.say(text)
        self.twiml.hangup()
        self.ivr.step = "done"
        return str(self.twiml)

    # -- steps ------------------------------------------------------------------------------
    def intro_prompt(self) -> str:
        local = self.visit.delivered_at.astimezone(self.settings.stores[self.code].timezone)
        store = self.settings.stores[self.code]
        return self.text(
            "intro", store_name=store.name if self.lang == "zh" else store.name_en,
            visit_date=f"{local.month}月{local.day}日" if self.lang == "zh" else f"{local:%d %B}",
            service_label=SERVICE_LABEL.get(self.visit.service_type, "维修") if self.lang == "zh"
            else self.visit.service_type,
        )

    def ask(self, q: Question, lead: str | None = None) -> str:
        self.ivr.step = q.id
        question = q.zh if self.lang == "zh" else q.en
        question = f"请问{question}？" if self.lang == "zh" else f"{question}?"
        self.gather(q.id, self.text(f"question_{q.kind}", question=question), hash_terminated=q.kind == "scale10",
                    lead=lead)
        return str(self.twiml)

    def next_question(self, after: str | None, lead: str | None = None) -> str:
        resp = self.response()
        answered = set(progress.stored_answers(self.s, resp))
        q = progress.next_question(self.settings, after, answered=answered, kinds=IVR_KINDS)
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
            first = progress.next_question(self.settings, None, answered=set(), kinds=IVR_KINDS)
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
        if step == "done":
            return self.hang_up(self.text("thanks"))
        if step == "intro":
            return self.on_intro(digits)
        if step == "slot":
            return self.on_slot(digits)
        return self.on_answer(self.settings.survey.question(step), digits)

    def on_intro(self, digits: str) -> str:
        if digits == "1":
            return self.next_question(None)
        if digits == "9":
            self.ivr.step, self.ivr.reprompts = "slot", 0
            self.gather("slot", self.text("slot"))
            return str(self.twiml)
        if digits == "0":
            self.ivr.choice = "declined"
            return self.hang_up(self.text("declined"))
        if self.retry_or("give_up") is not None:
            return self.hang_up(self.text("goodbye"))
        self.gather("intro", self.intro_prompt(), lead=self.text("reprompt"))
        return str(self.twiml)

    def on_slot(self, digits: str) -> str:
        if digits in ("1", "2", "3") or self.retry_or("give_up") is not None:
            self.ivr.choice = "callback_requested"
            self.ivr.callback_slot = int(digits) if digits in ("1", "2", "3") else None
            return self.hang_up(self.text("callback", slot=self.ivr.callback_slot or 0))
        self.gather("slot", self.text("slot"), lead=self.text("reprompt"))
        return str(self.twiml)

    def on_answer(self, q: Question, digits: str) -> str:
        value = read_keys(q.kind, digits)
        if value is not None:
            progress.record_answer(self.s, self.response(), q, value, raw=digits, now=self.now)
            return self.next_question(q.id)
        if self.retry_or("skip") is not None:
            return self.next_question(q.id)  # left unanswered (R5)
        return self.ask(q, lead=self.text("reprompt"))


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
    """TwiML when the customer picks up: the greeting and the intro choice (or hang up on a machine)."""
    a = _attempt(session, attempt_id, params.get("CallSid", ""))
    if a is None or (params.get("AnsweredBy") or "").startswith(MACHINE_PREFIXES):
        twiml = VoiceResponse()
        twiml.hangup()
        return str(twiml)
    turn = IvrTurn(session, settings, a, params.get("CallSid", ""), now)
    turn.ivr.step, turn.ivr.reprompts = "intro", 0
    turn.gather("intro", turn.intro_prompt())
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
