"""Finding 4 of #19 — guessing survey codes — tried as an attacker would, on SQLite and PostgreSQL.

A found code accepts answers that move an advisor's bonus. Each test is one attack: short codes,
codes that were never sent, a limit kept in one process's memory, a limit that locks out every
customer behind the TLS proxy, a scanner rotating addresses, two answers racing, and a disputed
web answer with nothing to check it against.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from factories import add_visit, send_reply_code, visit_row
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from followup.intake.visit_upsert import new_reply_codes
from followup.models import CodeMiss, FollowupCase, SurveyResponse
from followup.rules.reply_code import ALPHABET, CODE_LENGTH, grouped
from followup.runtime import Runtime
from followup.settings import CodeGuardSettings
from followup.web import create_app

GOOD = {"overall": "9", "on_time": "yes", "advisor": "10", "comment": "很好"}
PROXY = "127.0.0.1"  # the test client's remote address: the TLS proxy, when it is trusted
UNKNOWN = "ZZZZ-ZZZZ-ZZZZ"


def runtime_with(rt: Runtime, **changes: Any) -> Runtime:
    """The same database and clock with some settings changed (a restart with another configuration)."""
    return Runtime(dataclasses.replace(rt.settings, **changes), rt.engine, rt.sessions, rt.clock)


def behind_proxy(rt: Runtime, **guard: Any) -> Runtime:
    return runtime_with(rt, trusted_proxies=(ip_network(PROXY),), code_guard=CodeGuardSettings(**guard))


def open_case(rt: Runtime, n: int = 1, *, sent: bool = True) -> tuple[int, str]:
    case_id = add_visit(rt, visit_row(f"RO-G{n:03d}", mobile=f"+861380013{n:04d}"))
    with rt.sessions() as s:
        code = s.get_one(FollowupCase, case_id).reply_code
    return case_id, send_reply_code(rt, case_id) if sent else code


def get(client: FlaskClient, code: str, ip: str | None = None, **headers: str) -> Any:
    if ip is not None:
        headers["X-Forwarded-For"] = ip
    return client.get(f"/s/{code}", headers=headers)


def answer(client: FlaskClient, code: str, ip: str | None = None, **headers: str) -> Any:
    if ip is not None:
        headers["X-Forwarded-For"] = ip
    page = client.get(f"/s/{code}", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    return client.post(f"/s/{code}", data={**GOOD, "csrf_token": token.group(1)}, headers=headers)


def completed(rt: Runtime) -> list[SurveyResponse]:
    with rt.sessions() as s:
        return list(s.scalars(select(SurveyResponse).where(SurveyResponse.status == "completed")))


# --- the codes themselves ---------------------------------------------------------------------


def test_codes_are_unguessable_at_the_scale_of_the_database(rt: Runtime) -> None:
    with rt.sessions() as s:
        codes = new_reply_codes(s, 2000)
    assert len(set(codes)) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    # 150,000 live codes and 5 x 10^7 guesses a year: about 1 chance in 100,000 of one hit
    assert 150_000 * 5e7 / len(ALPHABET) ** CODE_LENGTH < 2e-5
    # the characters are spread evenly (a biased generator would shrink the space)
    counts = {ch: sum(c.count(ch) for c in codes) for ch in ALPHABET}
    expected = 2000 * CODE_LENGTH / len(ALPHABET)
    assert all(abs(n - expected) < expected * 0.3 for n in counts.values()), counts


def test_a_long_code_is_read_as_printed_and_as_typed(rt: Runtime) -> None:
    _, code = open_case(rt)
    client = create_app(runtime=rt).test_client()
    shown = grouped(code)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    for typed in (code, shown, shown.lower(), shown.replace("-", " "), shown.replace("-", "")):
        assert get(client, typed).status_code == 200, typed


def test_an_old_six_character_code_of_an_open_case_still_answers(rt: Runtime) -> None:
    case_id, _ = open_case(rt, sent=False)
    with rt.sessions() as s:  # a case opened before the change: its code was six characters
        s.execute(update(FollowupCase).where(FollowupCase.id == case_id).values(reply_code="B72YSP"))
        s.commit()
    send_reply_code(rt, case_id)
    client = create_app(runtime=rt).test_client()
    assert get(client, "b72-ysp").status_code == 200
    assert answer(client, "B72YSP").status_code == 200 and len(completed(rt)) == 1


def test_a_code_nobody_was_sent_answers_like_an_unknown_one(rt: Runtime) -> None:
    case_id, code = open_case(rt, sent=False)  # every open case has a code; this one never went out
    client = create_app(runtime=rt).test_client()
    unknown, unsent = get(client, UNKNOWN), get(client, code)
    assert unsent.status_code == unknown.status_code == 404 and unsent.get_data() == unknown.get_data()
    forged = client.post(f"/s/{code}", data=GOOD)  # no form to take a token from: nothing to post
    assert forged.status_code in (400, 404) and completed(rt) == []
    send_reply_code(rt, case_id)  # the SMS reminder with the link went out
    assert get(client, code).status_code == 200


# --- the limiter ----------------------------------------------------------------------------------


def test_the_guessing_limit_is_shared_by_processes_and_survives_a_restart(rt: Runtime) -> None:
    _, code = open_case(rt)
    first = create_app(runtime=rt).test_client()  # one gunicorn worker
    for n in range(20):
        assert get(first, f"ZZZZZZZZZ{n:03d}".replace("0", "A").replace("1", "B")).status_code == 404
    restarted = create_app(runtime=runtime_with(rt)).test_client()  # another worker, or after a restart
    blocked = get(restarted, code)
    assert blocked.status_code == 429 and "请稍后再试" in blocked.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CodeMiss)) == 20


def test_the_wait_ends_with_the_window(rt: Runtime) -> None:
    _, code = open_case(rt)
    quick = runtime_with(rt, code_guard=CodeGuardSettings(misses_per_address=3, window=timedelta(seconds=1.5)))
    client = create_app(runtime=quick).test_client()
    for _ in range(3):
        get(client, UNKNOWN)
    assert get(client, code).status_code == 429
    time.sleep(1.6)  # wall-clock seconds: the limit is about real time, also under the test clock
    assert get(client, code).status_code == 200


def test_behind_the_tls_proxy_one_scanner_does_not_lock_out_the_customers(rt: Runtime) -> None:
    _, code = open_case(rt)
    client = create_app(runtime=behind_proxy(rt)).test_client()
    for _ in range(20):
        get(client, UNKNOWN, ip="203.0.113.9")  # the scanner, through the proxy
    assert get(client, code, ip="203.0.113.9").status_code == 429
    assert get(client, code, ip="198.51.100.7").status_code == 200  # a customer through the same proxy
    # the proxy appends what it saw: what the scanner wrote on the left proves nothing
    assert get(client, code, ip="198.51.100.7, 203.0.113.9").status_code == 429


def test_a_forwarded_for_header_from_anybody_else_is_not_believed(rt: Runtime) -> None:
    _, code = open_case(rt)
    client = create_app(runtime=rt).test_client()  # no trusted proxy configured
    for n in range(20):
        assert get(client, UNKNOWN, ip=f"198.51.100.{n}").status_code == 404  # a new "address" each time
    assert get(client, code, ip="198.51.100.200").status_code == 429
    outsider = create_app(runtime=behind_proxy(rt)).test_client()  # a proxy is trusted, this client is not it
    for n in range(20):
        outsider.get(f"/s/{UNKNOWN}", headers={"X-Forwarded-For": f"192.0.2.{n}"},
                     environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert outsider.get(f"/s/{code}", headers={"X-Forwarded-For": "192.0.2.99"},
                        environ_base={"REMOTE_ADDR": "203.0.113.50"}).status_code == 429


def test_a_scanner_rotating_addresses_gets_one_guess_each_past_the_alarm(rt: Runtime) -> None:
    _, code = open_case(rt)
    client = create_app(runtime=behind_proxy(rt, misses_alarm=30)).test_client()
    for n in range(30):  # thirty addresses, one guess each: under every per-address limit
        assert get(client, UNKNOWN, ip=f"203.0.113.{n}").status_code == 404
    assert get(client, UNKNOWN, ip="203.0.113.31").status_code == 404  # a new address: its first guess
    assert get(client, code, ip="203.0.113.31").status_code == 429  # not a second one, not even a right one
    assert get(client, code, ip="203.0.113.0").status_code == 429
    assert get(client, code, ip="198.51.100.7").status_code == 200  # a customer typing their own code right
    v6 = "2001:db8:1:2::"
    assert get(client, UNKNOWN, ip=v6 + "1").status_code == 404
    assert get(client, code, ip=v6 + "ffff").status_code == 429  # the same IPv6 /64 is one address


# --- answers --------------------------------------------------------------------------------------


def test_a_web_answer_keeps_the_evidence_of_how_it_came(rt: Runtime) -> None:
    _, code = open_case(rt)
    client = create_app(runtime=behind_proxy(rt)).test_client()
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0"
    assert answer(client, code, ip="198.51.100.7", **{"User-Agent": phone}).status_code == 200
    (resp,) = completed(rt)
    assert resp.evidence == {"address": "198.51.100.7", "user_agent": phone, "at": rt.clock.now().isoformat()}


@pytest.fixture
def insert_gate(rt: Runtime) -> Iterator[threading.Barrier]:
    """Holds each request at the INSERT of its survey response until both got there (or 2 s passed):
    the widest window two simultaneous posts can have."""
    gate = threading.Barrier(2, timeout=2)

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SURVEY_RESPONSES"):
            with contextlib.suppress(threading.BrokenBarrierError):  # the other one waits for this one: go on
                gate.wait()

    event.listen(rt.engine, "before_cursor_execute", hold)
    yield gate
    event.remove(rt.engine, "before_cursor_execute", hold)


def test_two_simultaneous_answers_with_one_code_record_one_survey(rt: Runtime,
                                                                  insert_gate: threading.Barrier) -> None:
    _, code = open_case(rt)
    app = create_app(runtime=rt)
    posts = []
    for _ in range(2):
        client = app.test_client()
        page = client.get(f"/s/{code}").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found
        posts.append((client, found.group(1)))
    statuses: list[int] = []

    def post(client: FlaskClient, token: str) -> None:
        statuses.append(client.post(f"/s/{code}", data={**GOOD, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 410]  # one thanked, the other told it was already answered
    assert len(completed(rt)) == 1
