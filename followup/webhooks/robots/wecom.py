"""企业微信 (WeCom) group robot: ``POST <webhook URL>`` with ``{"msgtype": "markdown", ...}``.

The URL (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``) is the robot's only
credential; there is no signature. WeCom's Markdown takes at most 4096 bytes of content.
"""

from __future__ import annotations

import json

#: WeCom's limit on ``markdown.content`` (bytes of UTF-8)
MAX_CONTENT_BYTES = 4096


def body(title: str, text: str) -> bytes:
    """The request body; the title is the message's first line (WeCom has no separate title)."""
    content = text.encode("utf-8")[:MAX_CONTENT_BYTES].decode("utf-8", "ignore")
    del title  # the text starts with it
    return json.dumps({"msgtype": "markdown", "markdown": {"content": content}},
                      ensure_ascii=False).encode("utf-8")
