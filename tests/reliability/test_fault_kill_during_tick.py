"""Fault 2 (issue #10): SIGKILL at random points of a tick, 50 times on a seeded schedule.

Worker processes (``tests/reliability/kill_worker.py``) tick a few hundred cases through their
campaign — call 1 at 11:00, call 2 at 14:00, call 3 and the SMS survey at 17:00, the reminder
two days later — and are killed after a random delay drawn from ``random.Random(SEED)``: while
starting, planning, claiming, sending or committing. They are forked from a server that has
imported the service once (multiprocessing's ``forkserver``): a worker sends its first contact
some 0.1 s after it is started instead of 0.8 s (a new interpreter importing the service), so the
delays cover the tick itself, not Python's start-up. Each worker appends every contact to its
record file before the send returns, so the files are what the customers received. After each
step's leases run out, one clean worker finishes the step. Then every case's history must be
valid and no attempt id may appear twice in the records.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path

import kill_worker
import pytest
from sqlalchemy import select
from template_db import migrated_sqlite_url

from bench.backlog import load_cases
from bench.common import NOW, pg_db, runtime_for
from followup.models import ContactAttempt, FollowupCase

pytestmark = pytest.mark.slow(seconds=50)  # tests/conftest.py starts the longest first

SEED = 20261124
CASES = 200
LEASE = 1.0
#: how long a worker that found nothing to do waits for its next tick (the worker's tick interval):
#: a kill may also come then, as it most often would in production
IDLE_WAIT = 0.5
#: the campaign's steps (11:00, 14:00, 17:00 Shanghai, then two days later) and the kills in each
STEPS = [(NOW, 16), (NOW + timedelta(hours=3), 8), (NOW + timedelta(hours=6), 16), (NOW + timedelta(hours=54), 10)]


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        with pg_db() as url:
            yield url
        return
    yield migrated_sqlite_url(tmp_path / "kill.db")


#: where the workers come from; the server imports the worker's modules once (a module it cannot
#: import is only slower to start: multiprocessing ignores it)
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["bench.race_worker", "followup.engine.tick", "followup.engine.provider_callbacks",
                              "followup.complaints.duty", "followup.webhooks.delivery", "followup.letters.duty"])


def start(url: str, record: Path, said: Path, now: str) -> BaseProcess:
    """A worker process ticking at ``now``; it records its sends in ``record`` and says what its
    ticks did (a JSON line each) in ``said``."""
    worker = FORKS.Process(target=kill_worker.forked, args=(url, str(record), now, 0.03, IDLE_WAIT, str(said),
                                                            {"FOLLOWUP_LEASE_SECONDS": str(LEASE)}))
    worker.start()
    return worker


def tally(said: Path) -> collections.Counter[str]:
    """What a worker's ticks said they recovered from dead workers (one JSON line per tick)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in said.read_text().splitlines() if said.exists() else []:
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
    records, said = tmp_path / "records", tmp_path / "said"
    records.mkdir()
    said.mkdir()
    killed_while_running = 0
    recovered: collections.Counter[str] = collections.Counter()
    with database(backend, tmp_path) as url:
        load_cases(runtime_for(url), CASES, now=NOW, open_due=True, tag="F")
        n = 0
        for now, kills in STEPS:
            for _ in range(kills):
                worker = start(url, records / f"w{n:02d}.txt", said / f"w{n:02d}.log", now.isoformat())
                # somewhere in start-up, planning, claiming or sending: the first send comes at ~0.1 s
                time.sleep(rng.uniform(0.0, 1.1))
                killed_while_running += worker.is_alive()
                worker.kill()  # SIGKILL
                worker.join()
                recovered.update(tally(said / f"w{n:02d}.log"))
                n += 1
            time.sleep(LEASE + 0.3)  # the dead workers' leases run out (wall clock)
            clean = start(url, records / f"clean{n:02d}.txt", said / f"clean{n:02d}.log", now.isoformat())
            clean.join(timeout=300)
            assert clean.exitcode == 0, (said / f"clean{n:02d}.log").read_text()
            recovered.update(tally(said / f"clean{n:02d}.log"))
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
