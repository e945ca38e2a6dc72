"""GET /metrics (#22 item 6): Prometheus text computed from the database, behind an API token."""

from __future__ import annotations

from datetime import timedelta

from factories import NOW, add_visit, visit_row
from sqlalchemy import select, update

from followup.accounts import create_token
from followup.complaints.opening import open_from_words
from followup.engine.pauses import pause
from followup.models import (
    ContactAttempt,
    FollowupCase,
    Store,
    TwilioCallback,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscriber,
)
from followup.runtime import Runtime
from followup.web import create_app


def attempt(case_id: int, channel: str, status: str, *, due: timedelta | None = None,
            ended: timedelta | None = None) -> ContactAttempt:
    return ContactAttempt(case_id=case_id, channel=channel, kind="survey", number=1, status=status,
                          due_at=NOW + due if due is not None else None,
                          ended_at=NOW + ended if ended is not None else None, created_at=NOW - timedelta(days=1))


def world(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    a = add_visit(rt, visit_row("RO1", mobile="+8613800138001"), at=NOW)
    b = add_visit(rt, visit_row("RO2", mobile="+8613800138002"), at=NOW)
    c = add_visit(rt, visit_row("RO3", mobile="+8613800138003"), at=NOW)
    with rt.sessions() as s:
        s.execute(update(ContactAttempt).values(status="cancelled"))  # only the rows below count
        s.add_all([
            attempt(a, "call", "planned", due=-timedelta(seconds=120)),  # due 2 minutes ago: the oldest
            attempt(b, "call", "planned", due=-timedelta(seconds=30)),
            attempt(b, "sms", "planned", due=-timedelta(seconds=10)),
            attempt(a, "sms", "planned", due=timedelta(hours=1)),  # not due yet
            attempt(a, "call", "done", ended=-timedelta(minutes=1)),  # 5m and 1h
            attempt(b, "call", "done", ended=-timedelta(minutes=30)),  # 1h
            attempt(b, "call", "done", ended=-timedelta(hours=2)),  # neither
            attempt(c, "sms", "done", ended=-timedelta(minutes=2)),  # 5m and 1h
        ])
        s.add_all([
            TwilioCallback(sid="CA1", status="completed", kind="call", received_at=NOW - timedelta(minutes=1)),
            TwilioCallback(sid="CA2", status="completed", kind="call", received_at=NOW - timedelta(minutes=4)),
            TwilioCallback(sid="SM1", status="delivered", kind="sms", received_at=NOW - timedelta(minutes=10)),
        ])
        sub = WebhookSubscriber(url="https://dms.example.com/h", secret="whsec_x", active=True, source="config",
                                created_at=NOW)
        s.add(sub)
        s.flush()
        for n, age in enumerate((300, 60)):
            event = WebhookEvent(event_id=f"msg_{n}", type="visit.imported", occurred_at=NOW - timedelta(seconds=age),
                                 data={}, fanned_out_at=NOW)
            s.add(event)
            s.flush()
            s.add(WebhookDelivery(event_id=event.id, subscriber_id=sub.id, status="pending", tries=0, next_try_at=NOW))
        open_from_words(s, s.get_one(FollowupCase, c), "太差了", "太差", settings=rt.settings, now=NOW, by="system",
                        where="sms")
        store_id = s.scalar(select(Store.id).where(Store.code == "SZ01"))
        assert store_id is not None
        assert pause(s, "SZ01", store_id, "sms", "isv.ACCOUNT_ABNORMAL", "account abnormal", NOW)
        s.commit()


def scrape(rt: Runtime, token: str | None) -> tuple[int, str, str]:
    client = create_app(runtime=rt).test_client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = client.get("/metrics", headers=headers)
    return resp.status_code, resp.headers.get("Content-Type", ""), resp.get_data(as_text=True)


def test_a_scrape_after_a_known_setup(rt: Runtime) -> None:
    world(rt)
    with rt.sessions() as s:
        token = create_token(s, "prometheus", now=NOW, scope="read")
        s.commit()
    status, content_type, body = scrape(rt, token)
    assert status == 200 and content_type == "text/plain; version=0.0.4; charset=utf-8"
    lines = set(body.splitlines())
    expected = {
        'followup_contacts_due{store="SZ01",channel="call"} 2',
        'followup_contacts_due{store="SZ01",channel="sms"} 1',
        'followup_contacts_due{store="SZ01",channel="letter"} 0',
        'followup_contacts_due_oldest_age_seconds{store="SZ01",channel="call"} 120',
        'followup_contacts_due_oldest_age_seconds{store="SZ01",channel="sms"} 10',
        'followup_contacts_due_oldest_age_seconds{store="SZ01",channel="letter"} 0',
        'followup_contacts_finished{channel="call",window="5m"} 1',
        'followup_contacts_finished{channel="sms",window="5m"} 1',
        'followup_contacts_finished{channel="call",window="1h"} 2',
        'followup_contacts_finished{channel="sms",window="1h"} 1',
        'followup_provider_callbacks{kind="call",window="5m"} 2',
        'followup_provider_callbacks{kind="sms",window="5m"} 0',
        "followup_webhook_oldest_pending_age_seconds 300",
        'followup_complaints_open{level="1"} 1',
        'followup_complaints_open{level="2"} 0',
        'followup_channel_paused{store="SZ01",channel="sms"} 1',
        "followup_channels_paused 1",
        "# TYPE followup_contacts_due gauge",
    }
    assert expected <= lines, sorted(expected - lines)
    # the two deliveries above; the complaint's and the pause's events get theirs at the next fan-out
    assert "followup_webhook_deliveries_pending 2" in lines
    # every other store has its rows, all zero
    others = [line for line in lines if line.startswith("followup_contacts_due{") and 'store="SZ01"' not in line]
    assert all(line.endswith(" 0") for line in others)
    assert body.endswith("\n") and "\n\n" not in body


def test_no_token_is_401_and_a_store_token_is_403(rt: Runtime) -> None:
    rt.clock.set(NOW)  # type: ignore[attr-defined]
    status, _, body = scrape(rt, None)
    assert status == 401 and "followup_" not in body
    assert scrape(rt, "fu_not-a-real-token-at-all")[0] == 401
    with rt.sessions() as s:
        token = create_token(s, "one store", now=NOW, store="SZ01", scope="read")
        s.commit()
    assert scrape(rt, token)[0] == 403
