#!/usr/bin/env bash
# Installs nginx with the Lua module where missing: Debian's `nginx` and
# `libnginx-mod-http-lua` (nginx 1.22 and lua-nginx-module 0.10.23 on bookworm), the two
# pieces ingress-nginx is built from. tests/deploy/test_gateway_ingress.py writes the
# rendered gateway Ingress into an nginx configuration as ingress-nginx does (a regex
# location, the hash key read by a Lua balancer) and checks which backend each OPS's
# posts reach; it fails (never skips) without them.
# The package's own service is not wanted: policy-rc.d keeps apt from starting it.
set -euo pipefail
NGINX=/usr/sbin/nginx
LUA_MODULE=/usr/lib/nginx/modules/ngx_http_lua_module.so
have() { [ -x "$NGINX" ] && [ -f "$LUA_MODULE" ]; }
if have; then
  exit 0
fi
# shellcheck source=lib/apt-install.sh
. "$(dirname "$0")/lib/apt-install.sh"
APT_NO_DAEMONS=1 apt_install ensure-nginx nginx libnginx-mod-http-lua
if ! have; then
  echo "ensure-nginx: $NGINX or $LUA_MODULE missing after installing Debian's packages" >&2
  exit 1
fi
