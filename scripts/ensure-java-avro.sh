#!/usr/bin/env bash
# Installs a JDK and Apache Avro Java (Debian's libavro-java) where missing: the
# interoperability tests check our wire format against this reference implementation.
set -euo pipefail
if command -v java >/dev/null && command -v javac >/dev/null && [ -f /usr/share/java/avro.jar ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure-java-avro: need a JDK and /usr/share/java/avro.jar (Debian: libavro-java); no apt-get here" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-java-avro: not root and no sudo to install libavro-java" >&2; exit 1; }
  SUDO=sudo
fi
echo "ensure-java-avro: installing default-jdk-headless and libavro-java"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends default-jdk-headless libavro-java >/dev/null
