"""The dashboard and the alerts name exactly the metrics the services export.

What the services export is read from their registry (``services.runtime.metrics``
and each service's ``metrics`` module); the end-to-end pipeline test checks that
the running processes export that same set.
"""

from __future__ import annotations

from tests.deploy.manifests import alert_rules, dashboard_exprs, metric_names, rule_exprs
from tests.support.metrics import registry_series

PROMETHEUS_OWN = {"up"}  # written by Prometheus for every scrape target


def names_in(exprs: list[str]) -> set[str]:
    return {name for expr in exprs for name in metric_names(expr)}


def test_every_metric_the_dashboard_reads_is_exported() -> None:
    exported = registry_series()
    unknown = names_in(dashboard_exprs()) - exported.keys() - PROMETHEUS_OWN
    assert not unknown, f"the dashboard reads metrics no service exports: {sorted(unknown)}"


def test_every_metric_an_alert_reads_is_exported() -> None:
    exported = registry_series()
    unknown = names_in(rule_exprs()) - exported.keys() - PROMETHEUS_OWN
    assert not unknown, f"alerts read metrics no service exports: {sorted(unknown)}"


def test_every_exported_metric_is_on_the_dashboard() -> None:
    exported = registry_series()
    shown = {exported[name] for name in names_in(dashboard_exprs()) if name in exported}
    missing = set(exported.values()) - shown
    assert not missing, f"exported but on no panel: {sorted(missing)}"


def test_the_alerts_cover_what_operations_asked_for() -> None:
    by_name: dict[str, str] = {}  # an alert may have several rules: their expressions
    for rule in alert_rules():
        if "alert" in rule:
            by_name[rule["alert"]] = by_name.get(rule["alert"], "") + " " + str(rule["expr"])
    wanted = {
        "PaiConsumerLagHigh": "pai_consumer_lag",
        "PaiDeadLettersGrowing": "pai_dead_letters_total",
        "PaiPartnerFailing": "pai_notifier_partner_healthy",
        "PaiProfileReviewsOverdue": "pai_scheduler_events_total",
        "PaiServiceNotReady": "pai_ready",
    }
    for alert, metric in wanted.items():
        assert alert in by_name, f"no alert {alert}"
        assert metric in metric_names(by_name[alert]), alert
    assert "ProfileReviewOverdue" in by_name["PaiProfileReviewsOverdue"]
