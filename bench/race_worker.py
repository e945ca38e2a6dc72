"""A worker process for races: ticks until nothing is due, recording every contact it sends.

``python -m bench.race_worker URL RECORD [--batch N]``: each send appends the attempt id to
RECORD (flushed at once, so a killed worker's sends are on disk). Used by the dispatch
benchmark and by the multi-worker tests, which count duplicates in the records.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import IO

from followup.channels.base import Contact, GroupRecorded, Reconcilable, Sent
from followup.channels.sandbox import silent
from followup.engine.tick import run_tick

from .common import NOW, runtime_for


class RecordingChannel(GroupRecorded, Reconcilable):
    """The sandbox's silent customers, with every send appended to a file.

    The files of all workers in one directory play the provider's own log: :meth:`lookup`
    answers, after a worker died, whether a contact already went out (as Twilio's call list does).
    """

    name = "sandbox"
    #: like the sandbox, results are recorded many per commit: after a crash :meth:`lookup` finds the
    #: sends whose results were not committed (the multi-worker and kill tests prove none goes twice)
    results_in_groups = True

    def __init__(self, out: IO[str], delay: float = 0.0, log_dir: Path | None = None) -> None:
        self.out = out
        self.delay = delay
        self.count = 0
        self.log_dir = log_dir

    def lookup(self, contact: Contact, since: datetime) -> Sent | None:
        if self.log_dir is None:
            return None
        wanted = str(contact.attempt_id)
        for path in self.log_dir.glob("*.txt"):
            if wanted in path.read_text().split():
                return silent(contact, since)
        return None

    def send(self, contact: Contact, now: datetime) -> Sent:
        self.out.write(f"{contact.attempt_id}\n")
        self.out.flush()
        self.count += 1
        if self.delay:
            time.sleep(self.delay)
        return silent(contact, now)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("record", type=Path)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per send (a slow provider)")
    parser.add_argument("--now", default=NOW.isoformat())
    parser.add_argument("--idle-ticks", type=int, default=3, help="stop after this many empty ticks")
    args = parser.parse_args()
    rt = runtime_for(args.url, datetime.fromisoformat(args.now))
    worker = f"race-{os.getpid()}"
    with args.record.open("a") as out:
        channel = RecordingChannel(out, args.delay, args.record.parent)
        t = time.perf_counter()
        idle = 0
        while idle < args.idle_ticks:
            counts = run_tick(rt, channel, worker=worker, batch=args.batch)
            idle = idle + 1 if counts["due"] == 0 else 0
        print(json.dumps({"worker": worker, "sent": channel.count, "seconds": time.perf_counter() - t}), flush=True)


if __name__ == "__main__":
    main()
