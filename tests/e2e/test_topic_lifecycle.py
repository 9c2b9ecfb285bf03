"""A team owner's whole topic life in a real browser, checked on the real broker.

The Celery worker applies every change; the detail page's status badge must reach Ready by
itself (htmx polling), without the page being reloaded.
"""

import re
import uuid

import pytest
from confluent_kafka.admin import ConfigResource, ResourceType
from playwright.sync_api import expect

from onboarding.models import Topic
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.fixtures.waiting import wait_for, wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APPLY_TIMEOUT_MS = 60_000


def on_broker(kafka_admin, name: str):
    """(partitions, topic-level configs) as the broker reports them, or None if the topic is absent."""
    metadata = kafka_admin.list_topics(timeout=10).topics.get(name)
    if metadata is None or metadata.error is not None:
        return None
    resource = ConfigResource(ResourceType.TOPIC, name)
    entries = kafka_admin.describe_configs([resource])[resource].result(10)
    return len(metadata.partitions), {key: entry.value for key, entry in entries.items()}


@pytest.fixture
def on_broker_cleanup(kafka_admin):
    """Names this test puts on the broker (shared, and it keeps its topics); removed afterwards."""
    names: list[str] = []
    yield names
    present = [n for n in names if n in kafka_admin.list_topics(timeout=10).topics]
    for future in (kafka_admin.delete_topics(present, operation_timeout=30).values() if present else []):
        future.result(30)


@pytest.fixture
def topic_name(on_broker_cleanup):
    name = f"payments.{uuid.uuid4().hex[:8]}"
    on_broker_cleanup.append(name)
    return name


def registered(on_broker_cleanup, **fields) -> Topic:
    """A topic registered through the service and applied by the worker, so nothing is left half-made."""
    on_broker_cleanup.append(fields["name"])
    topic = topic_create(**fields)
    return wait_for_status(topic, "ready", timeout=60)


def expect_settled_without_reload(page, status: str):
    """The badge reaches ``status`` through htmx alone: a marker set on the window survives."""
    page.evaluate("window.__notReloaded = true")
    expect(page.get_by_test_id("status-badge")).to_have_text(status, timeout=APPLY_TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded instead of refreshed by htmx"


def test_an_owner_creates_edits_and_deletes_a_topic(page, live_server, celery_worker, kafka_admin, alice, cluster,
                                                   payments, topic_name):
    log_in(page, live_server, "alice", PASSWORD)

    # Create: an illegal name is refused while typing, then fixed.
    page.goto(f"{live_server.url}/topics/new/")
    page.locator("#id_name").press_sequentially("payments.Orders Now!")
    expect(page.locator("#err-name")).to_contain_text("Kafka topic names may only contain letters")
    page.locator("#id_name").fill("")
    page.locator("#id_name").press_sequentially(topic_name)
    expect(page.locator("#err-name li")).to_have_count(0)
    page.locator("#id_partitions").fill("2")
    page.locator("#id_cfg_retention_ms").fill("3600000")
    page.select_option("#id_cfg_cleanup_policy", "delete")
    page.get_by_role("button", name="Create topic").click()
    page.wait_for_url(re.compile(r"/topics/\d+/$"))
    topic = Topic.objects.get(name=topic_name)

    expect_settled_without_reload(page, "Ready")
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_test_id("attempts")).to_contain_text("create topic with 2 partitions")
    partitions, configs = on_broker(kafka_admin, topic_name)
    assert partitions == 2
    assert (configs["retention.ms"], configs["cleanup.policy"]) == ("3600000", "delete")

    # Edit: more partitions and another retention.
    page.get_by_role("link", name="Edit").click()
    page.locator("#id_partitions").fill("4")
    page.locator("#id_cfg_retention_ms").fill("7200000")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{live_server.url}/topics/{topic.pk}/")
    expect_settled_without_reload(page, "Ready")
    expect(page.get_by_test_id("partitions")).to_have_text("4")
    partitions, configs = wait_for(lambda: (seen := on_broker(kafka_admin, topic_name)) and seen[0] == 4
                                   and seen[1]["retention.ms"] == "7200000" and seen, timeout=30,
                                   message="the broker to show the edit")
    assert configs["cleanup.policy"] == "delete"

    # Delete: a wrong name is refused, the right one deletes.
    page.get_by_role("link", name="Delete").click()
    page.locator("#id_confirm_name").fill("payments.something-else")
    page.get_by_role("button", name="Delete this topic").click()
    expect(page.locator("#err-confirm_name")).to_contain_text(f"Type the topic's name, {topic_name}, to confirm.")
    page.locator("#id_confirm_name").fill(topic_name)
    page.get_by_role("button", name="Delete this topic").click()
    page.wait_for_url(f"{live_server.url}/topics/{topic.pk}/")
    expect_settled_without_reload(page, "Deleted")
    wait_for(lambda: on_broker(kafka_admin, topic_name) is None, timeout=30, message="the topic to leave the broker")


def test_the_list_search_swaps_the_table_as_you_type(page, live_server, celery_worker, on_broker_cleanup, alice,
                                                     cluster, payments):
    run = uuid.uuid4().hex[:8]
    for suffix in ("orders", "refunds", "payouts"):
        registered(on_broker_cleanup, actor=alice, cluster=cluster, team=payments, name=f"payments.{run}-{suffix}")
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/")
    page.evaluate("window.__notReloaded = true")

    page.get_by_placeholder("Name or description").press_sequentially("refu")

    expect(page.locator("#topic-table tbody tr")).to_have_count(1)
    expect(page.locator("#topic-table")).to_contain_text(f"payments.{run}-refunds")
    assert page.evaluate("window.__notReloaded === true")
    assert "q=refu" in page.url


def test_an_outsider_cannot_reach_the_edit_page_of_a_payments_topic(page, live_server, celery_worker,
                                                                    on_broker_cleanup, alice, carol, cluster,
                                                                    payments):
    run = uuid.uuid4().hex[:8]
    private = registered(on_broker_cleanup, actor=alice, cluster=cluster, team=payments, name=f"payments.{run}-secret",
                         visibility="private")
    public = registered(on_broker_cleanup, actor=alice, cluster=cluster, team=payments, name=f"payments.{run}-open")
    log_in(page, live_server, "carol", PASSWORD)

    hidden = page.goto(f"{live_server.url}/topics/{private.pk}/edit/")
    assert hidden.status == 404
    assert private.name not in page.content()

    refused = page.goto(f"{live_server.url}/topics/{public.pk}/edit/")
    assert refused.status == 403
    expect(page.get_by_test_id("reason")).to_have_text("Only owners and members of the team can change its topics.")
