"""Dispatching: claim due contacts, write them as ``dispatching``, send, record the result.

Write before you send: the claimed row is committed as ``dispatching`` before the provider is
called, so a crash in between leaves a row a reconciler can resolve instead of a second call.
The claimed rows' cases, visits and customers are read together (one query per table), and
their three-day rules decided together once the rows are sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from followup.channels.base import (
    AccountError,
    Channel,
    Contact,
    GroupRecorded,
    Paced,
    PermanentError,
    TransientError,
)
from followup.engine.leases import lease_until
from followup.engine.loading import CaseParts, load_cases_of
from followup.engine.pauses import pause, paused_filter, paused_pairs
from followup.engine.planner import refresh_rules
from followup.engine.recording import SURVEY_SMS_KINDS, finish_refused, maker_of, record_sent
from followup.engine.staff_calls import left_to_staff
from followup.id_sets import among
from followup.messages import render, sms_text
from followup.models import ContactAttempt, Customer, FollowupCase, Visit
from followup.rules.calendar import (
    in_call_window,
    in_sms_hours,
    next_call_moment,
    next_call_opening,
    next_sms_moment,
    next_sms_opening,
)
from followup.rules.three_day_rule import MISSED_WINDOW, PROVIDER_OUTAGE
from followup.settings import Settings, StoreSettings
from followup.surveys import sms_survey
from followup.webhooks.outbox import emit

#: the most one dispatch pass waits for pacing slots in total (keeps a pass inside its lease)
PACING_BUDGET = 60.0
#: claimed rows recorded per commit for a channel whose results may be committed in groups
GROUP = 250

SERVICE_LABEL = {"maintenance": "保养", "repair": "维修", "warranty": "保修", "insurance": "事故维修",
                 "quick": "快修", "internal": "内部维修"}


@dataclass
class DispatchCounts:
    due: int = 0
    dispatched: int = 0
    retried: int = 0
    fallbacks: int = 0
    rescheduled: int = 0
    errors: int = 0
    #: rows left for the next tick because the calls/SMS-per-second limit was reached
    paced: int = 0
    pacing_waited: float = 0.0
    #: (store, channel) pauses this pass opened on an account error (R3)
    paused_channels: int = 0
    worker: str = field(default_factory=lambda: f"w-{uuid.uuid4().hex[:8]}")


def claim(sessions: sessionmaker[Session], now: datetime, worker: str, limit: int, *, lease: timedelta,
          staff_stores: Collection[str] = ()) -> list[int]:
    """Mark up to ``limit`` due rows ``dispatching`` for this worker, leased for ``lease``, and commit; their ids.

    The calls of ``staff_stores`` (``calls_by = staff``) are never taken: they wait on the worklist;
    nor are the rows of a channel paused for their store (R3): they wait for the resume, in order."""
    with sessions() as s:
        held = paused_filter(paused_pairs(s))
        ids = list(s.scalars(
            select(ContactAttempt.id)
            .where(ContactAttempt.status == "planned", ContactAttempt.due_at <= now,
                   *([left_to_staff(staff_stores)] if staff_stores else []),
                   *([held] if held is not None else []))
            .order_by(ContactAttempt.due_at, ContactAttempt.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if ids:  # one UPDATE for the batch: the rows are ids here, never loaded as objects
            until = lease_until(lease)  # wall clock: a lease is about the worker being alive
            s.execute(update(ContactAttempt).where(among(s, ContactAttempt.id, ids))
                      .values(status="dispatching", claimed_by=worker, lease_until=until)
                      .execution_options(synchronize_session=False))
        s.commit()
        return ids


def _sms_body(store: StoreSettings, kind: str, customer: Customer, visit: Visit, settings: Settings, code: str,
              question: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The SMS text (signature and opt-out hint included) and the variables it was rendered from
    (a template provider such as Alibaba Cloud sends those instead of the text, CONTRACT §10)."""
    lang = customer.language
    local = visit.delivered_at.astimezone(store.timezone)
    # R7's kinds: a re-survey's reminder re-asks like a reminder; "progress" tells the complaint's progress
    name = {"reminder": "sms_reminder.txt.j2", "resurvey": "sms_resurvey.txt.j2",
            "re_remind": "sms_reminder.txt.j2", "progress": "sms_progress.txt.j2"}.get(kind, "sms_survey.txt.j2")
    variables = {
        "customer_name": customer.name, "store_phone": store.phone,
        "store_name": store.name if lang == "zh" else store.name_en,
        "visit_date": f"{local.month}月{local.day}日" if lang == "zh" else f"{local:%d %b}",
        "service_label": SERVICE_LABEL.get(visit.service_type, "维修") if lang == "zh" else visit.service_type,
        "survey_url": f"{settings.public_base_url}/s/{code}",
        **(question or {}),
    }
    return sms_text(store.sms_signature, render(name, lang, **variables), lang), variables


def _still_in_window(a: ContactAttempt, store: StoreSettings, now: datetime) -> datetime | None:
    """None when the row may go now; else the next moment it may (a late tick, an outage)."""
    # R2: calls and survey SMS wait out closed days (holiday blocks, the store's own); other SMS only the hours
    survey = a.kind in SURVEY_SMS_KINDS
    if a.channel == "call" and not in_call_window(now, store.policy, store.timezone):
        return next_call_moment(now, store.policy, store.timezone)
    if a.channel == "sms" and not in_sms_hours(now, store.policy, store.timezone, survey=survey):
        return next_sms_moment(now, store.policy, store.timezone, survey=survey)
    return None


def rows_per_commit(channel: Channel) -> int:
    """How many claimed rows one transaction sends and records.

    One for a real provider: each result (the call SID above all, which status callbacks look
    for) is committed before the next call goes out, and a crash leaves one row for
    :func:`~followup.engine.leases.reclaim_expired` to resolve. A channel that is
    :class:`~followup.channels.base.GroupRecorded` with ``results_in_groups`` (the sandbox, whose
    sends reach nobody; the benchmark's recorder, whose log is looked up after a crash) has
    ``GROUP`` rows recorded per commit: a crash before that
    commit leaves the rows ``dispatching`` with their lease, resolved by the same reclaim as one
    row would be (asked of the channel, or planned again for one that sent nothing outside).
    """
    return GROUP if isinstance(channel, GroupRecorded) and channel.results_in_groups else 1


def _load_claimed(session: Session, attempt_ids: Sequence[int], worker: str) -> list[tuple[ContactAttempt, CaseParts]]:
    """The rows still claimed by ``worker``, in claim order, locked while they are sent, with their
    case, visit, customer and store: one query per table however many rows."""
    # Locked while sent: a worker that finds its lease taken over leaves the row alone.
    locked = {a.id: a for a in session.scalars(
        select(ContactAttempt).where(among(session, ContactAttempt.id, attempt_ids)).order_by(ContactAttempt.id)
        .with_for_update())}
    rows = [a for a in (locked.get(i) for i in attempt_ids)
            if a is not None and a.status == "dispatching" and a.claimed_by == worker]
    if not rows:
        return []
    parts = load_cases_of(session, rows)
    return [(a, parts[a.case_id]) for a in rows]


def dispatch_rows(session: Session, attempt_ids: Sequence[int], channel: Channel, settings: Settings, now: datetime,
                  counts: DispatchCounts) -> None:
    """Send claimed rows one after the other and record what happened; the caller commits."""
    in_hand: dict[int, FollowupCase] = {}  # cases sent to whose three-day rule is still to decide
    claimed = _load_claimed(session, attempt_ids, counts.worker)
    paused = paused_pairs(session) if claimed else set()  # paused since the claim (another worker, this pass)
    for a, parts in claimed:
        if parts.case.id in in_hand:  # a second row of one case: its rule first, as one row at a time would
            refresh_rules(session, list(in_hand.values()), settings, now)
            in_hand.clear()
        if (parts.store_code, a.channel) in paused:
            _put_back(a)  # R3: waits for the resume, as it was
            continue
        if _dispatch_claimed(session, a, parts, channel, settings, now, counts, paused):
            in_hand[parts.case.id] = parts.case
    # The rule is decided for all the group's cases at once (a customer answered, a fallback started).
    refresh_rules(session, list(in_hand.values()), settings, now)


def dispatch_one(session: Session, attempt_id: int, channel: Channel, settings: Settings, now: datetime,
                 counts: DispatchCounts) -> None:
    """Send one claimed row and record what happened; the caller commits."""
    dispatch_rows(session, [attempt_id], channel, settings, now, counts)


def _put_back(a: ContactAttempt) -> None:
    """The claimed row back as it was before the claim: planned, same due time, nothing counted."""
    a.status, a.claimed_by, a.lease_until = "planned", None, None


def _dispatch_claimed(session: Session, a: ContactAttempt, parts: CaseParts, channel: Channel, settings: Settings,
                      now: datetime, counts: DispatchCounts, paused: set[tuple[str, str]]) -> bool:
    """Send one loaded row and record the result; True when it went out (its rule is then refreshed)."""
    case, visit, customer, code = parts.case, parts.visit, parts.customer, parts.store_code
    store = settings.stores[code]
    if case.state == "closed":
        a.status, a.reason = "cancelled", "case_closed"
        return False
    later = _still_in_window(a, store, now)
    if later is not None:
        # Moved rows keep the order they fell due in (claims go by due_at): the longer one waited,
        # the smaller its sub-second offset past the window's opening.
        waited = int((now - a.due_at).total_seconds()) if a.due_at else 0
        later += timedelta(microseconds=max(0, 999_999 - waited))
        a.status, a.due_at, a.claimed_by, a.lease_until = "planned", later, None, None
        if a.reason != PROVIDER_OUTAGE:  # an outage's row keeps saying so (R8 blames it either way)
            a.reason = MISSED_WINDOW  # its original due time is gone: R8 must still blame the delay on us
        counts.rescheduled += 1
        return False
    question = None
    if a.channel == "sms" and a.kind in SURVEY_SMS_KINDS:
        question = sms_survey.question_to_send(session, case, a.kind, settings)  # the first SMS asks it (R5)
    q_ctx = sms_survey.question_context(question, customer.language) if question else None
    body, variables = (_sms_body(store, a.kind, customer, visit, settings, case.reply_code, q_ctx)
                       if a.channel == "sms" else (None, {}))
    contact = Contact(a.id, case.id, a.channel, a.kind, a.destination, customer.language, code, body, variables)
    ref = {"store_code": code, "ro_number": visit.ro_number}
    if isinstance(channel, Paced):  # calls/SMS per second (CONTRACT §5)
        ok, paced_for = channel.admit(contact, session.get_bind(), PACING_BUDGET - counts.pacing_waited)
        counts.pacing_waited += paced_for
        if not ok:
            a.status, a.claimed_by, a.lease_until = "planned", None, None  # due already: the next tick
            counts.paced += 1
            return False
    try:
        sent = channel.send(contact, now)
    except TransientError as exc:
        _transient(session, a, case, store, now, exc, counts)
        return False
    except PermanentError as exc:
        _permanent(session, a, case, customer, settings, now, exc, ref)
        counts.dispatched += 1
        return False
    except AccountError as exc:  # R3: our account or configuration, never the customer's attempt
        _put_back(a)
        paused.add((code, a.channel))
        if pause(session, code, case.store_id, a.channel, exc.code, str(exc), now):
            counts.paused_channels += 1
        return False
    counts.dispatched += 1
    first_fallback = a.channel != "call" and a.kind == "survey" and case.state in ("scheduled", "calling")
    record_sent(session, a, case, customer, sent, settings, now, ref, maker_of(channel, contact), body)
    if question is not None and not sent.answers and case.state != "closed":
        sms_survey.begin(session, case, a.kind, question, settings, now)
    if first_fallback:
        counts.fallbacks += 1
        emit(session, "case.fallback", {**ref, "channel": a.channel}, at=now, case_id=case.id)
    return True


def _transient(session: Session, a: ContactAttempt, case: FollowupCase, store: StoreSettings, now: datetime,
               exc: TransientError, counts: DispatchCounts) -> None:
    """R3: a provider error is not an attempt; retry with backoff inside the window.

    After ``transient_give_up`` (an hour) of failures the retries stop for this window: the case
    is flagged for staff and the same row is planned again at the next window opening (calls:
    calling windows; SMS: SMS hours), with a fresh hour of retries there. A call that could only
    go at or after the deadline of a case whose rule is not met is cancelled instead and the
    fallback starts (R4); the case then breaches with ``system_delay`` (R8)."""
    a.retries += 1
    a.first_error_at = a.first_error_at or now
    a.error_code = exc.code
    a.claimed_by = a.lease_until = None
    policy = store.policy
    survey = a.kind in SURVEY_SMS_KINDS
    gave_up = now - a.first_error_at >= policy.transient_give_up
    if gave_up:
        case.flagged, case.flag_reason = True, f"provider errors for {policy.transient_give_up}: {exc}"[:200]
        if a.channel == "call":
            at = next_call_opening(now, policy, store.timezone)
        elif a.channel == "sms":
            at = next_sms_opening(now, policy, store.timezone, survey=survey)
        else:  # letters have no window: the next day
            at = now + timedelta(days=1)
    else:
        backoff = policy.transient_retry_first * (2 ** (a.retries - 1))
        if exc.retry_after:
            backoff = max(backoff, timedelta(seconds=exc.retry_after))
        at = now + backoff
        if a.channel == "call":
            at = next_call_moment(at, policy, store.timezone)
        elif a.channel == "sms":
            at = next_sms_moment(at, policy, store.timezone, survey=survey)
    if a.channel == "call" and case.three_day_rule != "met" and at >= case.deadline_at:
        # the outage outlasted the deadline: no call after it, the fallback starts now (R3, R4)
        a.status, a.reason = "cancelled", PROVIDER_OUTAGE
        case.flagged, case.flag_reason = True, f"provider errors past the deadline: {exc}"[:200]
        case.next_check_at = now
        counts.errors += 1
        return
    a.status, a.due_at = "planned", at
    if gave_up:  # the next window gets its own hour of retries; still not an attempt
        a.reason, a.first_error_at, a.retries = PROVIDER_OUTAGE, None, 0
        counts.errors += 1
    else:
        counts.retried += 1


def _permanent(session: Session, a: ContactAttempt, case: FollowupCase, customer: Customer, settings: Settings,
               now: datetime, exc: PermanentError, ref: dict[str, str]) -> None:
    a.started_at, a.ended_at, a.error_code = now, now, exc.code
    a.claimed_by = a.lease_until = None
    finish_refused(session, a, case, customer, exc.outcome, settings, now, ref)  # recorded and audited (R10)
