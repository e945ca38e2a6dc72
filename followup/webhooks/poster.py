"""The HTTP POST of one webhook, behind a small Protocol so that tests can record instead.

Redirects are not followed (a 301 is an answer like any other non-2xx: retried), and only the
first kilobyte of an answer is read: a receiver cannot make the worker download a large body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import requests
import urllib3

#: what the delivery log keeps of an answer
RESPONSE_KEEP = 1024


@dataclass(frozen=True)
class Answer:
    """What a receiver answered; ``status`` is None when nothing came back (``error`` says why)."""

    status: int | None
    text: str
    retry_after: str | None = None
    error: str | None = None


class Poster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer: ...


class HttpPoster:
    """Real HTTP with ``requests``; one connection pool per worker process."""

    def __init__(self) -> None:
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: subscribers are called directly

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
        try:
            with self._session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                                    stream=True) as resp:
                head = resp.raw.read(RESPONSE_KEEP, decode_content=True) or b""
                return Answer(resp.status_code, head.decode("utf-8", "replace"), resp.headers.get("Retry-After"))
        except requests.Timeout:
            return Answer(None, "", error=f"timeout after {timeout:g} s")
        except requests.ConnectionError as exc:
            return Answer(None, "", error=f"connection error: {_short(exc)}")
        except urllib3.exceptions.ReadTimeoutError:  # while reading the streamed answer
            return Answer(None, "", error=f"timeout after {timeout:g} s")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            return Answer(None, "", error=f"request failed: {_short(exc)}")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text[:300]
