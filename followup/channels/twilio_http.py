"""The HTTP client the official ``twilio`` library talks through: our base URL, our timeout.

``TWILIO_API_BASE_URL`` (CONTRACT §2) points the library at a regional edge or, in tests, at the
local emulator. The library builds ``https://api.twilio.com/2010-04-01/...``; this client swaps
the scheme and host (keeping the path and query) and never waits longer than ``timeout``.
"""

from __future__ import annotations

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

    def rewrite(self, url: str) -> str:
        """``https://api.twilio.com/2010-04-01/X`` -> ``<base>/2010-04-01/X``."""
        parts = urlsplit(url)
        return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        return super().request(method, self.rewrite(url), params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout or self.timeout, allow_redirects=allow_redirects)
