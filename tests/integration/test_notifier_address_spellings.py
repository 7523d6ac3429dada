"""No spelling of a loopback address reaches a loopback listener: the partners file refuses
it, and should it pass, the connector refuses the connection (property tests over host
spellings: IDNA dots, case, trailing dots, integer, octal and hex IPv4 forms, IPv6 forms,
and IPv4-mapped, 6to4, NAT64 and Teredo embeddings of 127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.delivery import Attempt, PartnerChannel, Timeouts
from services.notifier.webhooks import Webhook
from services.runtime.partners import Partner, PartnersError, PartnerWithKeys, parse
from tests.support.raw_listener import GARBAGE, RawListener

pytestmark = pytest.mark.integration
SECRET = "whsec_" + base64.b64encode(b"spelling test secret, 32 bytes..").decode()
WEBHOOK = Webhook("wh-s", "pai.cycle.started", "1465011", b"{}")
DOTS = st.sampled_from([".", "\u3002", "\uff0e", "\uff61"])


@st.composite
def octet(draw: st.DrawFn, value: int) -> str:
    form = draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
    zeros = "0" * draw(st.integers(0, 2))
    if form == "dec":
        return zeros + str(value)
    if form == "oct":
        return "0" + zeros + format(value, "o")
    return ("0x" if form == "hex" else "0X") + zeros + format(value, "x" if form == "hex" else "X")


@st.composite
def ipv4_loopback(draw: st.DrawFn) -> str:
    """127.0.0.1 (or another 127/8 address) in the spellings inet_aton accepts, any dots."""
    last = draw(st.sampled_from([1, 2, 255]))
    parts_of = {
        4: [127, 0, 0, last],
        3: [127, 0, last],  # 127.0.1
        2: [127, last],  # 127.1
        1: [(127 << 24) + last],  # 2130706433
    }
    parts = parts_of[draw(st.sampled_from([4, 4, 3, 2, 1]))]
    spelled = [draw(octet(p)) if p < 256 else draw(_integer(p)) for p in parts]
    host = spelled[0]
    for part in spelled[1:]:
        host += draw(DOTS) + part
    return host + draw(st.sampled_from(["", ".", "\u3002"]))


@st.composite
def _integer(draw: st.DrawFn, value: int) -> str:
    form = draw(st.sampled_from(["dec", "oct", "hex"]))
    return {"dec": str(value), "oct": "0" + format(value, "o"), "hex": "0x" + format(value, "x")}[
        form
    ]


def _case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


@st.composite
def ipv6_loopback(draw: st.DrawFn) -> str:
    """::1 and IPv6 addresses that carry 127.0.0.1, in bracketed URL form, any case."""
    address = draw(
        st.sampled_from(
            [
                "::1",
                "0:0:0:0:0:0:0:1",
                "0000:0000::0001",
                "::ffff:127.0.0.1",
                "::ffff:7f00:1",
                "0:0:0:0:0:ffff:7f00:0001",
                "::127.0.0.1",
                "2002:7f00:1::",
                "2002:7f00:1:1::1",
                "64:ff9b::7f00:1",
                "64:ff9b::127.0.0.1",
                "64:ff9b:1::7f00:1",
                "2001:0:7f00:1::80ff:fffe",
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
            ]
        )
    )
    return "[" + _case(draw, address) + "]"


@st.composite
def named_loopback(draw: st.DrawFn) -> str:
    name = draw(
        st.sampled_from(
            ["localhost", "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54", "a.localhost"]
        )
    )
    return _case(draw, name) + draw(st.sampled_from(["", ".", "\u3002"]))


HOSTS = st.one_of(ipv4_loopback(), ipv6_loopback(), named_loopback())


@pytest.fixture(scope="module")
def listener() -> Iterator[RawListener]:
    running = RawListener(GARBAGE).start()
    yield running
    running.stop()


def entry(url: str) -> dict[str, Any]:
    return {
        "ops_code": "1465011",
        "name": "OPS",
        "url": url,
        "secret": SECRET,
        "events": ["*"],
        "allow_http": True,
    }


def send(partner: PartnerWithKeys) -> Attempt:
    async def run() -> Attempt:
        channel = PartnerChannel(partner, Timeouts(0.5, 0.5), 3)
        try:
            return await channel.deliver(WEBHOOK, 1)
        finally:
            await channel.close()

    return asyncio.run(run())


@given(host=HOSTS)
def test_the_partners_file_refuses_every_spelling_or_nothing_connects(
    listener: RawListener, host: str
) -> None:
    before = listener.connections
    url = f"http://{host}:{listener.port}/hook"
    try:
        partners = parse({"partners": [entry(url)]}, {}, "partners.yaml")
    except PartnersError:
        return
    attempt = send(partners["1465011"])
    assert listener.connections == before, f"{host!r} reached the loopback listener"
    assert not attempt.delivered


@given(host=HOSTS)
def test_the_connector_refuses_every_spelling_the_file_check_might_miss(
    listener: RawListener, host: str
) -> None:
    """The same spellings with the load-time check bypassed: the connect-time guard alone."""
    before = listener.connections
    url = f"http://{host}:{listener.port}/hook"
    partner = Partner.model_construct(**entry(url), allow_private_network=False, max_in_flight=2)
    attempt = send(PartnerWithKeys.model_construct(partner=partner, keys=(b"k" * 32,)))
    assert listener.connections == before, f"{host!r} reached the loopback listener"
    assert not attempt.delivered
