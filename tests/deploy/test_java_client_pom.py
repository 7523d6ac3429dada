"""The Java kit's pom (clients/java/pom.xml) stays true to the contract it is built from.

The avro-maven-plugin generates classes from the current version of every schema (older
versions share the record names and are packaged as resources the decoders resolve), and
kafka-clients is the Kafka version the manifests deploy. A new schema version or Kafka
version that the pom does not follow fails here, not in a PUP's build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from services.runtime.schemas import default_store

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "clients" / "java" / "pom.xml"
NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _pom() -> ET.Element:
    return ET.parse(POM).getroot()


def test_classes_are_generated_from_the_current_version_of_every_schema() -> None:
    plugin = next(
        p
        for p in _pom().iterfind(".//m:build/m:plugins/m:plugin", NS)
        if p.findtext("m:artifactId", namespaces=NS) == "avro-maven-plugin"
    )
    includes = {e.text for e in plugin.iterfind(".//m:includes/m:include", NS)}
    store = default_store()
    current = {f"{name}/v{store.current(name).version}.avsc" for name in store.names}
    assert includes == current


def test_kafka_clients_is_the_deployed_kafka_version() -> None:
    cluster = (ROOT / "deploy" / "k8s" / "base" / "kafka" / "cluster.yaml").read_text()
    deployed = re.search(r"^    version: ([0-9.]+)$", cluster, re.MULTILINE)
    assert deployed is not None
    assert _pom().findtext("m:properties/m:kafka.version", namespaces=NS) == deployed.group(1)


def test_avro_is_1_12() -> None:
    assert (_pom().findtext("m:properties/m:avro.version", namespaces=NS) or "").startswith("1.12.")
