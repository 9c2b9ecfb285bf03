"""In a real browser: the group page draws its lag plot, a reset to a time is dry-run (htmx: the plan per
partition under the form, nothing changed) and then applied, and the group's offsets move as the plan said."""

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import OffsetReset
from onboarding.services.group_lag import lag_sample
from onboarding.services.groups import consumer_groups_for
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.integration.groups.conftest import orders, produce, run  # noqa: F401  (fixtures)
from tests.integration.groups.test_offset_resets import T0, T1, T1_TEXT, _commit_as_admin
from tests.integration.routing.test_portal_routing import cleanup_topics  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_queued_runs(monkeypatch):
    """No worker runs here: the test applies what it needs in this process."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_a_reset_is_dry_run_then_applied_from_the_group_page(page, live_server, alice, cluster, orders,  # noqa: F811
                                                             run):  # noqa: F811
    group = f"payments.browser-{run}"
    produce(orders.name, [{"n": n} for n in range(30)], timestamp_ms=T0)
    produce(orders.name, [{"n": n} for n in range(30, 40)], timestamp_ms=T1)
    _commit_as_admin(group, {key: m.high for key, m in consumer_groups_for(cluster).watermarks([orders.name]).items()})
    lag_sample(cluster)
    produce(orders.name, [{"n": n} for n in range(40, 45)], timestamp_ms=T1)
    lag_sample(cluster)

    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/teams/payments/")
    expect(page.get_by_test_id("team-groups").locator(f'tr[data-group="{group}"]')).to_be_visible()
    page.get_by_test_id("team-groups").get_by_role("link", name=group).click()

    expect(page.get_by_test_id("lag-plot")).to_have_attribute("data-points", "2")
    expect(page.get_by_test_id("lag-plot").locator("polyline")).to_have_count(1)
    form = page.get_by_test_id("reset-form")
    form.get_by_label("To a time").check()
    form.get_by_test_id("reset-dry-run").click()  # no time given: said beside the field, nothing planned
    expect(page.get_by_test_id("reset-plan").get_by_test_id("reset-error-timestamp")).to_contain_text("needs")
    form.locator("input[name=timestamp]").fill(T1_TEXT)
    form.get_by_test_id("reset-dry-run").click()

    plan = page.get_by_test_id("reset-plan")
    expect(plan.get_by_test_id("lag-after")).to_have_text("15")
    expect(plan.locator("tbody tr")).to_have_count(2)
    page.screenshot(path="/tmp/group_reset_dry_run.png", full_page=True)
    assert not OffsetReset.objects.exists(), "the dry run changed something"
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 40

    plan.get_by_test_id("reset-apply").click()
    expect(page.get_by_test_id("resets").get_by_test_id("reset-status")).to_have_text("Applied")
    page.screenshot(path="/tmp/group_reset_applied.png", full_page=True)
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 30  # the first events at the time
    assert OffsetReset.objects.get().status == OffsetReset.Status.APPLIED
