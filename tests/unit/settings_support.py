"""What the settings tests share: loading from an environment, and the ``ConfigError`` it raises."""

from __future__ import annotations

import pytest

from followup.settings import DEFAULT_CONFIG, ConfigError, Settings, load_settings

CONFIG_DIR = DEFAULT_CONFIG.parent


def load(**env: str) -> Settings:
    return load_settings(env)


def config_error(**env: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    return info.value
