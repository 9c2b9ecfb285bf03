"""What an application needs to connect to a cluster as a service account, in the forms clients read.

The address is the cluster's client-facing SASL listener (``Cluster.client_bootstrap_servers``), never the
portal's admin connection, which may be a PLAINTEXT listener that ignores SASL settings. Pure: no I/O.

librdkafka >= 2.6.1 is needed for SCRAM against Kafka 4.1 (so confluent-kafka-python >= 2.6.1, and a kcat
built on it); Java clients from 3.x on.
"""

from __future__ import annotations

from onboarding.models import Cluster

MIN_CLIENT_VERSIONS = (
    ("librdkafka (C/C++, kcat)", "2.6.1"),
    ("confluent-kafka-python, -go, -dotnet (librdkafka inside)", "2.6.1"),
    ("Java kafka-clients", "3.0"),
)
DEFAULT_MECHANISM = "SCRAM-SHA-512"
JAAS_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


def client_bootstrap(cluster: Cluster) -> str:
    """The client SASL listener; the admin address only when that is itself a SASL listener."""
    if cluster.client_bootstrap_servers:
        return cluster.client_bootstrap_servers
    return cluster.bootstrap_servers if cluster.security_protocol.startswith("SASL") else ""


def client_settings(cluster: Cluster, username: str) -> dict[str, str]:
    """librdkafka/Java property names to values, without the password (the API's ``client_settings``)."""
    uses_tls = cluster.security_protocol in (Cluster.SecurityProtocol.SSL, Cluster.SecurityProtocol.SASL_SSL)
    mechanism = cluster.sasl_mechanism if cluster.sasl_mechanism.startswith("SCRAM") else DEFAULT_MECHANISM
    return {"bootstrap.servers": client_bootstrap(cluster),
            "security.protocol": "SASL_SSL" if uses_tls else "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism, "sasl.username": username}


def librdkafka_config(settings: dict[str, str], password: str) -> dict[str, str]:
    """The configuration dict of confluent-kafka (any librdkafka client)."""
    return {**settings, "sasl.password": password}


def librdkafka_properties(settings: dict[str, str], password: str) -> str:
    """librdkafka's key=value form, which kcat reads with ``-F``."""
    return "".join(f"{key}={value}\n" for key, value in librdkafka_config(settings, password).items())


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_properties(settings: dict[str, str], password: str) -> str:
    """client.properties for Java clients: they take the credentials in ``sasl.jaas.config``."""
    jaas = (f"{JAAS_MODULE} required username={_jaas_quote(settings['sasl.username'])} "
            f"password={_jaas_quote(password)};")
    lines = [f"bootstrap.servers={settings['bootstrap.servers']}",
             f"security.protocol={settings['security.protocol']}",
             f"sasl.mechanism={settings['sasl.mechanism']}",
             # Properties files treat backslashes as escapes: double them so the JAAS text arrives intact.
             "sasl.jaas.config=" + jaas.replace("\\", "\\\\")]
    return "\n".join(lines) + "\n"


def kcat_command(settings: dict[str, str], password: str, topic: str = "<topic>") -> str:
    """A kcat command line with every setting spelled out (no file needed)."""
    options = " ".join(f"-X {key}={value}" for key, value in librdkafka_config(settings, password).items()
                       if key != "bootstrap.servers")
    return f"kcat -b {settings['bootstrap.servers']} {options} -C -t {topic} -o beginning -e"
