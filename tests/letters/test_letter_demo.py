"""`make run`'s demo shows ``letter_sent``: with simulated customers the worker's post room builds
and mails queued letters on every tick."""

from __future__ import annotations

from dataclasses import replace

from letter_world import case_row, queue_letter

from followup.channels.sandbox import SandboxChannel, silent
from followup.engine.tick import duties
from followup.runtime import Runtime


def test_the_demo_post_room_mails_queued_letters(rt: Runtime) -> None:
    case_id = queue_letter(rt, 1)
    assert "demo_post_room" not in duties(rt, SandboxChannel(silent))  # never outside the demo
    demo = Runtime(replace(rt.settings, sandbox_customers="demo"), rt.engine, rt.sessions, rt.clock)
    post_room = duties(demo, SandboxChannel(silent))["demo_post_room"]
    assert post_room(demo, rt.clock.now()) == {"letters_mailed": 1}
    assert case_row(rt, case_id).state == "letter_sent"
    assert post_room(demo, rt.clock.now()) == {"letters_mailed": 0}
