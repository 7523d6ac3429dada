"""Security material for a test Kafka: a throwaway CA and broker certificate, SCRAM-SHA-512
users, and the ACLs of the KafkaUser manifests created on the cluster.

``Security(users)`` makes a CA (``trustme``) and a certificate for 127.0.0.1 and localhost,
gives each user a random password, and says what a node needs: its SASL_SSL settings
(:meth:`Security.broker_settings`, PEM inline, ``StandardAuthorizer``, no access without an
ACL) and the SCRAM credentials ``kafka-storage format`` writes into the metadata log
(:meth:`Security.format_arguments`). :func:`manifest_acls` reads
``deploy/k8s/base/kafka/users.yaml`` into ACL bindings exactly as declared, and
:func:`create_acls` creates them through the Admin API (``java/KafkaAcls.java``).
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
import yaml
from cryptography.hazmat.primitives import serialization

from tests.support.apache_kafka import ROOT, KafkaCluster, classpath

USERS_MANIFEST = ROOT / "deploy" / "k8s" / "base" / "kafka" / "users.yaml"
ACL_PROGRAM = Path(__file__).parent / "java" / "KafkaAcls.java"
MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class AclBinding:
    principal: str
    resource_type: str  # TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID
    name: str
    pattern_type: str  # LITERAL, PREFIXED
    operation: str  # READ, WRITE, CREATE, DESCRIBE, DESCRIBE_CONFIGS, ...

    def line(self) -> str:
        return "\t".join(
            (self.principal, self.resource_type, self.name, self.pattern_type, self.operation)
        )


@dataclass
class Security:
    users: list[str]
    passwords: dict[str, str] = field(default_factory=dict)
    ca: trustme.CA = field(default_factory=trustme.CA)

    def __post_init__(self) -> None:
        self.passwords = {user: secrets.token_urlsafe(18) for user in self.users}
        self._server = self.ca.issue_cert("127.0.0.1", "localhost")

    def ca_file(self, directory: Path) -> Path:
        path = directory / "ca.crt"
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def broker_settings(self, directory: Path) -> dict[str, str]:
        key = serialization.load_pem_private_key(self._server.private_key_pem.bytes(), None)
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        chain = "".join(blob.bytes().decode() for blob in self._server.cert_chain_pems)
        return {
            "sasl.enabled.mechanisms": MECHANISM,
            "listener.name.client.sasl.enabled.mechanisms": MECHANISM,
            "listener.name.client.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.certificate.chain": chain,
            "ssl.keystore.key": pkcs8,
            "ssl.client.auth": "none",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # the nodes among themselves (INTERNAL, PLAINTEXT on loopback) and the controller
            "super.users": "User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        }

    def format_arguments(self) -> list[str]:
        arguments = []
        for user, password in self.passwords.items():
            arguments += ["--add-scram", f"{MECHANISM}=[name={user},password={password}]"]
        return arguments

    def client_env(self, user: str, directory: Path) -> dict[str, str]:
        """The PAI_ settings of a service connecting as ``user``."""
        return {
            "PAI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "PAI_KAFKA_SASL_MECHANISM": MECHANISM,
            "PAI_KAFKA_SASL_USERNAME": user,
            "PAI_KAFKA_SASL_PASSWORD": self.passwords[user],
            "PAI_KAFKA_SSL_CAFILE": str(self.ca_file(directory)),
        }


def manifest_users() -> list[str]:
    return [doc["metadata"]["name"] for doc in _kafka_users()]


def manifest_acls() -> list[AclBinding]:
    """Every ACL of every KafkaUser in the manifests, one binding per operation."""
    bindings = []
    for doc in _kafka_users():
        principal = f"User:{doc['metadata']['name']}"
        for acl in doc["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            pattern = {"literal": "LITERAL", "prefix": "PREFIXED"}[
                resource.get("patternType", "literal")
            ]
            for operation in acl["operations"]:
                bindings.append(
                    AclBinding(
                        principal,
                        resource["type"].upper(),
                        resource.get("name", "kafka-cluster"),
                        pattern,
                        _snake(operation),
                    )
                )
    return bindings


def create_acls(cluster: KafkaCluster, bindings: list[AclBinding]) -> None:
    done = subprocess.run(
        ["java", "-cp", classpath(), str(ACL_PROGRAM), cluster.internal_bootstrap],
        input="\n".join(b.line() for b in bindings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"creating ACLs failed:\n{done.stdout}{done.stderr[-4000:]}")


def _snake(operation: str) -> str:
    """Strimzi's ``DescribeConfigs`` is Kafka's ``DESCRIBE_CONFIGS``."""
    out = "".join(f"_{c}" if c.isupper() else c for c in operation).lstrip("_")
    return out.upper()


def _kafka_users() -> list[dict[str, Any]]:
    return [
        doc
        for doc in yaml.safe_load_all(USERS_MANIFEST.read_text(encoding="utf-8"))
        if doc and doc.get("kind") == "KafkaUser"
    ]
