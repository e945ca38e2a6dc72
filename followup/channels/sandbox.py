"""The sandbox channel (CONTRACT §7): sends nothing outside, records everything.

Its behaviour decides what the simulated customer does:

* :func:`silent` — nobody ever answers a call, SMS are delivered and never answered, letters are
  queued. Tests script their own behaviour the same way.
* :class:`DemoCustomers` — `make run`'s demo: seeded, realistic answers so the dashboards move
  (about 55% of calls answered, the rest busy / no answer / voicemail; some SMS answered).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from followup.channels.base import Contact, GroupRecorded, Sent

Behaviour = Callable[[Contact, datetime], Sent]


def silent(contact: Contact, now: datetime) -> Sent:
    """Nobody answers; SMS delivered; letters queued."""
    pid = f"SB{contact.channel[0].upper()}{contact.attempt_id:08d}"
    if contact.channel == "call":
        return Sent(pid, outcome="no_answer", ended_at=now)
    if contact.channel == "sms":
        return Sent(pid, outcome="delivered", ended_at=now)
    return Sent(pid, outcome="queued")


class DemoCustomers:
    """Simulated customers with seeded probabilities (one RNG per attempt: reproducible)."""

    CALL_OUTCOMES = (("answered", 0.55), ("no_answer", 0.20), ("busy", 0.13), ("voicemail", 0.09), ("hung_up", 0.03))
    SMS_REPLY_RATE = 0.45
    SMS_UNDELIVERED_RATE = 0.04

    def __init__(self, seed: int = 2026) -> None:
        self.seed = seed

    def _answers(self, rng: random.Random) -> dict[str, str]:
        overall = rng.choices(range(11), weights=[1, 0, 0, 1, 1, 2, 3, 6, 12, 20, 30])[0]
        return {
            "overall": str(overall),
            "fixed_right": "yes" if rng.random() < 0.9 else "no",
            "on_time": "yes" if rng.random() < 0.85 else "no",
            "advisor": str(min(10, max(0, overall + rng.choice((-1, 0, 0, 1))))),
            "comment": rng.choice(("", "", "服务很好，谢谢", "等待时间有点长", "顾问很专业", "洗车不太干净")),
        }

    def __call__(self, contact: Contact, now: datetime) -> Sent:
        rng = random.Random(f"{self.seed}:{contact.attempt_id}")
        pid = f"SB{contact.channel[0].upper()}{contact.attempt_id:08d}"
        if contact.channel == "call":
            names = [name for name, _ in self.CALL_OUTCOMES]
            outcome = rng.choices(names, weights=[w for _, w in self.CALL_OUTCOMES])[0]
            answers = self._answers(rng) if outcome == "answered" else {}
            if outcome == "answered" and rng.random() < 0.05:
                outcome, answers = "declined", {}
            return Sent(pid, outcome=outcome, ended_at=now, answers=answers)
        if contact.channel == "sms":
            if rng.random() < self.SMS_UNDELIVERED_RATE:
                return Sent(pid, outcome="undelivered", ended_at=now)
            replied = rng.random() < self.SMS_REPLY_RATE
            return Sent(pid, outcome="delivered", ended_at=now, answers=self._answers(rng) if replied else {})
        return Sent(pid, outcome="queued")


class SandboxChannel(GroupRecorded):
    """Records every contact in :attr:`sent`; the behaviour plays the customer."""

    name = "sandbox"
    #: its sends reach nobody: the dispatcher may record many per commit (a crash before the commit
    #: plans them again, and the simulated customer does the same again)
    results_in_groups = True

    def __init__(self, behaviour: Behaviour = silent) -> None:
        self.behaviour = behaviour
        self.sent: list[tuple[datetime, Contact]] = []

    def send(self, contact: Contact, now: datetime) -> Sent:
        self.sent.append((now, contact))
        return self.behaviour(contact, now)
