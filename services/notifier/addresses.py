"""Which network addresses a webhook may go to.

Loopback, private, link-local (which holds the cloud metadata address
169.254.169.254), shared, reserved, multicast and unspecified addresses are
refused unless the partner entry sets ``allow_private_network``; the check runs
on every address a partner's host name resolves to, at connect time, so a name
that later resolves inward is refused too. Pure: no sockets here.
"""

from __future__ import annotations

import ipaddress

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def refusal(address: str) -> str | None:
    """Why a webhook may not go to ``address`` (an IP literal), or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return f"{ip} is a cloud metadata address"
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{ip} is a {kind} address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return f"{ip} is a shared (carrier-grade NAT) address"
    return None


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
