"""Who is asking: the client's address as far as it can be believed (CONTRACT §2).

Behind the TLS proxy that production needs, every request comes from the proxy's address; the
proxy writes the real client into ``X-Forwarded-For``. That header is believed only when the
request comes from a proxy listed in ``FOLLOWUP_TRUSTED_PROXIES`` — anybody else can write it,
and a limiter keyed on a header the client chooses limits nothing. The one function both the
survey-code limiter and the login limits use.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from flask import Request

Network = IPv4Network | IPv6Network
#: an IPv6 host usually holds a whole /64: limits count it as one address
IPV6_CLIENT_PREFIX = 64


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(request: Request, proxies: Sequence[Network]) -> str:
    """The client's address: ``remote_addr``, or — when that is a trusted proxy — the nearest
    address in ``X-Forwarded-For`` that is not itself a trusted proxy (read from the right: each
    proxy appends the address it saw; everything left of the first untrusted hop was written by
    the client and proves nothing)."""
    remote = (request.remote_addr or "").strip() or "?"
    if not proxies or not _trusted(remote, proxies):
        return remote
    hops = [h.strip() for line in request.headers.getlist("X-Forwarded-For") for h in line.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, proxies):
            try:
                return str(ip_address(hop))
            except ValueError:
                return remote  # a proxy would never write this: believe nothing past it
    return remote


def limit_key(address: str) -> str:
    """What a limit counts by: the address itself, an IPv6 address's /64 (``2001:db8:1:2::/64``)."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, IPv6Address):  # (an IPv4Address has no ipv4_mapped)
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)
