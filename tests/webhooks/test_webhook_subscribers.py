"""Subscribers from the configuration and FOLLOWUP_WEBHOOK_URLS, the panel's own receiver, and the fan-out."""

from __future__ import annotations

from pathlib import Path

from conftest import make_settings
from sqlalchemy import select
from webhook_world import NOW, at, with_settings

from followup.models import WebhookDelivery, WebhookSubscriber
from followup.runtime import Runtime
from followup.webhooks.outbox import emit
from followup.webhooks.subscribers import fan_out, sync_subscribers

SECRET_A = "whsec_" + "A" * 43 + "="
SECRET_B = "whsec_" + "B" * 43 + "="


def sync(rt: Runtime, when: float = 0) -> dict[str, WebhookSubscriber]:
    with rt.sessions() as s:
        sync_subscribers(s, rt.settings, at(when))
        s.commit()
        return {r.url: r for r in s.scalars(select(WebhookSubscriber))}


def test_env_subscribers_and_the_panel_receiver_are_registered(rt: Runtime, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, FOLLOWUP_WEBHOOK_URLS=f"http://127.0.0.1:8001/a|{SECRET_A} http://127.0.0.1:8002/b|{SECRET_B}",
                             PUBLIC_BASE_URL="https://panel.example.cn")
    live = with_settings(rt, subscribers=settings.subscribers, public_base_url=settings.public_base_url)
    rows = sync(live)
    assert set(rows) == {"http://127.0.0.1:8001/a", "http://127.0.0.1:8002/b", "https://panel.example.cn/webhooks/events"}
    panel = rows["https://panel.example.cn/webhooks/events"]
    assert panel.source == "panel" and panel.secret.startswith("whsec_") and panel.active
    assert rows["http://127.0.0.1:8001/a"].secret == SECRET_A
    # a second start keeps the panel's secret (receivers keep verifying)
    assert sync(live, 60)["https://panel.example.cn/webhooks/events"].secret == panel.secret


def test_a_changed_configured_secret_rotates_and_a_removed_entry_is_turned_off(rt: Runtime, tmp_path: Path) -> None:
    from followup.settings import Subscriber

    first = with_settings(rt, subscribers=(Subscriber("http://127.0.0.1:8001/a", SECRET_A),))
    sync(first)
    changed = with_settings(rt, subscribers=(Subscriber("http://127.0.0.1:8001/a", SECRET_B),))
    row = sync(changed, 10)["http://127.0.0.1:8001/a"]
    assert (row.secret, row.previous_secret) == (SECRET_B, SECRET_A)
    row = sync(with_settings(rt, subscribers=()), 20)["http://127.0.0.1:8001/a"]
    assert (row.active, row.disabled_reason) == (False, "removed from configuration")
    assert sync(changed, 30)["http://127.0.0.1:8001/a"].active is True  # listed again: back on


def test_each_new_event_gets_one_delivery_per_active_subscriber(rt: Runtime) -> None:
    from followup.settings import Subscriber

    live = with_settings(rt, subscribers=(Subscriber("http://127.0.0.1:8001/a", SECRET_A),))
    rows = sync(live)
    with rt.sessions() as s:
        s.get_one(WebhookSubscriber, rows["http://127.0.0.1:8001/a"].id).active = False
        emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO1"}, at=NOW)
        emit(s, "visit.imported", {"store_code": "SZ01", "ro_number": "RO2"}, at=NOW)
        s.commit()
        assert fan_out(s, NOW).deliveries == 2  # the panel only: the other is off
        assert fan_out(s, NOW).deliveries == 0  # never twice
        s.commit()
        subs = {d.subscriber_id for d in s.scalars(select(WebhookDelivery))}
    assert subs == {rows[live.settings.public_base_url + "/webhooks/events"].id}
