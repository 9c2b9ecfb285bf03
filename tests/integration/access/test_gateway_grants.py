"""The gateway's grants table on the real broker: the access run writes a row per team token, a tombstone
when it is revoked, the subscriber's direct topics, and nothing at all when nothing changed."""

import base64
import hashlib
import uuid

import pytest
import redis
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings as django_settings

from onboarding import queue
from onboarding.gateway.grants import Grant, GrantsTable
from onboarding.models import Cluster, ResourceStatus, Subscription, Topic
from onboarding.platform.compacted import read_compacted, write_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.sweep import sweep
from onboarding.services.service_accounts import (
    service_account_create,
    service_account_delete,
    service_account_rotate,
)
from onboarding.services.subscriptions import subscription_approve, subscription_request, subscription_revoke
from onboarding.services.tokens import team_token_create, token_create, token_revoke
from onboarding.services.topics import topic_create
from tests.fixtures.topics import broker_topic
from tests.integration.access.conftest import apply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup")]


@pytest.fixture
def grants_topic(settings, kafka_admin):
    """A grants table of this test's own, removed afterwards."""
    settings.GATEWAY_GRANTS_TOPIC = f"_portal.gateway-grants-test-{uuid.uuid4().hex[:8]}"
    yield settings.GATEWAY_GRANTS_TOPIC
    if settings.GATEWAY_GRANTS_TOPIC in kafka_admin.list_topics(timeout=10).topics:
        kafka_admin.delete_topics([settings.GATEWAY_GRANTS_TOPIC], operation_timeout=30)[
            settings.GATEWAY_GRANTS_TOPIC].result(30)


def _table(cluster, topic) -> dict[str, bytes]:
    return read_compacted(kafka_connection_for(cluster), topic, timeout=20)


def _end_offset(topic) -> int:
    consumer = Consumer({"bootstrap.servers": django_settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": "unused"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def _token(actor, team, scope="write"):
    return team_token_create(actor=actor, team=team, name=f"gateway {uuid.uuid4().hex[:6]}", scope=scope,
                             via="api")


def test_a_team_token_gets_a_grant_the_gateway_accepts_until_it_is_revoked(
        cluster, payments, alice, grants_topic, kafka_admin):
    token, plain = _token(alice, payments)

    report = reconcile_access(cluster.pk)

    assert report.retry_in is None, report.errors
    assert broker_topic(kafka_admin, grants_topic) == (1, {"cleanup.policy": "compact"})
    rows = _table(cluster, grants_topic)
    assert set(rows) == {f"token:{token.key_id}"}
    grant = Grant.decode(rows[f"token:{token.key_id}"])
    assert grant == Grant(key_id=token.key_id, secret_sha256=token.key_hash, team="payments",
                          principal=f"pep_{token.key_id}", scope="write", produce_prefixes=("payments.",),
                          consume_prefixes=("payments.",), consume_topics=(), group_prefix="payments.",
                          expires_at=token.expires_at.timestamp())
    table = GrantsTable()
    for key, value in rows.items():
        table.apply(key, value)
    assert table.authenticate(plain) == grant
    assert table.authenticate(plain + "x") is None

    assert token_revoke(actor=alice, token=token, via="api")
    reconcile_access(cluster.pk)

    assert _table(cluster, grants_topic) == {}


def test_a_read_token_may_only_read_and_a_personal_token_gets_no_row(cluster, payments, alice, grants_topic):
    read_token, _ = _token(alice, payments, scope="read")
    token_create(actor=alice, user=alice, name="mine", scope="write", via="api")

    reconcile_access(cluster.pk)

    rows = _table(cluster, grants_topic)
    assert set(rows) == {f"token:{read_token.key_id}"}, "a personal token opens no gateway"
    grant = Grant.decode(rows[f"token:{read_token.key_id}"])
    assert grant.scope == "read" and not grant.may_produce("payments.orders") and grant.may_consume("payments.x")


def test_an_approved_direct_subscription_lets_the_subscribers_tokens_read_the_topic_until_revoked(
        cluster, payments, clinical, alice, carol, topic_name, grants_topic):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("grant"), partitions=1,
                         replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    clinical_token, _ = _token(carol, clinical)
    payments_token, _ = _token(alice, payments)
    sa, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"gw-{uuid.uuid4().hex[:6]}")
    sub = subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=sa,
                               mode=Subscription.Mode.DIRECT, reason="lab results", via="api")
    apply(cluster, sa)

    assert Grant.decode(_table(cluster, grants_topic)[f"token:{clinical_token.key_id}"]).consume_topics == ()

    sub = subscription_approve(actor=alice, subscription=sub, comment="ok", via="api")
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error

    rows = _table(cluster, grants_topic)
    clinical_grant = Grant.decode(rows[f"token:{clinical_token.key_id}"])
    assert clinical_grant.consume_topics == (topic.name,) and clinical_grant.may_consume(topic.name)
    assert not clinical_grant.may_produce(topic.name)
    assert Grant.decode(rows[f"token:{payments_token.key_id}"]).consume_topics == ()

    subscription_revoke(actor=carol, subscription=sub, comment="done", via="api")
    assert apply(cluster, sub).status == ResourceStatus.DELETED, sub.last_error

    assert Grant.decode(_table(cluster, grants_topic)[f"token:{clinical_token.key_id}"]).consume_topics == ()


def test_a_run_with_nothing_changed_writes_nothing(cluster, payments, alice, grants_topic):
    _token(alice, payments)
    _token(alice, payments, scope="read")
    reconcile_access(cluster.pk)
    end = _end_offset(grants_topic)
    assert end >= 2

    report = reconcile_access(cluster.pk)

    assert report.retry_in is None, report.errors
    assert _end_offset(grants_topic) == end
    assert len(_table(cluster, grants_topic)) == 2


def test_a_table_that_cannot_be_written_asks_the_run_for_a_retry_without_failing_the_accounts(
        cluster, payments, alice, settings):
    settings.GATEWAY_GRANTS_TOPIC = "invalid topic name!"
    # The run is marked queued already, so the services queue none and this run is the one that claims the account.
    redis.Redis.from_url(django_settings.REDIS_URL).set(queue.Kind.ACCESS.mark(cluster.pk), 1, ex=60)
    _token(alice, payments)
    sa, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name=f"gw-{uuid.uuid4().hex[:6]}")

    report = reconcile_access(cluster.pk)

    sa.refresh_from_db()
    assert report.claimed == 1
    assert sa.status == ResourceStatus.READY, sa.last_error
    assert report.retry_in is not None and "gateway-grants" in report.errors
    queue.clear_mark(queue.Kind.ACCESS, cluster.pk)


def _runs_queued(callbacks) -> set:
    """(kind, cluster id) of each reconcile run the captured on-commit callbacks would queue."""
    runs = set()
    for callback in callbacks:
        values = [cell.cell_contents for cell in callback.__closure__ or ()]
        cells = dict(zip(callback.__code__.co_freevars, values, strict=True))
        runs.add((cells.get("kind"), cells.get("cluster_id")))
    return runs


# Not a transaction test: the callbacks are captured (never run), so no worker of the session takes the runs.
@pytest.mark.django_db(transaction=False)
def test_creating_or_revoking_a_team_token_queues_an_access_run_of_every_cluster(
        cluster, prod_cluster, payments, alice, django_capture_on_commit_callbacks):
    every_cluster = {(queue.Kind.ACCESS, cluster.pk), (queue.Kind.ACCESS, prod_cluster.pk)}

    with django_capture_on_commit_callbacks() as created:
        token, _ = _token(alice, payments)
    with django_capture_on_commit_callbacks() as revoked:
        token_revoke(actor=alice, token=token, via="api")
    with django_capture_on_commit_callbacks() as personal:
        token_create(actor=alice, user=alice, name="mine", scope="write", via="api")

    assert _runs_queued(created) == every_cluster and len(created) == 2
    assert _runs_queued(revoked) == every_cluster and len(revoked) == 2
    assert personal == [], "a personal token opens no gateway"


def test_the_sweep_finds_a_grants_table_out_of_step_and_an_access_run_puts_it_back(
        cluster, payments, alice, grants_topic, kafka_admin):
    token, _ = _token(alice, payments)
    reconcile_access(cluster.pk)
    wanted = _table(cluster, grants_topic)
    # A row nobody granted, written behind the portal's back (or left by a tombstone that a lost trigger never
    # wrote): an access run is what removes it, and nothing but the sweep would queue one.
    stray = Grant(key_id="f" * 12, secret_sha256="0" * 64, team="payments", principal="pep_" + "f" * 12,
                  scope="write", produce_prefixes=("payments.",), consume_prefixes=("payments.",),
                  group_prefix="payments.")
    write_compacted(kafka_connection_for(cluster), grants_topic, {stray.key: stray.encode()})
    Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=None)
    queue.clear_mark(queue.Kind.ACCESS, cluster.pk)

    summary = sweep()

    assert summary[cluster.name]["gateway_grants"] == "queued"
    reconcile_access(cluster.pk)
    assert _table(cluster, grants_topic) == wanted
    Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=None)
    assert sweep()[cluster.name]["gateway_grants"] == "in step"
    assert f"token:{token.key_id}" in wanted


def test_a_service_accounts_credentials_work_at_the_gateway_until_rotated_or_deleted(
        cluster, payments, alice, grants_topic):
    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments,
                                          name=f"gw-{uuid.uuid4().hex[:6]}")
    assert apply(cluster, sa).status == ResourceStatus.READY
    sa.refresh_from_db()
    assert sa.secret_sha256 == hashlib.sha256(password.encode()).hexdigest()
    reconcile_access(cluster.pk)

    table = GrantsTable()
    for key, value in _table(cluster, grants_topic).items():
        table.apply(key, value)
    grant, reason = table.check_authorization(_basic(sa.username, password))
    assert reason == "ok"
    assert (grant.kind, grant.team, grant.produce_prefixes, grant.group_prefix) == (
        "account", "payments", ("payments.",), "payments.")

    sa, new_password = service_account_rotate(actor=alice, sa=sa)
    apply(cluster, sa)
    reconcile_access(cluster.pk)
    for key, value in _table(cluster, grants_topic).items():
        table.apply(key, value)
    assert table.check_authorization(_basic(sa.username, password)) == (None, "wrong_secret")
    assert table.check_authorization(_basic(sa.username, new_password))[1] == "ok"

    service_account_delete(actor=alice, sa=sa)
    apply(cluster, sa)
    reconcile_access(cluster.pk)
    assert f"account:{sa.username}" not in _table(cluster, grants_topic)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
