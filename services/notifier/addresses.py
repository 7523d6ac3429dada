"""Which network addresses a webhook may go to.

Loopback, private, link-local (which holds the cloud metadata address
169.254.169.254), shared, reserved, documentation, benchmarking, multicast and
unspecified addresses are refused unless the partner entry sets
``allow_private_network``. IPv6 addresses that carry an IPv4 address are judged
by it: IPv4-mapped (``::ffff:0:0/96``), IPv4-compatible (``::/96``), 6to4
(``2002::/16``) and NAT64 with the well-known prefix (``64:ff9b::/96``), so that
``64:ff9b::808:808`` (a DNS64 cluster reaching a public IPv4 partner) passes and
``2002:7f00:1::`` does not. The local-use NAT64 prefix ``64:ff9b:1::/48`` and
Teredo (``2001::/32``: a tunnel endpoint, never a partner's server; the reason
names the server and client IPv4 it embeds) are refused whatever they carry.

The rules are written out here rather than left to ``ipaddress``'s ``is_private``,
whose ranges changed between Python patch releases. The check runs on every address
the client is about to connect to (:mod:`services.notifier.guard`); the NetworkPolicy
of the notifier (``deploy/k8s/base/workloads/network-policies.yaml``) excepts the
same ranges, :func:`embedded_networks` giving their IPv6 images. Pure: no sockets here.
"""

from __future__ import annotations

import ipaddress

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

REFUSED_V4 = {
    ipaddress.IPv4Network(net): kind
    for net, kind in [
        ("0.0.0.0/8", "unspecified (this network)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    ]
}
"""IPv4 networks a webhook never goes to (with ``allow_private_network`` unset)."""

SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
TEREDO = ipaddress.IPv6Network("2001::/32")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries to its destination, and how."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # ::1 and :: are IPv6's own
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal_v4(ip: ipaddress.IPv4Address) -> str | None:
    if ip in METADATA:
        return "a cloud metadata address"
    for net, kind in REFUSED_V4.items():
        if ip in net:
            return f"a {kind} address"
    if not ip.is_global:
        return "not a global address"
    return None


def _refusal_v6(ip: ipaddress.IPv6Address) -> str | None:
    if ip in METADATA:
        return "a cloud metadata address"
    if ip in TEREDO:
        server, client = ip.teredo or (None, None)
        return f"a Teredo address (server {server}, client {client})"
    if ip in NAT64_LOCAL:
        return "a local-use NAT64 address"
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("site-local", ip.is_site_local),
        ("multicast", ip.is_multicast),
        ("unique-local (private)", ip in ipaddress.IPv6Network("fc00::/7")),
    ):
        if flag:
            return f"a {kind} address"
    if not ip.is_global:
        return "not a global address"
    return None


def refusal(address: str) -> str | None:
    """Why a webhook may not go to ``address`` (an IP literal), or None when it may."""
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        reason = _refusal_v4(ip)
        return None if reason is None else f"{ip} is {reason}"
    embedded = _embedded_v4(ip)
    if embedded is not None:
        how, v4 = embedded
        reason = _refusal_v4(v4)
        return None if reason is None else f"{ip} ({how} {v4}) is {reason}"
    reason = _refusal_v6(ip)
    return None if reason is None else f"{ip} is {reason}"


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def embedded_networks(network: ipaddress.IPv4Network) -> list[ipaddress.IPv6Network]:
    """The IPv6 networks that carry ``network`` as 6to4 and as NAT64 (NetworkPolicy excepts)."""
    base, bits = int(network.network_address), network.prefixlen
    return [
        ipaddress.IPv6Network((int(SIX_TO_FOUR.network_address) | (base << 80), 16 + bits)),
        ipaddress.IPv6Network((int(NAT64.network_address) | base, 96 + bits)),
    ]
