"""Network policies: the PAI pods deny everything but DNS, Kafka's TLS listener, scrapes from
the monitoring namespace, operator views between a service's own workers, and the
notifier's HTTPS to public addresses. Strimzi's pods are left to Strimzi's own policies.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from services.notifier import addresses
from tests.deploy.manifests import (
    OVERLAYS,
    SERVICES,
    Manifest,
    matches,
    named,
    of_kind,
    render,
    workload,
)

PRIVATE = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"}
# Labels Strimzi puts on a broker pod of cluster "pai" (it copies part-of from the Kafka).
KAFKA_POD = {
    "strimzi.io/cluster": "pai",
    "strimzi.io/kind": "Kafka",
    "app.kubernetes.io/name": "kafka",
    "app.kubernetes.io/part-of": "pai-services",
}


def pod_labels(objects: list[Manifest], service: str) -> dict[str, str]:
    labels: dict[str, str] = workload(objects, service)["spec"]["template"]["metadata"]["labels"]
    return labels


def policies_for(objects: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    return [
        p for p in of_kind(objects, "NetworkPolicy") if matches(p["spec"]["podSelector"], labels)
    ]


def rules(policies: list[Manifest], direction: str) -> list[dict[str, Any]]:
    return [rule for p in policies for rule in p["spec"].get(direction, [])]


def ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), p["port"]) for p in rule.get("ports", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_pod_is_isolated_both_ways(overlay: str, service: str) -> None:
    objects = render(overlay)
    policies = policies_for(objects, pod_labels(objects, service))
    deny = named(objects, "NetworkPolicy", "pai-default-deny")
    assert deny in policies
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]


@pytest.mark.parametrize("service", SERVICES)
def test_egress_is_dns_kafka_and_for_the_notifier_public_https(service: str) -> None:
    objects = render("prod")
    egress = rules(policies_for(objects, pod_labels(objects, service)), "egress")
    dns = [r for r in egress if {("UDP", 53), ("TCP", 53)} <= ports(r)]
    assert dns and dns[0]["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    ]
    kafka = [r for r in egress if ports(r) == {("TCP", 9093)}]
    assert kafka and all(matches(peer["podSelector"], KAFKA_POD) for peer in kafka[0]["to"])
    web = [r for r in egress if any("ipBlock" in peer for peer in r.get("to", []))]
    if service != "notifier":
        assert not web, "only the notifier talks to the internet"
        return
    (rule,) = web
    assert ports(rule) == {("TCP", 443)}
    v4 = next(p["ipBlock"] for p in rule["to"] if p["ipBlock"]["cidr"] == "0.0.0.0/0")
    assert set(v4["except"]) >= PRIVATE


def test_the_notifiers_egress_excepts_what_its_address_guard_refuses() -> None:
    """Every IPv4 range services/notifier/addresses.py refuses, and the IPv6 ranges that carry
    one (6to4, NAT64), or that it refuses whatever they carry (Teredo, local-use NAT64)."""
    objects = render("prod")
    egress = rules(policies_for(objects, pod_labels(objects, "notifier")), "egress")
    blocks = {
        peer["ipBlock"]["cidr"]: {ipaddress.ip_network(c) for c in peer["ipBlock"]["except"]}
        for rule in egress
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    }
    assert set(blocks) == {"0.0.0.0/0", "::/0"}
    assert blocks["0.0.0.0/0"] >= set(addresses.REFUSED_V4)
    expected_v6 = {
        addresses.TEREDO,
        addresses.NAT64_LOCAL,
        ipaddress.IPv6Network("fc00::/7"),
        ipaddress.IPv6Network("fe80::/10"),
        ipaddress.IPv6Network("::ffff:0:0/96"),
    } | {image for net in addresses.REFUSED_V4 for image in addresses.embedded_networks(net)}
    missing = expected_v6 - blocks["::/0"]
    assert not missing, sorted(map(str, missing))
    for cidr, excepted in blocks.items():  # Kubernetes refuses an except outside its cidr
        assert all(net.subnet_of(ipaddress.ip_network(cidr)) for net in excepted)  # type: ignore[arg-type]


@pytest.mark.parametrize("service", SERVICES)
def test_ingress_is_scrapes_and_views_between_own_workers(service: str) -> None:
    objects = render("prod")
    labels = pod_labels(objects, service)
    policies = policies_for(objects, labels)
    ingress = rules(policies, "ingress")
    assert all(ports(r) == {("TCP", 6066)} for r in ingress)
    peers = [peer for r in ingress for peer in r["from"]]
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    assert monitoring in peers
    own = [p for p in peers if "podSelector" in p and matches(p["podSelector"], labels)]
    egress_own = [
        peer
        for r in rules(policies, "egress")
        for peer in r.get("to", [])
        if "podSelector" in peer and matches(peer["podSelector"], labels)
    ]
    # Faust forwards operator views to the owning worker; the notifier and the gateway have
    # no views. The gateway's API comes in through the ingress controller.
    assert bool(own) == bool(egress_own) == (service not in ("notifier", "gateway"))
    controller = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }
    assert (controller in peers) == (service == "gateway")
    assert all(p in [monitoring, controller, *own] for p in peers)


def test_no_policy_selects_the_kafka_pods() -> None:
    for policy in of_kind(render("prod"), "NetworkPolicy"):
        assert not matches(policy["spec"]["podSelector"], KAFKA_POD), policy["metadata"]["name"]
