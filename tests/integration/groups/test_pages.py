"""The group pages on the real broker: the team's groups, the group page, the htmx dry run then apply of a
reset, the owners' approval from the topic page, and the lag plots."""

import pytest
from django.urls import reverse

from onboarding.models import OffsetReset, Subscription
from onboarding.services.group_lag import lag_sample
from onboarding.services.groups import consumer_groups_for
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from tests.integration.groups.conftest import produce
from tests.integration.groups.test_offset_resets import T0, T1, T1_TEXT, _commit_as_admin

pytestmark = pytest.mark.django_db


def _read_all(cluster, group, topic, count):
    highs = consumer_groups_for(cluster).watermarks([topic])
    _commit_as_admin(group, {key: mark.high for key, mark in highs.items()})


def test_the_group_page_dry_runs_a_reset_then_applies_it(cluster, payments, bob, orders, client_for, run):
    group = f"payments.page-{run}"
    produce(orders.name, [{"n": n} for n in range(30)], timestamp_ms=T0)
    produce(orders.name, [{"n": n} for n in range(30, 40)], timestamp_ms=T1)
    _read_all(cluster, group, orders.name, 40)
    browser = client_for(bob)

    team_page = browser.get(reverse("onboarding:team_detail", args=["payments"]))
    assert reverse("onboarding:team_groups", args=["payments"]) in team_page.content.decode()
    listed = browser.get(reverse("onboarding:team_groups", args=["payments"])).content.decode()
    assert f'data-group="{group}"' in listed

    url = reverse("onboarding:group_detail", args=[cluster.name, group])
    page = browser.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="partitions"' in html and orders.name in html and 'data-testid="reset-form"' in html

    reset_url = reverse("onboarding:group_reset", args=[cluster.name, group])
    fields = {"topic": orders.pk, "strategy": "timestamp", "timestamp": T1_TEXT, "dry_run": "1"}
    dry = browser.post(reset_url, fields, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="reset-plan")
    assert dry.status_code == 200
    assert 'data-testid="lag-after">10<' in dry.content.decode()
    assert not OffsetReset.objects.exists(), "a dry run changes nothing"

    bad = browser.post(reset_url, {**fields, "timestamp": ""}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and 'data-testid="reset-error-timestamp"' in bad.content.decode()
    full_page = browser.post(reset_url, {**fields, "timestamp": ""})  # without htmx: the page again, a 400
    assert full_page.status_code == 400 and 'data-testid="reset-error-timestamp"' in full_page.content.decode()

    applied = browser.post(reset_url, {**{k: v for k, v in fields.items() if k != "dry_run"}, "apply": "1"},
                           HTTP_HX_REQUEST="true")
    assert applied.status_code == 204 and applied["HX-Location"] == url
    assert OffsetReset.objects.get().status == OffsetReset.Status.APPLIED
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 30


def test_the_topic_owner_approves_a_waiting_reset_on_the_topic_page(
        cluster, payments, alice, clinical, carol, orders, client_for, run):
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"r-{run}")
    subscription = subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=account,
                                        mode=Subscription.Mode.DIRECT, reason="reports", via="api")
    group = f"clinical.page-{run}"
    produce(orders.name, [{"n": n} for n in range(8)], timestamp_ms=T0)
    _read_all(cluster, group, orders.name, 8)
    reset_url = reverse("onboarding:group_reset", args=[cluster.name, group])
    asked = client_for(carol).post(reset_url, {"topic": orders.pk, "strategy": "earliest", "apply": "1"})
    assert asked.status_code == 302
    reset = OffsetReset.objects.get()
    assert reset.status == OffsetReset.Status.REQUESTED

    lag_sample(cluster)
    owner = client_for(alice)
    fragment = owner.get(reverse("onboarding:topic_lag", args=[orders.pk])).content.decode()
    assert 'data-testid="waiting-resets"' in fragment and group in fragment
    assert 'data-testid="lag-plot"' in fragment and "<polyline" in fragment
    decided = owner.post(reverse("onboarding:offset_reset_decide", args=[reset.pk, "approve"]),
                         {"next": "https://elsewhere.example/"})
    assert decided.status_code == 302 and decided["Location"] == reverse("onboarding:topic_detail", args=[orders.pk])
    reset.refresh_from_db()
    assert reset.status == OffsetReset.Status.APPLIED
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 0

    sub_page = client_for(carol).get(reverse("onboarding:subscription_detail", args=[subscription.pk])).content
    assert reverse("onboarding:subscription_lag", args=[subscription.pk]).encode() in sub_page
    plot = client_for(carol).get(reverse("onboarding:subscription_lag", args=[subscription.pk])).content.decode()
    assert f'data-label="{group}"' in plot
    # carol is no member of payments: the group page of one of its groups does not exist for her.
    assert client_for(carol).get(reverse("onboarding:group_detail", args=[cluster.name, "payments.x"])
                                 ).status_code == 404


def test_operators_read_resets_and_samples_in_the_admin(cluster, operator, bob, orders, client_for, run):
    group = f"payments.admin-{run}"
    produce(orders.name, [{"n": 1}], timestamp_ms=T0)
    _read_all(cluster, group, orders.name, 1)
    lag_sample(cluster)
    browser = client_for(operator)
    for name in ("offsetreset", "lagsample"):
        page = browser.get(reverse(f"admin:onboarding_{name}_changelist"))
        assert page.status_code == 200
    assert group in browser.get(reverse("admin:onboarding_lagsample_changelist")).content.decode()
