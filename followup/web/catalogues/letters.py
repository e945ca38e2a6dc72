"""Chinese strings of the letters pages: English message id -> zh-CN text."""

from __future__ import annotations

ZH: dict[str, str] = {}
