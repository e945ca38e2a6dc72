"""Chinese strings of the twilio pages: English message id -> zh-CN text."""

from __future__ import annotations

ZH: dict[str, str] = {}
