"""Letters to HTML (strict Jinja2, autoescaped) and to PDF with WeasyPrint, one A4 page each.

The CSS lives inside each letter's HTML (WeasyPrint, not a browser: no CSP here). Fonts are the
system's Noto Sans / Serif CJK (``fonts-noto-cjk``), embedded in the PDF as subsets, so Chinese
never turns into boxes on a machine without them.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from followup.letters.content import Letter
from followup.letters.qr import qr_data_uri
from followup.messages import TEMPLATES
from followup.settings import Settings, StoreSettings
from followup.surveys.code_replies import example_reply

HERE = Path(__file__).resolve().parent
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


class LetterTooLong(Exception):
    """A letter did not fit on one A4 page (it is held back for staff, never printed on two)."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    """HTML templates: the letters in ``templates/messages/<lang>/`` and the label sheet here."""
    return Environment(
        loader=FileSystemLoader([str(TEMPLATES), str(HERE)]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )


def long_date(day: date, lang: str) -> str:
    """``2026年11月20日`` or ``20 November 2026``."""
    if lang == "en":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def sms_number(settings: Settings) -> str | None:
    """The number customers text their reply code to; None when SMS go nowhere (sandbox)."""
    return settings.twilio.from_number


def letter_context(letter: Letter, store: StoreSettings, settings: Settings, letter_date: date) -> dict[str, Any]:
    lang = letter.language
    return {
        "letter": letter,
        "store": store,
        "store_name": store.name_en if lang == "en" else store.name,
        "letter_date": long_date(letter_date, lang),
        "visit_date": long_date(letter.visit_date, lang),
        "questions": [
            {"id": q.id, "kind": q.kind, "text": q.text(lang), "optional": q.optional}
            for q in settings.survey.questions_for(letter.service_type)  # R5: the visit's questions
        ],
        "qr": qr_data_uri(letter.survey_url),
        "sms_number": sms_number(settings),
        # R4.4: the SMS reply the letter offers, the code followed by the answers
        # (non-breaking hyphens: the code is never split over two lines)
        "sms_example": example_reply(letter.shown_code.replace("-", "\u2011"),
                                     settings.survey.questions_for(letter.service_type), lang),
    }


def letter_html(letter: Letter, store: StoreSettings, settings: Settings, letter_date: date) -> str:
    """The letter as one self-contained HTML page (A4, CSS inside)."""
    template = environment().get_template(f"{letter.language}/letter.html.j2")
    return template.render(**letter_context(letter, store, settings, letter_date))


def labels_html(letters: list[Letter], store: StoreSettings) -> str:
    """The address label sheet: A4, 3 x 8 labels of 70 x 37 mm, in batch order."""
    return environment().get_template("labels.html.j2").render(letters=letters, store=store)


def pdf_of_pages(pages_html: list[str], *, one_page_each: bool) -> tuple[bytes, list[int]]:
    """One PDF of every document; with ``one_page_each``, the indexes of documents that overflowed
    are returned (and left out) instead of spilling onto a second page."""
    from weasyprint import HTML  # slow import: only when a batch is built

    documents = [HTML(string=html, base_url=str(HERE)).render() for html in pages_html]
    too_long = [i for i, d in enumerate(documents) if one_page_each and len(d.pages) != 1]
    kept = [d for i, d in enumerate(documents) if i not in too_long]
    if not kept:
        return b"", too_long
    pages = [p for d in kept for p in d.pages]
    return bytes(kept[0].copy(pages).write_pdf()), too_long
