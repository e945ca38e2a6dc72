"""`followup worker`: APScheduler 3.x (one process) ticking the engine.

The scheduler holds a handful of interval jobs, never one job per customer: the work is rows
with ``due_at``, so after downtime the first ticks simply find everything that fell due
(misfires are caught up, not skipped). On SQLite only one worker may run: a second one refuses
to start (an OS file lock beside the database, released even if the first one is killed).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.engine import make_url

from followup.channels.base import Channel
from followup.channels.registry import build_channel
from followup.clock import monotonic
from followup.log_privacy import FIELDS
from followup.log_privacy import configure as configure_logs
from followup.runtime import Runtime

log = logging.getLogger("followup.worker")

#: the interval of the daily duties (:func:`followup.engine.tick.daily_duties`)
DAY_SECONDS = 24 * 3600


class SingleWorkerLock:
    """An exclusive lock file next to a SQLite database."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".worker.lock")
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise RuntimeError(
                f"another followup worker is already running on this SQLite database ({self.path.with_suffix('')}); "
                "SQLite allows one worker — use PostgreSQL for several"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def sqlite_lock(rt: Runtime) -> SingleWorkerLock | None:
    url = make_url(str(rt.engine.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return SingleWorkerLock(Path(url.database).resolve())


def run_duty(rt: Runtime, name: str, duty: Any) -> dict[str, Any] | None:
    """Run one duty now and log it: with ``FOLLOWUP_LOG_FORMAT=json`` one line per run (``duty``,
    ``counts``, ``duration_ms``); in text only the runs that did something. A failure is logged
    with its traceback (and ``duration_ms``) and the next run tries again; None then."""
    now, started = rt.clock.now(), monotonic()
    try:
        counts: dict[str, Any] = duty(rt, now)
    except Exception:  # logged with context; the next run tries again
        log.exception("%s failed", name, extra={FIELDS: {"duty": name, "failed": True,
                                                         "duration_ms": round((monotonic() - started) * 1000, 1)}})
        return None
    fields = {"duty": name, "counts": counts, "duration_ms": round((monotonic() - started) * 1000, 1)}
    if rt.settings.log_format == "json" or any(v for v in counts.values() if isinstance(v, int)):
        log.info("%s %s", name, json.dumps(counts, sort_keys=True, default=str), extra={FIELDS: fields})
    return counts


def build_scheduler(rt: Runtime, channel: Channel, *, seconds: float | None = None) -> BlockingScheduler:
    """The worker's scheduler: in-memory job store (never shared), one interval job per duty, run every
    ``seconds`` (default ``settings.engine.tick_seconds``, ``FOLLOWUP_TICK_SECONDS``)."""
    seconds = seconds or rt.settings.engine.tick_seconds
    from datetime import datetime

    from followup.engine.tick import Duty, daily_duties, duties

    def job(name: str, duty: Duty) -> Any:
        def run() -> None:
            run_duty(rt, name, duty)

        return run

    scheduler = BlockingScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    for name, duty in duties(rt, channel).items():
        # webhooks every second (#7): the dashboard's live stream shows an event within a second of its tick
        every = min(seconds, 1.0) if name == "webhooks" else seconds
        scheduler.add_job(job(name, duty), "interval", seconds=every, id=name, next_run_time=datetime.now(UTC))
    for name, duty in daily_duties().items():  # `followup doctor` (R3, R7): once a day is enough
        scheduler.add_job(job(name, duty), "interval", seconds=DAY_SECONDS, id=name, next_run_time=datetime.now(UTC))
    return scheduler


def run_worker(rt: Runtime, *, demo: bool | None = None) -> None:
    """Run until SIGTERM/SIGINT."""
    configure_logs(rt.settings)  # FOLLOWUP_LOG_FORMAT: text, or a JSON line per duty run
    lock = sqlite_lock(rt)
    if lock is not None:
        lock.acquire()
    demo = rt.settings.sandbox_customers == "demo" if demo is None else demo
    channel = build_channel(rt.settings, demo=demo)
    scheduler = build_scheduler(rt, channel)

    # SIGTERM ends the loop like Ctrl-C. Shutting the scheduler down from inside the handler would
    # remove its jobs while the interrupted loop still updates them (JobLookupError at exit).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    log.info("worker started (%s channel, tick every %ss)", channel.name, rt.settings.engine.tick_seconds)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if lock is not None:
            lock.release()
