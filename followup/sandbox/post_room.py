"""`make run`'s post room: with simulated customers, queued letters are batched and mailed at once.

A real store builds its batch once a day and staff mark it mailed in the panel; the demo does both
on every tick so that ``letter_sent`` (and, after the demo's short reply timeout, ``unreachable``)
shows within minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from followup.letters.letter_batch import build_batch
from followup.letters.mailing import mark_mailed
from followup.models import LetterBatch
from followup.runtime import Runtime


def demo_post_room(rt: Runtime, now: datetime) -> dict[str, Any]:
    mailed = 0
    for code, store in rt.settings.stores.items():
        with rt.sessions() as s:
            build_batch(s, rt.settings, code, now.astimezone(store.timezone).date(), now=now, actor="demo")
            for batch in s.scalars(select(LetterBatch).where(LetterBatch.status != "mailed")):
                mailed += mark_mailed(s, batch, now=now, actor="demo")
            s.commit()
    return {"letters_mailed": mailed}
