"""Previews of the customer SMS templates with sample data, for the settings page.

Every ``templates/messages/<lang>/sms_*.txt.j2`` found on disk is shown, so a template added later
appears without code changes. A template that needs a variable the sample data lacks is shown with
a "needs variables" note instead of failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, meta

from followup.messages import OPT_OUT_CONFIRMATION, TEMPLATES, environment, render, segments, sms_text
from followup.settings import Settings

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Preview:
    name: str
    lang: str
    #: the whole SMS as sent (signature and opt-out hint included, R6); None when it could not render
    text: str | None
    segments: int
    #: variables the template uses that the sample data does not have
    missing: tuple[str, ...] = ()
    error: str | None = None


def sample_context(settings: Settings, lang: str) -> dict[str, Any]:
    """Made-up values for every variable the SMS templates are known to use (and some more)."""
    store = next(iter(settings.stores.values()))
    question = settings.survey.questions[0]
    zh = lang == "zh"
    return {
        "customer_name": "张伟" if zh else "Mr Zhang",
        "visit_date": "11月19日" if zh else "19 Nov",
        "service_label": "保养" if zh else "maintenance",
        "survey_url": f"{settings.public_base_url}/s/AB23CD45EF67",
        "reply_code": "AB23-CD45-EF67",
        "code": "AB23-CD45-EF67",
        "example": "AB23-CD45-EF67 9 是 是 9" if zh else "AB23-CD45-EF67 9 YES YES 9",  # a reply by code (R4.4)
        "store_name": store.name if zh else store.name_en,
        "store_phone": store.phone,
        "store_address": store.address,
        "question": question.text(lang) + ("？" if zh else "? "),
        "hint": "请回复0-10的数字（10分为非常满意）" if zh else "Reply with a number from 0 to 10.",
        "advisor_name": "王强" if zh else "Wang Qiang",
        "plate": "粤B12345",
        "ro_number": "RO-2026-0001",
        "score": 92.0,
        "callback_time": "11月20日 15:00" if zh else "20 Nov 15:00",
        "level": 1,
    }


def _variables(path: str) -> set[str]:
    env = environment()
    assert env.loader is not None
    source = env.loader.get_source(env, path)[0]
    return set(meta.find_undeclared_variables(env.parse(source)))


def template_names(root: Path | None = None) -> list[str]:
    """Every SMS template name present in any language, sorted."""
    root = root or TEMPLATES
    return sorted({p.name for lang in LANGS for p in (root / lang).glob("sms_*.txt.j2")})


def previews(settings: Settings) -> list[Preview]:
    store = next(iter(settings.stores.values()))
    out = []
    for name in template_names():
        for lang in LANGS:
            if not (TEMPLATES / lang / name).is_file():
                continue
            context = sample_context(settings, lang)
            try:
                missing = tuple(sorted(_variables(f"{lang}/{name}") - set(context)))
                if missing:
                    out.append(Preview(name, lang, None, 0, missing))
                    continue
                text = sms_text(store.sms_signature, render(name, lang, **context), lang,
                                opt_out_hint=name != OPT_OUT_CONFIRMATION)  # R6
            except TemplateError as exc:
                out.append(Preview(name, lang, None, 0, error=str(exc)[:200]))
                continue
            out.append(Preview(name, lang, text, segments(text)))
    return out
