"""The broker is real: topics through the admin API, ACLs enforced for SASL principals."""

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from django.conf import settings

from tests.fixtures.waiting import wait_for


def test_it_creates_describes_and_deletes_a_topic(kafka_admin, unique):
    name = f"stack.probe-{unique}"
    kafka_admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1,
                                        config={"retention.ms": "3600000"})])[name].result(30)

    # The controller has committed the topic; brokers' metadata caches follow a moment later.
    wait_for(lambda: len(kafka_admin.list_topics(topic=name, timeout=10).topics[name].partitions) == 3,
             timeout=10, message="the new topic's 3 partitions in the broker's metadata")

    kafka_admin.delete_topics([name], operation_timeout=30)[name].result(30)
    # The controller has committed the deletion; brokers' metadata caches follow a moment later.
    wait_for(lambda: name not in kafka_admin.list_topics(timeout=10).topics, timeout=10,
             message="the deleted topic to leave the broker's metadata")


@pytest.fixture
def scram_user(kafka_admin, unique):
    """A SCRAM-SHA-512 principal on the SASL listener, with no rights of its own."""
    username, password = f"user-{unique}", f"secret-{unique}"
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
    futures = kafka_admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(username, credential, password.encode())])
    futures[username].result(30)
    yield username, password
    kafka_admin.alter_user_scram_credentials(
        [UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)])[username].result(30)


def _sasl(bootstrap, username, password):
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": username, "sasl.password": password}


def _authenticates(bootstrap, username, password):
    """A new SCRAM credential reaches the broker through the metadata log a moment after it is created."""
    try:
        AdminClient(_sasl(bootstrap, username, password)).list_topics(timeout=2)
        return True
    except KafkaException:
        return False


def _read_one(bootstrap, username, password, topic, group, seconds=20):
    consumer = Consumer({**_sasl(bootstrap, username, password), "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        # Ask for committed offsets and data explicitly so an authorization failure surfaces as an error.
        consumer.assign([TopicPartition(topic, 0, 0)])
        for _ in range(seconds):
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            return message.value()
        raise AssertionError(f"no message within {seconds} s")
    finally:
        consumer.close()


def test_an_acl_lets_a_sasl_principal_read_and_it_is_denied_before(kafka_admin, kafka_sasl_bootstrap,
                                                                    scram_user, unique):
    username, password = scram_user
    topic, group = f"stack.acl-{unique}", f"group-{unique}"
    kafka_admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    producer.produce(topic, b"hello")
    assert producer.flush(15) == 0

    principal = f"User:{username}"
    wait_for(lambda: _authenticates(kafka_sasl_bootstrap, username, password), timeout=15,
             message="the SCRAM user to be able to log in")
    try:
        # The group ACL comes first so that the only thing missing is the right to read the topic.
        _allow(kafka_admin, ResourceType.GROUP, group, principal)
        metadata = AdminClient(_sasl(kafka_sasl_bootstrap, username, password)).list_topics(topic=topic, timeout=10)
        assert metadata.topics[topic].error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert _try_read(kafka_sasl_bootstrap, username, password, topic, group, 5) is None

        _allow(kafka_admin, ResourceType.TOPIC, topic, principal)

        # ACLs propagate through the metadata log; allow the broker a moment to apply them.
        value = wait_for(lambda: _try_read(kafka_sasl_bootstrap, username, password, topic, group), timeout=10,
                         message="the new ACL to take effect")
        assert value == b"hello"
    finally:
        kafka_admin.delete_topics([topic])[topic].result(30)
        kafka_admin.delete_acls([AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,
                                                  AclOperation.ANY, AclPermissionType.ANY)])


def _try_read(*args):
    try:
        return _read_one(*args)
    except (KafkaException, AssertionError):
        return None


def _allow(admin, resource_type, name, principal):
    binding = AclBinding(resource_type, name, ResourcePatternType.LITERAL, principal, "*",
                         AclOperation.READ, AclPermissionType.ALLOW)
    admin.create_acls([binding])[binding].result(30)

