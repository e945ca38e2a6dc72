"""gunicorn reads this file from the working directory (the Procfile's ``web`` line).

Before any worker forks, the configuration is loaded and checked once, so that a production
server the configuration forbids (no secret key, the test clock, an ``http://`` public URL, or
several web workers on SQLite, however their number was given) stops with one line and exit
status 2 instead of a traceback per worker.
"""

from __future__ import annotations

import sys
from typing import Any

#: the access log writes ``/s/…`` for survey links and ``?…`` for query strings (customers' codes
#: and names: see followup/web/access_log.py)
logger_class = "followup.web.access_log.PrivateAccessLogger"


def on_starting(server: Any) -> None:
    from followup.settings import ConfigError, check_web_workers, load_settings

    try:
        settings = load_settings()
        check_web_workers(settings.env, settings.database_url, int(server.cfg.workers), key="gunicorn --workers")
    except ConfigError as exc:
        print(f"followup: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
