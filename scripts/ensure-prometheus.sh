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
if ! command -v apt-get >/dev/null; then
  echo "ensure-prometheus: need prometheus and promtool $MIN+ on PATH (Debian: prometheus); no apt-get here" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-prometheus: not root and no sudo to install prometheus" >&2; exit 1; }
  SUDO=sudo
fi
echo "ensure-prometheus: installing Debian's prometheus (prometheus and promtool)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# exit 101 from policy-rc.d: the package's daemon is not started (the tests start their own)
policy=/usr/sbin/policy-rc.d
created=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created=1
fi
status=0
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null || status=$?
if [ -n "$created" ]; then
  $SUDO rm -f "$policy"
fi
[ "$status" = 0 ] || { echo "ensure-prometheus: apt-get install prometheus failed ($status)" >&2; exit "$status"; }
if ! have; then
  echo "ensure-prometheus: prometheus/promtool $MIN+ not on PATH after installing Debian's package" >&2
  exit 1
fi
