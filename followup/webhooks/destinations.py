"""Where a subscriber added in the panel may be sent webhooks: the public internet only.

An administrator's form is not the operator's configuration: without this check a subscriber
``http://127.0.0.1:5432/`` or ``http://169.254.169.254/`` turns the worker into a port scanner
and a reader of internal services. So for subscribers added in the panel (``source = "admin"``;
those of ``FOLLOWUP_WEBHOOK_URLS`` and the configuration stay trusted), unless
``FOLLOWUP_WEBHOOK_ALLOW_PRIVATE=1``:

* every address the host name resolves to must be public: not loopback, link-local, private,
  shared (CGNAT), multicast, unspecified, reserved, nor a cloud's metadata address;
* the check is made when the subscriber is added and again before every delivery, and the
  delivery connects to the very address that was checked (a name that resolves to a public
  address for the check and to 127.0.0.1 for the connection — DNS rebinding — gains nothing).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit

Address = IPv4Address | IPv6Address
#: ``socket.getaddrinfo``'s shape; tests pass a resolver of their own
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

#: metadata services of the clouds a dealership's server may run on (most are link-local or
#: shared addresses already; listed so that the reason says what they are)
METADATA = frozenset(ip_address(a) for a in (
    "169.254.169.254",  # AWS, Azure, Google, Tencent Cloud, Huawei Cloud, OpenStack
    "169.254.170.2",  # AWS ECS task metadata
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",  # AWS over IPv6
))
_NAT64 = ip_network("64:ff9b::/96")


class DestinationRefused(ValueError):
    """The subscriber's address may not be called; the message says why (never a body)."""


@dataclass(frozen=True)
class Destination:
    """A checked destination: the host as written in the URL and the address to connect to."""

    host: str
    port: int
    address: str


def refusal(ip: Address) -> str | None:
    """Why ``ip`` may not receive webhooks from a panel-added subscriber; None when it may."""
    if isinstance(ip, IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            why = refusal(embedded)
            return None if why is None else f"{ip} carries {why}"
    if ip in METADATA:
        return f"{ip} is a cloud metadata address"
    checks = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
              ("multicast", ip.is_multicast), ("private", ip.is_private), ("reserved", ip.is_reserved))
    for name, hit in checks:
        if hit:
            return f"{ip} is a {name} address"
    if not ip.is_global:  # 100.64.0.0/10 (CGNAT) and the like: neither private nor on the internet
        return f"{ip} is not a public address"
    return None


def resolve(url: str, resolver: Resolver | None = None) -> Destination:
    """The URL's host resolved, every address it has checked; the first one to connect to.

    Raises :class:`DestinationRefused` when one of the addresses is not public (a name that
    answers both a public and a private address could be made to use either) or the name does
    not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise DestinationRefused("the address has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DestinationRefused("the port is not a number from 1 to 65535") from None
    try:
        literal: Address | None = ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = (resolver or socket.getaddrinfo)(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise DestinationRefused(f"{host} does not resolve ({type(exc).__name__})") from None
        addresses = [ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise DestinationRefused(f"{host} does not resolve")
    for ip in addresses:
        why = refusal(ip)
        if why is not None:
            raise DestinationRefused(f"{host} resolves to a non-public address: {why}" if literal is None else why)
    return Destination(host, port, str(addresses[0]))
