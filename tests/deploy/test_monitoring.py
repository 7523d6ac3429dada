"""Monitoring: the ServiceMonitor finds the three Services, the alerts are complete with
runbooks, and the Grafana dashboard shows every metric the services export, counters as
rates and histograms as quantiles.

Whether these names are what the services really export is checked against the services'
registries elsewhere; the names here are the contract of issue 7.
The rules and the panels' queries are evaluated by promtool and a real Prometheus in
test_alert_rules.py, test_dashboard_schema.py and tests/e2e/test_monitoring.py.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy.manifests import (
    DASHBOARD_FILE,
    OVERLAYS,
    SERVICES,
    alert_rules,
    config_map,
    dashboard,
    dashboard_exprs,
    dashboard_panels,
    matches,
    metric_names,
    of_kind,
    promql_exprs,
    render,
    rule_exprs,
    workload,
)

COUNTERS = {
    "pai_events_consumed_total",
    "pai_dead_letters_total",
    "pai_eligibility_decisions_total",
    "pai_scheduler_events_total",
    "pai_notifier_attempts_total",
    "pai_notifier_webhooks_retried_total",
    "pai_notifier_webhooks_dead_lettered_total",
    "pai_notifier_events_skipped_total",
    "pai_gateway_requests_total",
    "pai_gateway_events_total",
    "pai_gateway_requests_rejected_total",
}
GAUGES = {
    "pai_consumer_lag",
    "pai_ready",
    "pai_scheduler_pending_deadlines",
    "pai_notifier_retry_backlog",
    "pai_notifier_partner_healthy",
    "pai_notifier_partner_in_flight",
}
HISTOGRAMS = {
    "pai_processing_seconds",
    "pai_event_latency_seconds",
    "pai_notifier_attempt_seconds",
    "pai_gateway_write_seconds",
}
ALERTS = {
    "PaiConsumerLagHigh",
    "PaiDeadLettersGrowing",
    "PaiWebhooksDeadLettered",
    "PaiPartnerFailing",
    "PaiRetryBacklogGrowing",
    "PaiProfileReviewsOverdue",
    "PaiServiceNotReady",
    "PaiGatewayServerErrors",
    "PaiGatewayRejectionsHigh",
    "PaiGatewayRateLimited",
}
RUNBOOKS = "https://github.com/pai-project/pai-services/blob/main/docs/operations.md#alert-"


def base_metric(name: str) -> str:
    """The histogram a ``_bucket``/``_sum``/``_count`` series belongs to; else the name."""
    stem = re.sub(r"_(bucket|sum|count)$", "", name)
    return stem if stem in HISTOGRAMS else name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_monitor_scrapes_the_three_services(overlay: str) -> None:
    objects = render(overlay)
    (monitor,) = of_kind(objects, "ServiceMonitor")
    spec = monitor["spec"]
    (endpoint,) = spec["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert endpoint["honorLabels"] is True  # keeps the services' own "service" label
    assert spec["jobLabel"] == "app.kubernetes.io/name"
    expressions = spec["selector"]["matchExpressions"]
    (expression,) = [e for e in expressions if e["key"] == spec["jobLabel"]]
    assert expression["operator"] == "In"
    services = of_kind(objects, "Service")
    selected = [s for s in services if matches(spec["selector"], s["metadata"]["labels"])]
    # Exactly the three ClusterIP Services: the StatefulSets' headless Services select the
    # same pods, so selecting them too would scrape every pod twice.
    not_headless = [s for s in services if s["spec"].get("clusterIP") != "None"]
    assert len(not_headless) < len(services), "no headless Service to leave out"
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(
        s["metadata"]["name"] for s in not_headless
    )
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(f"pai-{n}" for n in SERVICES)
    for service in selected:
        job = service["metadata"]["labels"][spec["jobLabel"]]
        assert job == service["metadata"]["name"]
        assert service["spec"]["type"] == "ClusterIP", job
        assert any(p["name"] == "http" and p["port"] == 6066 for p in service["spec"]["ports"])
        pods = workload(objects, job.removeprefix("pai-"))["spec"]["template"]["metadata"]
        assert service["spec"]["selector"].items() <= pods["labels"].items(), job


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    rules = alert_rules()
    assert {r["alert"] for r in rules} == ALERTS
    for rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert rule["annotations"]["runbook_url"] == RUNBOOKS + name.lower(), name


def test_service_not_ready_fires_on_the_ready_gauge_and_on_failed_scrapes() -> None:
    exprs = [str(r["expr"]) for r in alert_rules() if r["alert"] == "PaiServiceNotReady"]
    assert any("pai_ready" in e and "== 0" in e for e in exprs)
    up = [e for e in exprs if re.search(r"\bup\{job=~\"([^\"]*)\"\} == 0", e)]
    assert up and all(f"pai-{s}" in up[0] for s in SERVICES)


def test_alerts_read_only_exported_metrics_and_up() -> None:
    for expr in rule_exprs():
        names = {base_metric(n) for n in metric_names(expr)}
        assert names and names <= COUNTERS | GAUGES | HISTOGRAMS | {"up"}, expr


def test_the_dashboard_shows_every_metric() -> None:
    used = {base_metric(n) for expr in dashboard_exprs() for n in metric_names(expr)}
    assert used - {"up"} == COUNTERS | GAUGES | HISTOGRAMS


def test_counters_are_rates_and_histograms_are_quantiles() -> None:
    for expr in promql_exprs():
        for name in metric_names(expr):
            at = [m.start() for m in re.finditer(rf"\b{name}\b", expr)]
            before = [expr[:start].rstrip() for start in at]
            if name in COUNTERS:
                assert all(re.search(r"\b(rate|increase)\($", b) for b in before), expr
            base = base_metric(name)
            if base in HISTOGRAMS:
                assert name != base, f"{name} is a histogram: use _bucket, _sum or _count"
                if name.endswith("_bucket"):
                    assert expr.startswith("histogram_quantile("), expr
                    assert re.search(r"by \([^)]*\ble\b", expr), expr
            if name in GAUGES:
                assert not re.search(rf"\b(rate|increase)\(\s*{name}\b", expr), expr


def test_the_dashboard_picks_its_prometheus_and_namespace() -> None:
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["namespace"]["datasource"]["uid"] == "${datasource}"
    for panel in dashboard_panels():
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            assert 'namespace="$namespace"' in target["expr"], panel["title"]
    assert len({p["id"] for p in dashboard_panels()}) == len(dashboard_panels())


def test_every_expression_is_balanced() -> None:
    """Brackets pair up: a first check with no tool; promtool parses every expression
    (test_alert_rules.py, test_dashboard_schema.py)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    for expr in promql_exprs():
        stack: list[str] = []
        for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
            if char in "([{":
                stack.append(char)
            elif char in pairs:
                assert stack and stack.pop() == pairs[char], expr
        assert not stack, expr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grafana_loads_the_dashboard_from_a_labelled_config_map(overlay: str) -> None:
    shipped = config_map(render(overlay), "pai-grafana-dashboard")
    assert shipped["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert shipped["data"]["pai-dashboard.json"] == DASHBOARD_FILE.read_text(encoding="utf-8")
