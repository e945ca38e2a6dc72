"""gunicorn's access log without what it would otherwise keep of customers (PIPL).

A survey link ``/s/<code>`` is a customer's key to their survey, and a query string can carry a
name (``/cases?q=张伟``, or ``/login?next=/cases?q=…``); both also travel in ``Referer`` and
``Location`` headers. The access log writes ``/s/…`` and ``?…`` instead, in every field that can
hold a URL; everything else (time, status, size, duration, user agent) stays.
``gunicorn.conf.py`` names :class:`PrivateAccessLogger` as gunicorn's ``logger_class``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gunicorn.glogging import Logger

HIDDEN = "…"
_SURVEY = re.compile(r"^/s/[^/]*")
#: Alibaba Cloud's push URLs end in the callback token (a secret): ``/aliyun/sms/report/<token>``
_ALIYUN = re.compile(r"^(/aliyun/[^/]+/[^/]+/)[^/]+")
#: the atoms (gunicorn's names) that hold a path, a query string or a whole URL
_PATHS = ("U", "{path_info}e")
_QUERIES = ("q", "{query_string}e")
_TARGETS = ("{raw_uri}e", "{request_uri}e")
_URLS = ("f", "{referer}i", "{http_referer}e", "{location}o")


def private_path(path: str) -> str:
    """``/s/AB12CD`` -> ``/s/…``, ``/aliyun/sms/up/<token>`` -> ``/aliyun/sms/up/…``; any other path as it is."""
    return _ALIYUN.sub(rf"\g<1>{HIDDEN}", _SURVEY.sub(f"/s/{HIDDEN}", path))


def private_target(target: str) -> str:
    """A request target or a URL without what identifies a customer: the survey code and the query."""
    if not target or target == "-":
        return target
    parts = urlsplit(target)
    query = HIDDEN if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, private_path(parts.path), query, ""))


def private_request_line(line: str) -> str:
    """``GET /cases?q=张伟 HTTP/1.1`` -> ``GET /cases?… HTTP/1.1``."""
    method, sep, rest = line.partition(" ")
    target, sep2, protocol = rest.rpartition(" ")
    if not sep or not sep2:
        return private_target(line)
    return f"{method} {private_target(target)} {protocol}"


def private_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's log atoms with every path, query and URL made private (a new dict)."""
    out = dict(atoms)
    if isinstance(out.get("r"), str):
        out["r"] = private_request_line(out["r"])
    for key in _PATHS:
        if isinstance(out.get(key), str):
            out[key] = private_path(out[key])
    for key in _QUERIES:
        if out.get(key):
            out[key] = HIDDEN
    for key in (*_TARGETS, *_URLS):
        if isinstance(out.get(key), str):
            out[key] = private_target(out[key])
    return out


class PrivateAccessLogger(Logger):
    """gunicorn's logger, writing the access log through :func:`private_atoms`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return private_atoms(super().atoms(resp, req, environ, request_time))
