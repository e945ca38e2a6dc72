"""Customer-facing messages rendered from ``templates/messages/<lang>/`` (strict Jinja2).

Every SMS starts with the store's signature 【店名】 and ends with the opt-out hint (R6); the
wrapper adds both so that no template can forget them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from followup.settings import ROOT

TEMPLATES = ROOT / "templates" / "messages"
OPT_OUT_HINT = {"zh": "回T退订", "en": "回T退订"}


@lru_cache(maxsize=1)
def environment(root: Path = TEMPLATES) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(root)), undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def render(name: str, lang: str, **context: Any) -> str:
    """Render ``<lang>/<name>`` (falls back to zh for an unknown language)."""
    lang = lang if lang in ("zh", "en") else "zh"
    return environment().get_template(f"{lang}/{name}").render(**context).strip()


def sms_text(signature: str, body: str, lang: str = "zh") -> str:
    """【signature】body + opt-out hint."""
    return f"【{signature}】{body}{OPT_OUT_HINT.get(lang, OPT_OUT_HINT['zh'])}"


def segments(text: str) -> int:
    """SMS segments: GSM-7 text 160/153 per part, anything else UCS-2 70/67 per part."""
    try:
        text.encode("ascii")
        single, part = 160, 153
    except UnicodeEncodeError:
        single, part = 70, 67
    n = len(text.encode("utf-16-le")) // 2  # UCS-2 code units: an emoji counts twice
    return 1 if n <= single else -(-n // part)
