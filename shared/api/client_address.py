"""The network address a request comes from, as far as it can be trusted.

The address is the socket peer of the connection. A host that knows it attaches it to the
request object (the devhost sets ``request.socket_peer``; a client cannot set an attribute
of the worker's request object, so it cannot be forged). ``X-Forwarded-For`` is honoured
only for hops whose sender is a trusted proxy, listed in FACE_TRUSTED_PROXIES (addresses or
CIDR blocks): starting at the peer, while the current address is a trusted proxy, the
rightmost not yet used X-Forwarded-For entry is the address it received the request from.
A forwarded entry that does not parse ends the walk with "unknown" (None).

The Azure Functions host gives the Python worker no peer: every request reaches it through
App Service's front end, which appends the client's address to X-Forwarded-For. The entry
``AppServiceFrontEnd`` in FACE_TRUSTED_PROXIES stands for that front end when the host names
no peer; without it (and without a peer) the address is unknown, and whatever a client sent
in X-Forwarded-For is ignored.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from shared.settings import env_list

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PEER_ATTRIBUTE = "socket_peer"
FORWARDED_FOR = "X-Forwarded-For"
PLATFORM_FRONT_END = "AppServiceFrontEnd"
TRUSTED_PROXIES_SETTING = "FACE_TRUSTED_PROXIES"


def parse_address(text: str) -> IpAddress | None:
    """An address as peers and proxies write it: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``,
    ``[::1]:443``; an IPv4-mapped IPv6 address is its IPv4 address. None if not an address."""
    value = text.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def parse_network(text: str) -> IpNetwork | None:
    """An address or a CIDR block (host bits must be zero), as a network; None otherwise."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return None
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None:
        return ipaddress.ip_network(f"{mapped}/{max(0, network.prefixlen - 96)}")
    return network


def contains(network: IpNetwork, address: IpAddress) -> bool:
    return address.version == network.version and address in network


def _trusted_proxies() -> tuple[bool, list[IpNetwork]]:
    entries = env_list(TRUSTED_PROXIES_SETTING)
    front_end = any(entry.lower() == PLATFORM_FRONT_END.lower() for entry in entries)
    networks = [network for entry in entries if (network := parse_network(entry)) is not None]
    return front_end, networks


def client_address(request: object, headers: Mapping[str, str]) -> IpAddress | None:
    """The client's address, or None when it cannot be known with confidence."""
    front_end, proxies = _trusted_proxies()
    hops = [hop for value in _header_values(headers) for hop in value.split(",") if hop.strip()]
    peer = getattr(request, PEER_ATTRIBUTE, None)
    if peer is not None:
        current = parse_address(str(peer))
    elif front_end and hops:
        current = parse_address(hops.pop())
    else:
        return None
    while current is not None and hops and any(contains(proxy, current) for proxy in proxies):
        current = parse_address(hops.pop())
    return current


def _header_values(headers: Mapping[str, str]) -> list[str]:
    return [value for name, value in headers.items() if name.lower() == FORWARDED_FOR.lower()]
