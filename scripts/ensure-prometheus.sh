#!/usr/bin/env bash
# Installs Prometheus and promtool where missing: Debian's `prometheus` package (2.42 on
# bookworm), the only build reachable from these machines (the release tarballs are on
# GitHub, which is not). tests/deploy/test_alert_rules.py runs `promtool check rules` and
# `promtool test rules` on the rules rendered from each overlay; tests/e2e/test_monitoring.py
# starts a real Prometheus scraping the services. Both fail (never skip) without it.
# The package's own service is not wanted: policy-rc.d keeps apt from starting it.
set -euo pipefail
MIN=2.42
have() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null || return 1
  version=$(prometheus --version 2>&1 | sed -n 's/^prometheus, version \([0-9.]*\).*/\1/p')
  [ -n "$version" ] && [ "$(printf '%s\n%s\n' "$MIN" "$version" | sort -V | head -n1)" = "$MIN" ]
}
if have; then
  exit 0
fi
# exit 101 from policy-rc.d: the package's daemon is not started (the tests start their own)
# shellcheck source=lib/apt-install.sh
. "$(dirname "$0")/lib/apt-install.sh"
APT_NO_DAEMONS=1 apt_install ensure-prometheus prometheus
if ! have; then
  echo "ensure-prometheus: prometheus/promtool $MIN+ not on PATH after installing Debian's package" >&2
  exit 1
fi
