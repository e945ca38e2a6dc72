"""What the information staff say on a worklist call (RULES R3, R5): the call script, in the
customer's language (not the panel's).

A person reads it as the IVR would say it: the greeting names the customer, the store and the car
(model and plate) and the visit; then each survey question of this visit's service type (R5) as a
complete sentence, with how a score is given; then the thanks. The wording lives in
``templates/messages/<lang>/staff_*.txt.j2`` beside the IVR's and the SMS's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from followup.cases.worklist import WorklistCall
from followup.engine.dispatch import SERVICE_LABEL
from followup.messages import render
from followup.settings import Settings

#: the visit as an English-speaking caller names it
SERVICE_LABEL_EN = {"maintenance": "maintenance", "repair": "repair", "warranty": "warranty repair",
                    "insurance": "accident repair", "quick": "quick service", "internal": "service"}
SCRIPT_LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class ScriptQuestion:
    """One question as the caller asks it, and how it is answered on the page."""

    id: str
    #: scale10 | yesno | text
    kind: str
    #: the sentence said to the customer
    say: str
    #: how to answer, said after the question ("" when the question says it)
    hint: str
    optional: bool


@dataclass(frozen=True)
class CallScript:
    """The whole script of one call, in ``language``."""

    language: str
    greeting: str
    questions: tuple[ScriptQuestion, ...]
    closing: str


def _visit_date(at: datetime, tz: ZoneInfo, lang: str) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日" if lang == "zh" else f"{local.day} {local:%B}"


def _car(call: WorklistCall, lang: str) -> str:
    """``帕萨特（粤B12345）`` / ``Passat (粤B12345)``; whichever of the two is known."""
    model, plate = (call.vehicle_model or "").strip(), (call.plate or "").strip()
    if model and plate:
        return f"{model}（{plate}）" if lang == "zh" else f"{model} ({plate})"
    return model or plate


def call_script(call: WorklistCall, settings: Settings) -> CallScript:
    """The script of ``call`` in its customer's language (Chinese unless the customer's is English)."""
    lang = call.language if call.language in SCRIPT_LANGUAGES else "zh"
    store = settings.stores[call.store_code]
    store_name = store.name if lang == "zh" else store.name_en
    service = (SERVICE_LABEL.get(call.service_type, "维修") if lang == "zh"
               else SERVICE_LABEL_EN.get(call.service_type, "service"))
    greeting = render("staff_greeting.txt.j2", lang, customer_name=call.customer_name.strip(),
                      store_name=store_name, car=_car(call, lang),
                      visit_date=_visit_date(call.delivered_at, store.timezone, lang), service_label=service)
    scale_hint = render("staff_scale_hint.txt.j2", lang)
    questions = tuple(
        ScriptQuestion(q.id, q.kind, q.ask(lang), scale_hint if q.kind == "scale10" else "", q.optional)
        for q in call.questions)
    return CallScript(lang, greeting, questions, render("staff_closing.txt.j2", lang, store_name=store_name))
