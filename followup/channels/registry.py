"""Builds the channel from settings, explicitly: nothing registers itself at import."""

from __future__ import annotations

from ..settings import Settings
from .base import Channel
from .sandbox import DemoCustomers, SandboxChannel, silent


def build_channel(settings: Settings, *, demo: bool = False) -> Channel:
    """The channel for this process: sandbox (demo customers when ``demo``) or Twilio."""
    if settings.channel_mode == "sandbox":
        return SandboxChannel(DemoCustomers() if demo else silent)
    raise RuntimeError(
        "FOLLOWUP_CHANNEL_MODE=twilio is not available in this version yet (issue #4); use the sandbox channel"
    )
