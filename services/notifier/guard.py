"""What the notifier's HTTP client may connect to: the checks at resolve and connect time.

The partners file already refuses inward IP literals (:mod:`services.runtime.partner_urls`),
but a check on the URL alone is one parse away from the connection: aiohttp calls no
resolver for an IP literal, and a host can be spelled so that one parser sees a name
and another an address (``127。0。0。1``). So the connector of a partner without
``allow_private_network`` checks twice:

- :class:`GuardedResolver` refuses a name that resolves to a refused address, with
  the name in the message;
- :func:`guarded_socket`, the connector's ``socket_factory``, sees the address of
  every socket aiohttp opens, resolved or literal, just before it connects, and
  refuses a refused one: nothing reaches a socket unchecked.

A refusal is an ``OSError`` whose text starts ``refused:``; aiohttp reports it as a
connection error, and the attempt fails (``address_refused`` in the metrics).
"""

from __future__ import annotations

import socket

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult

from services.notifier import addresses

HINT = "(allow_private_network)"


class GuardedResolver(AbstractResolver):
    """Resolves as usual, then refuses loopback, private, link-local and metadata addresses."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = addresses.refusal(result["host"])
            if reason is not None:
                raise OSError(f"refused: {host} resolves to {reason} {HINT}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket(addr_info: AddrInfoType) -> socket.socket:
    """A socket for ``addr_info``, or ``OSError`` when its address is a refused one."""
    family, type_, proto, _, sockaddr = addr_info
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"refused: address family {family!r} {HINT}")
    reason = addresses.refusal(str(sockaddr[0]))
    if reason is not None:
        raise OSError(f"refused: connecting to {reason} {HINT}")
    return socket.socket(family=family, type=type_, proto=proto)


def connector(allow_private_network: bool, limit: int) -> aiohttp.TCPConnector:
    """The TCP connector of one partner: guarded unless the entry allows private networks."""
    if allow_private_network:
        return aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ttl_dns_cache=60)
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(),
        socket_factory=guarded_socket,
        limit=limit,
        limit_per_host=limit,
        ttl_dns_cache=60,
    )
