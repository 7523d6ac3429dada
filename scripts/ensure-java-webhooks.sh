#!/usr/bin/env bash
# Fetches the Standard Webhooks Java library (com.standardwebhooks:standardwebhooks) with
# Maven from Maven Central into .tools/standardwebhooks/ (where missing), for the test that
# runs docs/gateway.md's Java example (examples/gateway/PostEvent.java) against the gateway.
# 1.0.0 on Maven Central is an empty jar: 1.2.0 is the first that holds the classes.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.2.0
DIR=.tools/standardwebhooks
JAR=$DIR/standardwebhooks-$VERSION.jar
if [ -f "$JAR" ]; then
  exit 0
fi
command -v mvn >/dev/null || { echo "ensure-java-webhooks: mvn is needed" >&2; exit 1; }
mkdir -p "$DIR"
mvn -q -B -Dstyle.color=never dependency:copy \
  -Dartifact="com.standardwebhooks:standardwebhooks:$VERSION" -DoutputDirectory="$PWD/$DIR"
unzip -l "$JAR" | grep -q com/standardwebhooks/Webhook.class \
  || { echo "ensure-java-webhooks: $JAR holds no com.standardwebhooks.Webhook" >&2; exit 1; }
