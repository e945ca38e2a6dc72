"""Fault 2 (issue #10): SIGKILL at random points of a tick, 50 times on a seeded schedule.

Worker processes (``tests/reliability/kill_worker.py``) tick a few hundred cases through their
campaign — call 1 at 11:00, call 2 at 14:00, call 3 and the SMS survey at 17:00, the reminder
two days later — and are killed after a random delay drawn from ``random.Random(SEED)``: while
starting, planning, claiming, sending or committing. Each worker appends every contact to its
record file before the send returns, so the files are what the customers received. After each
step's leases run out, one clean worker finishes the step. Then every case's history must be
valid and no attempt id may appear twice in the records.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from template_db import migrated_sqlite_url

from bench.backlog import load_cases
from bench.common import NOW, pg_db, runtime_for
from followup.models import ContactAttempt, FollowupCase

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261124
CASES = 200
LEASE = 1.0
#: the campaign's steps (11:00, 14:00, 17:00 Shanghai, then two days later) and the kills in each
STEPS = [(NOW, 16), (NOW + timedelta(hours=3), 8), (NOW + timedelta(hours=6), 16), (NOW + timedelta(hours=54), 10)]


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        with pg_db() as url:
            yield url
        return
    yield migrated_sqlite_url(tmp_path / "kill.db")


def start(url: str, record: Path, now: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "reliability" / "kill_worker.py"), url, str(record), "--now", now,
         "--delay", "0.03"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "FOLLOWUP_LEASE_SECONDS": str(LEASE)},
    )


def tally(stdout: str) -> collections.Counter[str]:
    """What a worker's ticks said they recovered from dead workers (one JSON line per tick)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in stdout.splitlines():
        try:
            said = json.loads(line)
        except ValueError:  # the line a kill cut short
            continue
        counts.update({k: v for k, v in said.items() if k in ("reclaimed", "reconciled")})
    return counts


def recorded(records: Path) -> collections.Counter[int]:
    ids: collections.Counter[int] = collections.Counter()
    for rec in records.glob("*.txt"):
        ids.update(int(line) for line in rec.read_text().split())
    return ids


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_fifty_random_kills_leave_valid_histories_and_no_contact_twice(backend: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    records = tmp_path / "records"
    records.mkdir()
    killed_while_running = 0
    recovered: collections.Counter[str] = collections.Counter()
    with database(backend, tmp_path) as url:
        load_cases(runtime_for(url), CASES, now=NOW, open_due=True, tag="F")
        n = 0
        for now, kills in STEPS:
            for _ in range(kills):
                worker = start(url, records / f"w{n:02d}.txt", now.isoformat())
                time.sleep(rng.uniform(0.4, 1.8))  # somewhere in start-up, planning, claiming or sending
                killed_while_running += worker.poll() is None
                worker.send_signal(signal.SIGKILL)
                recovered.update(tally(worker.communicate()[0]))
                n += 1
            time.sleep(LEASE + 0.3)  # the dead workers' leases run out (wall clock)
            clean = start(url, records / f"clean{n:02d}.txt", now.isoformat())
            out, err = clean.communicate(timeout=300)
            assert clean.returncode == 0, err
            recovered.update(tally(out))
        assert n == 50
        assert killed_while_running >= 40, "most kills must hit a running worker"
        # kills landed between claim and commit: rows came back both ways (sent / not yet sent)
        assert recovered["reclaimed"] > 0 and recovered["reconciled"] > 0, recovered

        sent = recorded(records)
        assert [i for i, times in sent.items() if times > 1] == [], "a contact went out twice"
        rt = runtime_for(url)
        with rt.sessions() as s:
            attempts = s.scalars(select(ContactAttempt).order_by(ContactAttempt.id)).all()
            cases = {c.id: c for c in s.scalars(select(FollowupCase))}
        rt.engine.dispose()

    assert [a.id for a in attempts if a.status == "dispatching"] == [], "an attempt is stuck dispatching"
    went_out = {a.id for a in attempts if a.started_at is not None}
    assert set(sent) == went_out, "the records and the database disagree about what was sent"

    history: dict[int, list[ContactAttempt]] = collections.defaultdict(list)
    for a in attempts:
        history[a.case_id].append(a)
    assert len(cases) == CASES
    for case_id, case in cases.items():
        rows = history[case_id]
        calls = [a for a in rows if a.channel == "call" and a.status != "cancelled"]
        assert len(calls) <= 3, f"case {case_id}: {len(calls)} calls"
        for channel in ("call", "sms", "letter"):
            numbers = [a.number for a in rows if a.channel == channel and a.status != "cancelled"]
            assert numbers == list(range(1, len(numbers) + 1)), f"case {case_id}: {channel} numbers {numbers}"
        if case.closed_at is not None:
            late = [a.id for a in rows if a.started_at is not None and a.started_at > case.closed_at]
            assert late == [], f"case {case_id}: contacted after it closed"
            assert all(a.status in ("done", "cancelled") for a in rows)
        sent_rows = [(a.channel, a.kind, a.outcome) for a in rows if a.started_at is not None]
        if case_id % 4 == 0:  # answered the first call, satisfied
            assert (case.state, case.outcome) == ("closed", "satisfied")
            assert sent_rows == [("call", "survey", "answered")]
        elif case_id % 4 == 1:
            assert (case.state, case.outcome) == ("closed", "declined")
            assert sent_rows == [("call", "survey", "declined")]
        else:  # three unanswered calls, the SMS survey and its reminder: nothing lost, nothing doubled
            assert sent_rows == [("call", "survey", "no_answer")] * 3 + [("sms", "survey", "delivered"),
                                                                         ("sms", "reminder", "delivered")]
