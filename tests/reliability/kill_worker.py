"""A worker process to kill (fault 2): ticks until idle, recording every send before it returns.

``python tests/reliability/kill_worker.py URL RECORD --now ISO``, or :func:`forked` from a fork server
(the kill test: no interpreter start-up per worker). Like ``bench.race_worker``
(whose :class:`RecordingChannel` it uses: the record files of one directory play the provider's
own log, which :meth:`lookup` consults after a crash), but its simulated customers are not all
silent, so that cases also end while workers die: the customer of every case whose id is
divisible by 4 answers the first call satisfied, of every case with id % 4 == 1 declines it;
the others never answer (three calls, then the SMS survey and its reminder).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for `bench`

from bench.common import runtime_for  # noqa: E402
from bench.race_worker import RecordingChannel  # noqa: E402
from followup.channels.base import Contact, Sent  # noqa: E402
from followup.channels.sandbox import silent  # noqa: E402
from followup.engine.tick import run_tick  # noqa: E402

SATISFIED = {"overall": "10", "fixed_right": "yes", "on_time": "yes", "advisor": "10", "comment": ""}


def customer(contact: Contact, now: datetime) -> Sent:
    """What the customer of this case does: the same answer every time it is asked (reconciling too)."""
    if contact.channel == "call" and contact.case_id % 4 == 0:
        return Sent(f"KW{contact.attempt_id:08d}", outcome="answered", ended_at=now, answers=dict(SATISFIED))
    if contact.channel == "call" and contact.case_id % 4 == 1:
        return Sent(f"KW{contact.attempt_id:08d}", outcome="declined", ended_at=now)
    return silent(contact, now)


class ScriptedRecordingChannel(RecordingChannel):
    def send(self, contact: Contact, now: datetime) -> Sent:
        super().send(contact, now)  # on disk (flushed) before the result comes back
        return customer(contact, now)

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        found = super().lookup(contact, since)
        return None if found is None else customer(contact, since)


def work(url: str, record: Path, now: str, *, delay: float = 0.0, batch: int = 50, idle_wait: float = 0.0,
         said: TextIO = sys.stdout) -> None:
    """Tick until two ticks in a row find nothing to do, ``idle_wait`` seconds apart (as the worker
    waits for its next tick); one JSON line of counts per tick to ``said``."""
    rt = runtime_for(url, datetime.fromisoformat(now))
    with record.open("a") as out:
        channel = ScriptedRecordingChannel(out, delay, record.parent)
        idle = 0
        while idle < 2:
            counts = run_tick(rt, channel, worker=f"kill-{os.getpid()}", batch=batch)
            print(json.dumps({k: counts[k] for k in ("due", "dispatched", "reclaimed", "reconciled")}), file=said,
                  flush=True)
            idle = idle + 1 if counts["due"] == 0 and counts["reclaimed"] == 0 else 0
            if idle == 1:
                time.sleep(idle_wait)


def forked(url: str, record: str, now: str, delay: float, idle_wait: float, said: str, env: dict[str, str]) -> None:
    """The worker as a child of a fork server that imported this module (and so the service) once:
    the same process a new interpreter would be, started in milliseconds. What its ticks say, and
    a traceback if it fails, go to the file ``said``."""
    os.environ.update(env)
    with open(said, "a") as out:
        try:
            work(url, Path(record), now, delay=delay, idle_wait=idle_wait, said=out)
        except BaseException:
            out.write(traceback.format_exc())
            out.flush()
            raise


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("record", type=Path)
    parser.add_argument("--now", required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per send (a slow provider)")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    work(args.url, args.record, args.now, delay=args.delay, batch=args.batch)


if __name__ == "__main__":
    main()
