"""The Alibaba Cloud SMS emulator wired to settings: a fixture-free helper shared by the #18 tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fakes.aliyun_emulator import AliyunEmulator

from followup.settings import Settings, load_settings

KEY_ID, KEY_SECRET = "LTAI5tEmulatorKey", "emulator-secret"
TOKEN = "cb-token-0123456789abcdef"


def emulator_for(settings: Settings) -> AliyunEmulator:
    """An emulator that knows the configured templates (code -> variables) and the stores' signatures."""
    return AliyunEmulator(KEY_ID, KEY_SECRET,
                          templates={t.code: t.params for t in settings.aliyun.templates.values()},
                          signatures=frozenset(s.sms_signature for s in settings.stores.values()))


def aliyun_env(endpoint: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"FOLLOWUP_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
            "FOLLOWUP_SMS_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": KEY_ID, "ALIYUN_ACCESS_KEY_SECRET": KEY_SECRET,
            "ALIYUN_CALLBACK_TOKEN": TOKEN, "ALIYUN_SMS_ENDPOINT": endpoint, **extra}


@contextmanager
def running_emulator(tmp_path: Path, **extra: str) -> Iterator[tuple[AliyunEmulator, Settings]]:
    """A started emulator and settings pointing at it (``extra``: more environment)."""
    first = load_settings(aliyun_env("http://127.0.0.1:1", tmp_path, **extra))
    emu = emulator_for(first)
    url = emu.start()
    try:
        yield emu, load_settings(aliyun_env(url, tmp_path, **extra))
    finally:
        emu.stop()
