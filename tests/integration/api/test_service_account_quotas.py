"""A service account's client quotas through the API and the page: the same service, field-level errors for bad
numbers, a new generation for the access run, and a change request where the cluster gates quota changes."""

from html import unescape

import pytest
from django.urls import reverse

from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_request_approve
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, ServiceAccount

pytestmark = pytest.mark.django_db

BELOW = "Ensure this value is greater than or equal to 1024."


@pytest.fixture
def account(cluster, payments):
    return ServiceAccount.objects.create(cluster=cluster, team=payments, name="billing", username="payments.billing",
                                         status=ResourceStatus.READY)


def test_the_api_sets_and_clears_quotas_with_field_errors_for_bad_numbers(api_as, alice, account):
    url = f"/api/v1/service-accounts/{account.pk}/quota/"
    bad = api_as(alice).put(url, {"producer_byte_rate": 10, "consumer_byte_rate": "lots",
                                  "request_percentage": None}, format="json")
    assert bad.status_code == 400, bad.content
    assert set(bad.json()["errors"]) == {"consumer_byte_rate"}  # the serializer parses first

    below = api_as(alice).put(url, {"producer_byte_rate": 10, "consumer_byte_rate": None,
                                    "request_percentage": 0}, format="json")
    assert below.json() == {"errors": {"producer_byte_rate": [BELOW],
                                       "request_percentage": ["Ensure this value is greater than or equal to 1."]}}

    done = api_as(alice).put(url, {"producer_byte_rate": 102400, "consumer_byte_rate": None,
                                   "request_percentage": 200}, format="json")
    assert done.status_code == 200, done.content
    assert (done.json()["producer_byte_rate"], done.json()["request_percentage"], done.json()["status"]) == (
        102400, 200, "pending")
    assert AuditEvent.objects.get(action="service_account.quota").via == AuditEvent.Via.API


def test_a_gating_cluster_turns_the_change_into_a_request_applied_on_approval(api_as, alice, operator, cluster,
                                                                             account):
    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["service_account.quota"]
    policy.save()

    answer = api_as(alice).put(f"/api/v1/service-accounts/{account.pk}/quota/", {
        "producer_byte_rate": 102400, "consumer_byte_rate": None, "request_percentage": None}, format="json")

    assert answer.status_code == 202, answer.content
    request = ChangeRequest.objects.get()
    assert request.changes[0]["operation"] == "service_account.quota"
    assert request.plan["steps"][0]["actions"] == [
        "set client quota producer_byte_rate of user=payments.billing: none -> 102400"]
    account.refresh_from_db()
    assert account.producer_byte_rate is None

    decided = change_request_approve(actor=operator, change_request=request, via=AuditEvent.Via.BROWSER)
    assert decided.status == "applied", decided.error
    account.refresh_from_db()
    assert (account.producer_byte_rate, account.status) == (102400, ResourceStatus.PENDING)


def test_the_page_shows_the_services_words_beside_the_field_and_saves(client_for, alice, account):
    url = reverse("onboarding:service_account_quota", args=[account.pk])
    refused = client_for(alice).post(url, {"producer_byte_rate": "10"})
    assert refused.status_code == 400
    assert f'<ul class="errorlist" id="err-producer_byte_rate"><li>{BELOW}</li>' in unescape(refused.content.decode())

    saved = client_for(alice).post(url, {"producer_byte_rate": "102400", "consumer_byte_rate": ""})
    assert saved.status_code == 302
    account.refresh_from_db()
    assert (account.producer_byte_rate, account.consumer_byte_rate) == (102400, None)
    listing = client_for(alice).get(reverse("onboarding:service_accounts", args=["payments"])).content.decode()
    assert "quota: producer_byte_rate 102400" in listing
