"""Group robots as webhook subscribers: 企业微信 (WeCom) and 钉钉 (DingTalk).

A robot subscriber goes through the same outbox, fan-out, retry schedule, 410 handling, address
checks and delivery log as a Standard Webhooks one (:mod:`followup.webhooks.delivery`); only the
request differs: a Markdown message in the robot's own JSON shape (:mod:`.wecom`, :mod:`.dingtalk`,
text from :mod:`.text`) instead of the signed event. A robot answers HTTP 200 even when it
refuses a message, so an answer counts as delivered only when its ``errcode`` is 0; any other
(45009 rate limit, 310000 bad signature...) is a failed try, retried on the schedule.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

STANDARD, WECOM, DINGTALK = "standard", "wecom", "dingtalk"
KINDS = (STANDARD, WECOM, DINGTALK)
ROBOTS = (WECOM, DINGTALK)

#: the events a group robot is sent (everything else stays with the Standard Webhooks subscribers);
#: ``webhook.test`` is only ever queued for one subscriber by the panel's test button
ROBOT_EVENTS = frozenset({"complaint.opened", "complaint.escalated", "channel.paused", "three_day_rule.breached"})


def accepted(text: str) -> bool:
    """True when a robot's 2xx answer says it took the message (``{"errcode": 0, ...}``)."""
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("errcode") == 0


def shown_url(url: str, kind: str) -> str:
    """A robot's URL as the panel and the audit show it: its ``key`` / ``access_token`` (the robot's
    credential) cut to the last four characters. A standard subscriber's URL as it is."""
    if kind == STANDARD:
        return url
    parts = urlsplit(url)
    query = "&".join(f"{quote(k)}=…{quote(v[-4:]) if len(v) > 8 else ''}"
                     for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
