"""The HTTP POST of one webhook, behind a small Protocol so that tests can record instead.

Redirects are not followed (a 301 is an answer like any other non-2xx: retried), and only the
first kilobyte of an answer is read: a receiver cannot make the worker download a large body.
What is kept of it is one short, printable line (:func:`short_line`): the delivery log is no
window onto whatever answered.

``connect_to`` (a subscriber added in the panel, see :mod:`.destinations`) makes the connection
go to that checked address, whatever the host name resolves to by then; the URL's host is still
the ``Host`` header and, for https, the name the certificate must carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import certifi
import requests
import urllib3

#: what is read of an answer (the rest is never downloaded)
RESPONSE_KEEP = 1024
#: what the delivery log keeps of an answer: one line of at most this many characters
SHORT_LINE = 120
_UNPRINTABLE = re.compile(r"[^\S ]+|[\x00-\x1f\x7f-\x9f]")


def short_line(text: str | None) -> str:
    """The first line of ``text``, control characters gone, at most :data:`SHORT_LINE` characters."""
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    first = _UNPRINTABLE.sub(" ", first)
    return first if len(first) <= SHORT_LINE else first[:SHORT_LINE - 1] + "…"


@dataclass(frozen=True)
class Answer:
    """What a receiver answered; ``status`` is None when nothing came back (``error`` says why)."""

    status: int | None
    text: str
    retry_after: str | None = None
    error: str | None = None


class Poster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float, *,
             connect_to: str | None = None) -> Answer: ...


class HttpPoster:
    """Real HTTP with ``requests``; one connection pool per worker process."""

    def __init__(self) -> None:
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: subscribers are called directly

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float, *,
             connect_to: str | None = None) -> Answer:
        if connect_to is not None:
            return _post_to_address(url, body, headers, timeout, connect_to)
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


def _post_to_address(url: str, body: bytes, headers: dict[str, str], timeout: float, address: str) -> Answer:
    """POST ``url`` over a connection to ``address`` (already checked): no name is resolved here."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False, cert_reqs="CERT_REQUIRED",
                                           ca_certs=certifi.where(), server_hostname=host, assert_hostname=host)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    netloc = host if ":" not in host else f"[{host}]"
    if parts.port:
        netloc += f":{parts.port}"
    try:
        resp = pool.urlopen("POST", path, body=body, headers={**headers, "Host": netloc}, redirect=False,
                            retries=False, preload_content=False, assert_same_host=False)
        try:
            head = resp.read(RESPONSE_KEEP, decode_content=True) or b""
            return Answer(resp.status, head.decode("utf-8", "replace"), resp.headers.get("Retry-After"))
        finally:
            resp.release_conn()
    except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError):
        return Answer(None, "", error=f"timeout after {timeout:g} s")
    except urllib3.exceptions.NewConnectionError as exc:
        return Answer(None, "", error=f"connection error: {_short(exc)}")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Answer(None, "", error=f"request failed: {_short(exc)}")
    finally:
        pool.close()
