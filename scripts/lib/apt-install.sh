# Sourced by the ensure-* scripts: `apt_install WHO PACKAGE...` installs Debian packages with
# apt-get (through sudo when not root), quietly and without recommended packages, or exits
# naming what is missing when this machine has no apt-get or no way to become root.
# APT_NO_DAEMONS=1 keeps apt from starting a package's service (policy-rc.d answering 101,
# removed again afterwards when it was not there before).
apt_install() {
  local who=$1
  shift
  command -v apt-get >/dev/null || { echo "$who: need $*; no apt-get here" >&2; exit 1; }
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "$who: not root and no sudo to install $*" >&2; exit 1; }
    sudo=sudo
  fi
  echo "$who: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  local policy=/usr/sbin/policy-rc.d created=""
  if [ "${APT_NO_DAEMONS:-}" = 1 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created=1
  fi
  local status=0
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  if [ -n "$created" ]; then
    $sudo rm -f "$policy"
  fi
  [ "$status" = 0 ] || { echo "$who: apt-get install $* failed ($status)" >&2; exit "$status"; }
}
