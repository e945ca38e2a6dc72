"""Chinese strings of the complaints pages: English message id -> zh-CN text."""

from __future__ import annotations

ZH: dict[str, str] = {}
