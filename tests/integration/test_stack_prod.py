"""The prod pair of the stack is a second, separate system: its own Kafka cluster and its own registry."""

import json

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.platform.registry import Registry
from tests.fixtures.waiting import wait_for

SCHEMA = {"type": "record", "name": "Discharge", "namespace": "stack.probe",
          "fields": [{"name": "patient_id", "type": "string"}]}


def _topics(admin):
    return admin.list_topics(timeout=10).topics


def test_the_prod_broker_is_another_kafka_cluster(kafka_admin, kafka_prod_admin, unique):
    assert kafka_prod_admin.list_topics(timeout=10).cluster_id != kafka_admin.list_topics(timeout=10).cluster_id

    name = f"stack.prod-only-{unique}"
    kafka_prod_admin.create_topics([NewTopic(name, 1, 1)])[name].result(30)
    try:
        wait_for(lambda: name in _topics(kafka_prod_admin), timeout=10, message="the topic in prod's metadata")
        assert name not in _topics(kafka_admin)
    finally:
        kafka_prod_admin.delete_topics([name], operation_timeout=30)[name].result(30)


def _sasl(bootstrap, username, password):
    return AdminClient({"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
                        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": username, "sasl.password": password,
                        "socket.connection.setup.timeout.ms": 5000})


def _authenticates(bootstrap, username, password):
    try:
        _sasl(bootstrap, username, password).list_topics(timeout=2)
        return True
    except KafkaException:
        return False


@pytest.fixture
def prod_scram_user(kafka_prod_admin, unique):
    """A SCRAM-SHA-512 principal known to the prod broker only, with no ACLs."""
    username, password = f"user-{unique}", f"secret-{unique}"
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
    kafka_prod_admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(username, credential, password.encode())])[username].result(30)
    yield username, password
    kafka_prod_admin.alter_user_scram_credentials(
        [UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)])[username].result(30)


def test_a_scram_principal_without_acl_is_refused_on_the_prod_sasl_listener(
        kafka_prod_admin, kafka_prod_sasl_bootstrap, kafka_sasl_bootstrap, prod_scram_user, unique):
    username, password = prod_scram_user
    topic = f"stack.prod-acl-{unique}"
    kafka_prod_admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    try:
        wait_for(lambda: _authenticates(kafka_prod_sasl_bootstrap, username, password), timeout=15,
                 message="the SCRAM user to be able to log in to prod")
        metadata = _sasl(kafka_prod_sasl_bootstrap, username, password).list_topics(topic=topic, timeout=10)
        assert metadata.topics[topic].error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        # The credential lives in prod's metadata log only: the dev broker does not know the user.
        assert not _authenticates(kafka_sasl_bootstrap, username, password)
    finally:
        kafka_prod_admin.delete_topics([topic], operation_timeout=30)[topic].result(30)


@pytest.fixture
def dev_subject(registry_http, registry_url, unique):
    name = f"stack.dev-only-{unique}-value"
    yield name
    registry_http.delete(f"{registry_url}/subjects/{name}")
    registry_http.delete(f"{registry_url}/subjects/{name}?permanent=true")


def test_the_prod_registry_does_not_see_dev_subjects(registry_http, registry_url, registry_prod_url, dev_subject):
    body = json.dumps({"schemaType": "AVRO", "schema": json.dumps(SCHEMA)})
    registered = registry_http.post(f"{registry_url}/subjects/{dev_subject}/versions", data=body)
    assert registered.status_code == 200, registered.text
    assert dev_subject in registry_http.get(f"{registry_url}/subjects").json()

    assert dev_subject not in registry_http.get(f"{registry_prod_url}/subjects").json()
    assert registry_http.get(f"{registry_prod_url}/subjects/{dev_subject}/versions").status_code == 404


def test_the_prod_registry_defaults_to_backward(registry_http, registry_prod_url):
    response = registry_http.get(f"{registry_prod_url}/config")
    assert response.status_code == 200
    assert response.json()["compatibilityLevel"] == "BACKWARD"


def test_the_prod_cluster_is_reached_through_the_platform_adapters(prod_cluster, cluster, kafka_prod_admin):
    admin = KafkaAdmin(kafka_connection_for(prod_cluster))
    assert admin.ping() == 1
    # The adapter talks to prod, not to the dev cluster the portal is configured with by default.
    prod_id = kafka_prod_admin.list_topics(timeout=10).cluster_id
    assert admin.client.list_topics(timeout=10).cluster_id == prod_id
    assert KafkaAdmin(kafka_connection_for(cluster)).client.list_topics(timeout=10).cluster_id != prod_id

    with Registry(registry_connection_for(prod_cluster)) as registry:
        registry.ping()
        assert registry.connection.url == prod_cluster.registry_url.rstrip("/")
        assert registry.global_compatibility() == "BACKWARD"
