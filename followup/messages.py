"""Customer-facing messages rendered from ``templates/messages/<lang>/`` (strict Jinja2).

Every SMS starts with the store's signature 【店名】 and ends with the opt-out hint (R6); the
wrapper adds both so that no template can forget them. The one exception is the confirmation of an
opt-out (:data:`OPT_OUT_CONFIRMATION`): telling someone who just opted out how to opt out is noise.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from followup.settings import ROOT

TEMPLATES = ROOT / "templates" / "messages"
OPT_OUT_HINT = {"zh": "回T退订", "en": "回T退订"}
#: the template of the one SMS sent without the opt-out hint (R6)
OPT_OUT_CONFIRMATION = "sms_optout.txt.j2"


@lru_cache(maxsize=1)
def environment(root: Path = TEMPLATES) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(root)), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def render(name: str, lang: str, **context: Any) -> str:
    """Render ``<lang>/<name>`` (falls back to zh for an unknown language)."""
    lang = lang if lang in ("zh", "en") else "zh"
    return environment().get_template(f"{lang}/{name}").render(**context).strip()


def sms_text(signature: str, body: str, lang: str = "zh", *, opt_out_hint: bool = True) -> str:
    """【signature】body + opt-out hint (``opt_out_hint=False`` only for :data:`OPT_OUT_CONFIRMATION`)."""
    hint = OPT_OUT_HINT.get(lang, OPT_OUT_HINT["zh"]) if opt_out_hint else ""
    return f"【{signature}】{body}{hint}"


def segments(text: str) -> int:
    """SMS segments: GSM-7 text 160/153 per part, anything else UCS-2 70/67 per part."""
    try:
        text.encode("ascii")
        single, part = 160, 153
    except UnicodeEncodeError:
        single, part = 70, 67
    n = len(text.encode("utf-16-le")) // 2  # UCS-2 code units: an emoji counts twice
    return 1 if n <= single else -(-n // part)
