"""Signed Twilio status callbacks per second, and their latency, under gunicorn on loopback.

Calls are in progress in PostgreSQL; a load generator (its own processes, keep-alive
connections) posts each call's ``ringing`` then ``no-answer`` callback, signed the way Twilio
signs them. The server checks every signature, stores each (SID, status) once and records the
outcome. Both share this machine's two cores, so the numbers are a floor, not a ceiling.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

from sqlalchemy import func, select, update

from followup.models import ContactAttempt

from .backlog import load_cases
from .common import NOW, Context, Row, pg_available, pg_db, runtime_for

TOKEN = "bench-auth-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _requests(base: str, sids: list[str]) -> list[tuple[str, str]]:
    """(body, signature) for each callback, ringing before no-answer for every call."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    url = f"{base}/twilio/voice/status"
    out = []
    for status in ("ringing", "no-answer"):
        for sid in sids:
            params = {"AccountSid": "ACbench", "CallSid": sid, "CallStatus": status, "To": "+8613800138000",
                      "From": "+8675512345678", "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
            out.append((urllib.parse.urlencode(params), validator.compute_signature(url, params)))
    return out


def _post_all(args: tuple[int, list[tuple[str, str]], int]) -> list[float]:
    port, reqs, threads = args

    def worker(chunk: list[tuple[str, str]]) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat = []
        for body, sig in chunk:
            t = time.perf_counter()
            conn.request("POST", "/twilio/voice/status", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 204:
                raise RuntimeError(f"callback answered {resp.status}")
            lat.append(time.perf_counter() - t)
        conn.close()
        return lat

    chunks = [reqs[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return [x for part in pool.map(worker, chunks) for x in part]


def run(ctx: Context) -> list[Row]:
    if not pg_available():
        ctx.say("callbacks: PostgreSQL not answering; skipped")
        return []
    calls = 2_000 if ctx.quick else 10_000
    with pg_db() as url:
        rt = runtime_for(url)
        load_cases(rt, calls, now=NOW, open_due=True, tag="C")
        with rt.engine.begin() as c:
            c.execute(update(ContactAttempt).values(status="in_progress", started_at=NOW, made_by="ivr",
                                                    provider_id=func.concat("CA", ContactAttempt.id)))
        with rt.sessions() as s:
            sids = list(s.scalars(select(ContactAttempt.provider_id).order_by(ContactAttempt.id)))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": url, "FOLLOWUP_ENV": "development", "FOLLOWUP_SECRET_KEY": "bench" * 8,
               "FOLLOWUP_CHANNEL_MODE": "twilio", "TWILIO_ACCOUNT_SID": "ACbench", "TWILIO_AUTH_TOKEN": TOKEN,
               "TWILIO_FROM_NUMBER": "+8675512345678", "PUBLIC_BASE_URL": base}
        server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "--threads", "4",
                                   "-b", f"127.0.0.1:{port}", "--log-level", "warning", "followup.web.wsgi:app"],
                                  cwd=ROOT, env=env)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            reqs = _requests(base, [str(x) for x in sids])
            half = len(reqs) // 2  # ringing for all calls first, then the final statuses
            procs, threads = 2, 8
            t = time.perf_counter()
            latencies: list[float] = []
            with Pool(procs) as pool:
                for phase in (reqs[:half], reqs[half:]):
                    parts = [(port, phase[i::procs], threads) for i in range(procs)]
                    for lat in pool.map(_post_all, parts):
                        latencies.extend(lat)
            seconds = time.perf_counter() - t
        finally:
            server.terminate()
            server.wait(timeout=30)
        with rt.sessions() as s:
            done = s.scalar(select(func.count()).select_from(ContactAttempt).where(
                ContactAttempt.status == "done", ContactAttempt.outcome == "no_answer"))
    if done != calls:
        raise RuntimeError(f"only {done} of {calls} calls were recorded as no_answer")
    rate = len(reqs) / seconds
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    ctx.say(f"callbacks: {len(reqs):,} in {seconds:.1f}s; p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    info = {"callbacks": len(reqs), "seconds": round(seconds, 2), "server": "gunicorn -w 2 --threads 4",
            "load": f"{procs} processes x {threads} keep-alive connections"}
    return [
        Row("callbacks", "signed status callbacks, PostgreSQL", round(rate), "callbacks/s", "≥ 1,500/s", rate >= 1500, info),
        Row("callbacks", "callback latency p50", round(p50, 1), "ms"),
        Row("callbacks", "callback latency p99", round(p99, 1), "ms", "≤ 50 ms", p99 <= 50),
    ]


if __name__ == "__main__":
    print(json.dumps([r.__dict__ for r in run(Context(quick=True, workdir=Path("/tmp")))], default=str))
