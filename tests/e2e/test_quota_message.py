"""A team at its partition quota sees why in the topic form, while typing and on submit, in a real browser."""

import os
import uuid

import pytest
from playwright.sync_api import expect

from onboarding.models import ResourceStatus, Topic
from onboarding.models.clusters import TeamQuota
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AT_QUOTA = "This would exceed your team's quota of 200 partitions (you use 190)."


def test_the_topic_form_tells_a_team_at_its_quota_the_numbers(page, live_server, alice, cluster, payments):
    TeamQuota.objects.create(cluster=cluster, max_partitions=200)
    for n in range(10):
        Topic.objects.create(cluster=cluster, team=payments, name=f"payments.held-{n}", partitions=19,
                             replication_factor=1, configs={"retention.bytes": "1048576"},
                             status=ResourceStatus.READY)
    log_in(page, live_server, "alice", PASSWORD)

    page.goto(f"{live_server.url}/topics/new/")
    page.locator("#id_name").press_sequentially(f"payments.q-{uuid.uuid4().hex[:6]}")
    page.locator("#id_partitions").fill("")
    page.locator("#id_partitions").press_sequentially("12")
    expect(page.locator("#err-partitions")).to_contain_text(AT_QUOTA)
    page.get_by_role("button", name="Create topic").click()

    expect(page.locator("#err-partitions")).to_contain_text(AT_QUOTA)
    assert Topic.objects.filter(team=payments).count() == 10
    shots = os.environ.get("ACCEPTANCE_LOG_DIR") or "/tmp"
    os.makedirs(shots, exist_ok=True)
    page.locator("#topic-form").screenshot(path=os.path.join(shots, "topic-form-quota.png"))
