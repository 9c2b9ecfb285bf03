"""'Subscriptions need approval' on the topic form: set when creating, changed when editing."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Topic
from tests.integration.views.test_topic_forms import create_data, edit_data

pytestmark = pytest.mark.django_db


def test_the_create_form_offers_the_flag_and_a_ticked_box_sets_it(client_for, alice, cluster, payments):
    client = client_for(alice)

    page = client.get(reverse("onboarding:topic_create")).content.decode()
    response = client.post(reverse("onboarding:topic_create"),
                           create_data(cluster, payments, subscriptions_need_approval="on"))

    assert 'name="subscriptions_need_approval"' in page
    assert response.status_code == 302
    assert Topic.objects.get(name="payments.refunds").subscriptions_need_approval is True


def test_the_edit_form_shows_the_flag_and_unticking_it_clears_it(client_for, alice, public_topic):
    Topic.objects.filter(pk=public_topic.pk).update(subscriptions_need_approval=True)
    public_topic.refresh_from_db()
    client = client_for(alice)
    url = reverse("onboarding:topic_edit", args=[public_topic.pk])

    page = client.get(url).content.decode()
    response = client.post(url, edit_data(public_topic))  # an unticked box is not sent

    assert 'name="subscriptions_need_approval" id="id_subscriptions_need_approval" checked' in page
    assert response.status_code == 302
    public_topic.refresh_from_db()
    assert public_topic.subscriptions_need_approval is False
    event = AuditEvent.objects.get(action="topic.update", resource_id=str(public_topic.pk))
    assert (event.before["subscriptions_need_approval"], event.after["subscriptions_need_approval"]) == (True, False)
