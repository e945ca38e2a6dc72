"""Fault 7 (issue #10): two schedulers started by mistake.

On SQLite the second ``followup worker`` refuses to start (one line, exit 2, no traceback):
``tests/integration/test_worker.py::test_second_worker_process_refuses_to_start_on_sqlite``
proves it for the process and the lock. On PostgreSQL both run, side by side, over a few hundred
due cases through three rounds of calls and the SMS fallback, and nothing is doubled: one
attempt row per (case, channel, number), each sent once (one ``*.sent`` audit row, one outgoing
SMS row per SMS attempt).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.backlog import load_cases
from bench.common import NOW, pg_db, runtime_for
from followup.models import AuditEntry, ContactAttempt, SmsMessage

pytestmark = [pytest.mark.postgres, pytest.mark.slow(seconds=25)]  # tests/conftest.py starts the longest first

ROOT = Path(__file__).resolve().parents[2]
CASES = 300


def env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "FOLLOWUP_ENV": "test", "FOLLOWUP_TEST_CLOCK": "1",
            "FOLLOWUP_TICK_SECONDS": "0.2", "FOLLOWUP_CHANNEL_MODE": "sandbox",
            # a worker starved by a loaded machine must not hold its claims for the default 5 minutes
            "FOLLOWUP_LEASE_SECONDS": "20",
            # small claims, so that neither worker takes a whole step's 300 rows in one pass
            "FOLLOWUP_DISPATCH_BATCH": "20"}


def followup(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "followup.cli", *args], env=env(url), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def dispatched(log: str) -> int:
    """What a worker's log says it sent (one ``dispatch {json}`` line per busy tick)."""
    total = 0
    for line in log.splitlines():
        if " dispatch {" in line:
            total += json.loads(line[line.index("{"):])["dispatched"]
    return total


def wait_for(url: str, channel: str, number: int, expected: int, workers: list[subprocess.Popen[str]],
             logs: list[Path], timeout: float = 300) -> None:
    """Until ``expected`` attempts of that channel and number are done (the workers' progress)."""
    rt = runtime_for(url)
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with rt.sessions() as s:
            done = s.scalar(select(func.count()).select_from(ContactAttempt).where(
                ContactAttempt.channel == channel, ContactAttempt.number == number,
                ContactAttempt.status == "done")) or 0
        if done >= expected:
            break
        time.sleep(0.2)
    if done != expected:  # show where the rows stand and what the workers said before failing
        with rt.sessions() as s:
            rows = s.execute(select(ContactAttempt.channel, ContactAttempt.number, ContactAttempt.status,
                                    ContactAttempt.reason, func.min(ContactAttempt.due_at), func.count())
                             .group_by(ContactAttempt.channel, ContactAttempt.number, ContactAttempt.status,
                                       ContactAttempt.reason)).all()
        rt.engine.dispose()
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(timeout=30)
        said = [useful(log.read_text())[-6000:] for log in logs]
        raise AssertionError(f"{channel} {number}: {done} of {expected} done; attempts: {rows}; worker logs: {said}")
    rt.engine.dispose()


def useful(log: str) -> str:
    """A worker's log without APScheduler's "skipped: maximum number of running instances" lines."""
    return "\n".join(line for line in log.splitlines() if "maximum number of running instances" not in line)


def test_two_workers_on_postgresql_double_nothing(tmp_path: Path) -> None:
    with pg_db() as url:
        load_cases(runtime_for(url), CASES, now=NOW, open_due=True, tag="TW")
        assert followup(url, "clock", "set", NOW.isoformat()).returncode == 0
        # Logs go to files: a pipe nobody reads until the end fills up (64 KB) on a loaded machine,
        # and a worker blocked writing its log stalls every job (what made this test hang in the suite).
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        files = [log.open("w") for log in logs]
        workers = [subprocess.Popen([sys.executable, "-m", "followup.cli", "worker"], env=env(url), cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=f, text=True) for f in files]
        for f in files:
            f.close()  # each worker has its own copy
        try:
            wait_for(url, "call", 1, CASES, workers, logs)
            assert all(w.poll() is None for w in workers), "a worker refused to run beside the other on PostgreSQL"
            assert followup(url, "clock", "set", (NOW + timedelta(hours=3)).isoformat()).returncode == 0
            wait_for(url, "call", 2, CASES, workers, logs)
            assert followup(url, "clock", "set", (NOW + timedelta(hours=6)).isoformat()).returncode == 0
            wait_for(url, "call", 3, CASES, workers, logs)
            wait_for(url, "sms", 1, CASES, workers, logs)
            time.sleep(1.0)  # a few more ticks each: anything doubled would show now
        finally:
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGTERM)
                    w.wait(timeout=30)
        said = [log.read_text() for log in logs]
        assert all(w.returncode == 0 for w in workers), [useful(x)[-4000:] for x in said]
        assert all("Traceback" not in x for x in said), [useful(x)[-4000:] for x in said]
        # both really worked the same rows: each dispatched a share, together each contact once
        shares = [dispatched(x) for x in said]
        assert all(n > 0 for n in shares) and sum(shares) == CASES * 4, shares

        rt = runtime_for(url)
        with rt.sessions() as s:
            attempts = s.scalars(select(ContactAttempt)).all()
            sent_audit = collections.Counter(
                int(e.detail["attempt"]) for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("%.sent"))))
            sms_out = collections.Counter(s.scalars(select(SmsMessage.attempt_id).where(SmsMessage.direction == "out")))
            runners = {a.made_by for a in attempts if a.status == "done"}
        rt.engine.dispose()
        per_slot = collections.Counter((a.case_id, a.channel, a.number) for a in attempts if a.status != "cancelled")
        assert [k for k, n in per_slot.items() if n > 1] == [], "two attempts for one (case, channel, number)"
        # three calls and the SMS survey each went out; the reminder SMS waits for its day
        assert collections.Counter((a.channel, a.kind, a.status) for a in attempts) == {
            ("call", "survey", "done"): CASES * 3, ("sms", "survey", "done"): CASES,
            ("sms", "reminder", "planned"): CASES}
        assert [i for i, n in sent_audit.items() if n > 1] == [] and len(sent_audit) == CASES * 4
        assert [i for i, n in sms_out.items() if n > 1] == [] and len(sms_out) == CASES
        assert runners == {"sandbox"}
