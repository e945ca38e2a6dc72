"""The panel's Chinese catalogue, one dictionary per area: English message id -> zh-CN text.

Templates call ``_("…")``; English is the message id itself. Each area keeps its own module so
that pages can be added without touching one shared file; a test checks that every string a
template asks for has a Chinese text.
"""

from __future__ import annotations

from . import complaints, letters, panel, reports, twilio, webhooks

ZH: dict[str, str] = {}
for _area in (panel, twilio, letters, complaints, reports, webhooks):
    ZH.update(_area.ZH)


def translate(message: str, lang: str) -> str:
    return ZH.get(message, message) if lang == "zh" else message
