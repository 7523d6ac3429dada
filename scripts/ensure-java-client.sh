#!/usr/bin/env bash
# Installs a JDK 17+ and Maven where missing (Debian packages), then fetches from Maven Central
# (into ~/.m2) what the Java integration kit in clients/java builds with: Apache Avro Java 1.12
# and its avro-maven-plugin, kafka-clients, JUnit, and every plugin the e2e build runs, so that
# build works offline. Writes the runtime classpath of the kit
# (Apache Avro Java 1.12 with its dependencies) to .tools/java-client/classpath.txt for the
# interoperability tests (tests/interop), which fail, never skip, when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
{ command -v java >/dev/null && command -v javac >/dev/null; } || missing+=(default-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck source=lib/apt-install.sh
  . scripts/lib/apt-install.sh
  apt_install ensure-java-client "${missing[@]}"
fi
major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
[ "${major:-0}" -ge 17 ] || { echo "ensure-java-client: Java $major found; the kit and Kafka need 17+" >&2; exit 1; }
OUT=.tools/java-client
mkdir -p "$OUT"
# A warm-up of the e2e build (tests/e2e/test_java_client.py runs `mvn -o -Pe2e verify`, offline):
# `verify` with one small test class loads every plugin of the build and the JUnit provider
# surefire and failsafe resolve only when tests run; the integration test itself is skipped.
mvn -q -B -Dstyle.color=never -f clients/java/pom.xml -Pe2e \
  verify -DskipITs -Dtest=IdentifiersTest -Dsurefire.failIfNoSpecifiedTests=false \
  dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$PWD/$OUT/classpath.txt"
grep -q "avro-1\.12\." "$OUT/classpath.txt" \
  || { echo "ensure-java-client: no Apache Avro Java 1.12 on the kit's classpath" >&2; exit 1; }
