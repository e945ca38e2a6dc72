"""The HTTP client the official ``twilio`` library talks through: our base URL, our timeout.

``TWILIO_API_BASE_URL`` (CONTRACT §2) points the library at a regional edge or, in tests, at the
local emulator. The library builds ``https://api.twilio.com/2010-04-01/...``; this client swaps
the scheme and host (keeping the path and query) and never waits longer than ``timeout``.
It also keeps the ``Retry-After`` of the last 429/503 answer (the library's exception drops the
headers), so that a rate-limited send waits as long as Twilio asks.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response


class BaseUrlHttpClient(TwilioHttpClient):
    """A :class:`TwilioHttpClient` that sends every request to ``base_url`` with an explicit timeout."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        base = urlsplit(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"TWILIO_API_BASE_URL must be an http(s) URL, got {base_url!r}")
        self.base = base
        self._last = threading.local()

    @property
    def retry_after(self) -> float | None:
        """Seconds the last 429/503 answer on this thread asked us to wait (None if it did not say)."""
        return getattr(self._last, "retry_after", None)

    def rewrite(self, url: str) -> str:
        """``https://api.twilio.com/2010-04-01/X`` -> ``<base>/2010-04-01/X``."""
        parts = urlsplit(url)
        return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        self._last.retry_after = None
        response = super().request(method, self.rewrite(url), params=params, data=data, headers=headers, auth=auth,
                                   timeout=timeout or self.timeout, allow_redirects=allow_redirects)
        if response.status_code in (429, 503):
            self._last.retry_after = parse_retry_after((response.headers or {}).get("Retry-After"))
        return response


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max((at - (now or datetime.now(UTC))).total_seconds(), 0.0)
