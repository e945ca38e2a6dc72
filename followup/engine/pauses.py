"""Channels paused for a store because the provider said the account or configuration is wrong
(RULES R3, CONTRACT §8 ``channel.paused`` / ``channel.resumed``).

A channel raises :class:`~followup.channels.base.AccountError` (authentication, suspension,
caller ID or sender not allowed, geographic permission, balance …). The dispatcher then puts the
contact back exactly as it was — same due time, not an attempt, no customer outcome — and
:func:`pause` records one open pause for (store, channel), audited and sent as a webhook once,
however many contacts hit the error. While it is open :func:`paused_filter` keeps the
dispatcher's claim off that store's rows of that channel: they wait, in their order. An
administrator resumes it (panel button or ``followup channels resume``) with :func:`resume`:
the waiting contacts go out in due order on the next tick. A call whose case's deadline passed
while it waited is not placed late: it is cancelled (reason ``channel_paused``) and the case's
fallback starts, counted ``breached`` / ``system_delay`` (R8) like a provider outage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from followup import audit
from followup.engine.staff_calls import staff_case
from followup.models import ChannelPause, ContactAttempt, FollowupCase, Store
from followup.privacy import mask_in_text
from followup.rules.three_day_rule import CHANNEL_PAUSED
from followup.webhooks.outbox import emit

#: the channels that can be paused (letters go out in the store's own batch)
PAUSABLE = ("call", "sms")


class PauseError(ValueError):
    """A resume that cannot be done (unknown store or channel, nothing paused): said plainly."""


def open_pauses(session: Session, store_codes: Sequence[str] | None = None) -> list[ChannelPause]:
    """The pauses still open (of ``store_codes``, or all), oldest first."""
    q = select(ChannelPause).where(ChannelPause.resumed_at.is_(None))
    if store_codes is not None:
        q = q.where(ChannelPause.store_code.in_(sorted(store_codes)))
    return list(session.scalars(q.order_by(ChannelPause.paused_at, ChannelPause.id)))


def paused_pairs(session: Session) -> set[tuple[str, str]]:
    """``{(store_code, channel)}`` of every open pause."""
    rows = session.execute(select(ChannelPause.store_code, ChannelPause.channel)
                           .where(ChannelPause.resumed_at.is_(None)))
    return {(store, channel) for store, channel in rows}


def paused_filter(pairs: set[tuple[str, str]]) -> ColumnElement[bool] | None:
    """For the dispatcher's claim: the rows it may take (none of a paused store's channel), or
    None when nothing is paused."""
    if not pairs:
        return None
    held = [and_(ContactAttempt.channel == channel, staff_case({s for s, c in pairs if c == channel}))
            for channel in sorted({c for _, c in pairs})]
    return not_(or_(*held))


def pause(session: Session, store_code: str, store_id: int, channel: str, code: str | None, message: str,
          now: datetime) -> bool:
    """Open the pause of (store, channel) unless it is open already; True when this call opened it
    (then audited ``channel.paused`` and sent as the webhook). The caller commits."""
    text = mask_in_text(message)[:300]
    try:
        with session.begin_nested():  # another worker may pause it at the same moment
            if session.scalar(select(ChannelPause.id).where(ChannelPause.store_code == store_code,
                                                            ChannelPause.channel == channel,
                                                            ChannelPause.resumed_at.is_(None))) is not None:
                return False
            session.add(ChannelPause(store_code=store_code, channel=channel, paused_at=now, code=code, message=text))
            session.flush()
    except IntegrityError:
        return False
    audit.record(session, "system", "channel.paused", at=now, store_id=store_id, channel=channel, code=code,
                 message=text)
    emit(session, "channel.paused", {"store_code": store_code, "channel": channel, "code": code, "message": text},
         at=now)
    return True


def resume(session: Session, store_code: str, channel: str, actor: str, now: datetime) -> ChannelPause:
    """Close the open pause of (store, channel): audited ``channel.resumed`` and sent as the webhook.

    The waiting contacts go out from the next tick in due order; a call whose case's deadline
    passed meanwhile (and whose rule is not met) is cancelled and its case planned at once, so the
    fallback starts now (R3/R8). Raises :class:`PauseError` when there is nothing to resume.
    The caller commits."""
    if channel not in PAUSABLE:
        raise PauseError(f"unknown channel {channel!r}: call or sms")
    store_id = session.scalar(select(Store.id).where(Store.code == store_code))
    if store_id is None:
        raise PauseError(f"no store {store_code}")
    row = session.scalar(select(ChannelPause).where(ChannelPause.store_code == store_code,
                                                    ChannelPause.channel == channel,
                                                    ChannelPause.resumed_at.is_(None)).with_for_update())
    if row is None:
        raise PauseError(f"the {channel} channel of store {store_code} is not paused")
    row.resumed_at, row.resumed_by = now, actor
    late = _calls_past_deadline(session, store_id, now) if channel == "call" else 0
    audit.record(session, actor, "channel.resumed", at=now, store_id=store_id, channel=channel,
                 paused_at=row.paused_at.isoformat(), code=row.code, past_deadline=late)
    emit(session, "channel.resumed", {"store_code": store_code, "channel": channel, "code": row.code,
                                      "paused_at": row.paused_at.isoformat()}, at=now)
    return row


def _calls_past_deadline(session: Session, store_id: int, now: datetime) -> int:
    """Cancel the waiting calls of the store whose case's deadline passed while paused (rule not
    met): the planner starts their fallback at once. How many."""
    rows = session.execute(
        select(ContactAttempt, FollowupCase)
        .join(FollowupCase, FollowupCase.id == ContactAttempt.case_id)
        .where(FollowupCase.store_id == store_id, ContactAttempt.channel == "call",
               ContactAttempt.status == "planned", FollowupCase.deadline_at <= now,
               FollowupCase.three_day_rule != "met", FollowupCase.state != "closed")
    ).all()
    for a, case in rows:
        a.status, a.reason = "cancelled", CHANNEL_PAUSED
        case.next_check_at = now
    return len(rows)
