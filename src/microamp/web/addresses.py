"""Who is asking: the client's address, believing ``X-Forwarded-For`` only from trusted proxies.

Anyone can send the header, so by default it is ignored and the address is the TCP peer's.
With ``MICROAMP_TRUSTED_PROXIES`` set, a request whose peer is one of those proxies is taken to
come from the right-most address in the header that is not itself a trusted proxy (each proxy
appends the address it saw; the ones further left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from microamp.errors import InvalidValue

__all__ = ["Network", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses and CIDRs; `InvalidValue` naming
    ``trusted_proxies`` for an entry that is neither."""
    found: list[Network] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InvalidValue(
                "trusted_proxies", entry, "must be IP addresses or networks (CIDR), comma-separated"
            ) from None
    return tuple(found)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address a request is from, given its TCP ``peer`` and its X-Forwarded-For."""
    peer_address = _address(peer)
    if peer_address is None or not forwarded_for or not _trusted(peer_address, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a hop that is no address: the chain cannot be read, trust none of it
        if not _trusted(address, trusted):
            return str(address)
    return peer
