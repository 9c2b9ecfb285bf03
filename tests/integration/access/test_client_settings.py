"""The one-time client settings connect: the API's client_settings plus the password, pasted into a separate
confluent-kafka client, produce and consume on the cluster's SASL listener; the Java form names the same
listener and the SCRAM login module; the page shows all three forms and never the admin listener."""

import re
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from django.conf import settings
from rest_framework.test import APIClient

from onboarding.models import ApiToken, ResourceStatus
from onboarding.reconcile import topics as topic_reconciler
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import apply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup")]


def _api(user) -> APIClient:
    _, plain = ApiToken.new(user=user, name="tests", scope=ApiToken.Scope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def _properties(text: str) -> dict[str, str]:
    """A Java .properties file's key=value lines (what the snippet uses: no continuations)."""
    pairs = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().replace("\\\\", "\\")
    return pairs


def _topic(cluster, payments, alice):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.cs-{uuid.uuid4().hex[:8]}",
                         partitions=1, replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


def test_the_api_client_settings_produce_and_consume_as_the_account(
        cluster, payments, alice, kafka_sasl_bootstrap, kafka_admin):
    topic = _topic(cluster, payments, alice)
    answer = _api(alice).post("/api/v1/service-accounts/", {"cluster": "local", "team": "payments",
                                                             "name": f"app-{uuid.uuid4().hex[:6]}"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    client_settings, password = body["client_settings"], body["password"]
    assert client_settings == {"bootstrap.servers": kafka_sasl_bootstrap, "security.protocol": "SASL_PLAINTEXT",
                               "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": body["username"]}
    assert client_settings["bootstrap.servers"] != settings.KAFKA_BOOTSTRAP_SERVERS
    from onboarding.models import ServiceAccount

    apply(cluster, ServiceAccount.objects.get(pk=body["id"]))

    config = {**client_settings, "sasl.password": password}
    marker = uuid.uuid4().hex.encode()

    def produced() -> bool:
        producer = Producer({**config, "message.timeout.ms": 5000})
        outcome = []
        producer.produce(topic.name, marker, on_delivery=lambda err, _m: outcome.append(err))
        producer.flush(8)
        return bool(outcome) and outcome[0] is None

    wait_for(produced, timeout=30, message="a record produced with the pasted settings")
    consumer = Consumer({**config, "group.id": f"payments.check-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe([topic.name])

        def consumed():
            message = consumer.poll(1.0)
            if message is None:
                return None
            if message.error() and message.error().code() != KafkaError._PARTITION_EOF:
                raise AssertionError(message.error().name())
            return message.error() is None and message.value() == marker

        wait_for(consumed, timeout=30, interval=0, message="the record consumed with the pasted settings")
    finally:
        consumer.close()

    rotated = _api(alice).post(f"/api/v1/service-accounts/{body['id']}/rotate/")
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["client_settings"] == client_settings
    assert rotated.json()["password"] not in str(rotated.json()["client_settings"])


def test_the_one_time_page_shows_librdkafka_java_and_kcat_forms_for_the_sasl_listener(
        client, cluster, payments, alice, kafka_sasl_bootstrap):
    client.login(username="alice", password=PASSWORD)
    page = client.post("/teams/payments/service-accounts/", {"cluster": cluster.pk, "name": "billing",
                                                            "description": "", "can_consume_own_topics": "on"})
    assert page.status_code == 200, page.content[:500]
    html = page.content.decode()
    password = re.search(r'id="password"[^>]*>([^<]+)</code>', html).group(1)

    def block(testid: str) -> str:
        found = re.search(rf'data-testid="{testid}">(.*?)</pre>', html, re.S)
        assert found, testid
        return found.group(1).replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")

    librdkafka = _properties(block("client-settings-librdkafka"))
    assert librdkafka == {"bootstrap.servers": kafka_sasl_bootstrap, "security.protocol": "SASL_PLAINTEXT",
                          "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "payments.billing",
                          "sasl.password": password}
    java = _properties(block("client-settings-java"))
    assert java["bootstrap.servers"] == kafka_sasl_bootstrap
    assert (java["security.protocol"], java["sasl.mechanism"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert java["sasl.jaas.config"] == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                                        f'username="payments.billing" password="{password}";')
    kcat = block("client-settings-kcat")
    assert kcat.startswith(f"kcat -b {kafka_sasl_bootstrap} ") and f"-X sasl.password={password}" in kcat
    assert settings.KAFKA_BOOTSTRAP_SERVERS not in html  # the PLAINTEXT admin listener is never offered
    versions = re.search(r'data-testid="client-versions">(.*?)</ul>', html, re.S).group(1)
    assert "librdkafka (C/C++, kcat) &ge; 2.6.1" in versions and "Java kafka-clients &ge; 3.0" in versions
