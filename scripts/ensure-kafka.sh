#!/usr/bin/env bash
# Fetches the Apache Kafka broker the tests run, with Maven from Maven Central, into
# .tools/kafka-<version>/libs (where missing). The version is the one the Kubernetes
# manifests deploy (spec.kafka.version in deploy/k8s/base/kafka/cluster.yaml): pinned in
# that one place. Needs a JDK 17+ and Maven; tests/support/kafka.py starts KRaft nodes
# from these jars and fails the tests (never skips them) when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^    version: \([0-9][0-9.]*\)$/\1/p' deploy/k8s/base/kafka/cluster.yaml | head -1)
[ -n "$VERSION" ] || { echo "ensure-kafka: no spec.kafka.version in deploy/k8s/base/kafka/cluster.yaml" >&2; exit 1; }
DIR=.tools/kafka-$VERSION
if [ -f "$DIR/.complete" ]; then
  exit 0
fi
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "ensure-kafka: $tool is needed to fetch Apache Kafka $VERSION" >&2; exit 1; }
done
echo "ensure-kafka: fetching Apache Kafka $VERSION from Maven Central into $DIR"
rm -rf "$DIR" && mkdir -p "$DIR"
mvn -q -B -Dstyle.color=never -f scripts/kafka/pom.xml -Dkafka.version="$VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$DIR/libs"
ls "$DIR"/libs/kafka_2.13-"$VERSION".jar >/dev/null
java -cp "$DIR/libs/*" kafka.Kafka --version 2>/dev/null | grep -qx "$VERSION" \
  || { echo "ensure-kafka: the fetched jars do not run as Kafka $VERSION" >&2; exit 1; }
echo "$VERSION" > "$DIR/.complete"
