"""'Subscriptions need approval' through the API: shown, set on create, changed on update, refused when not a
yes/no with the service's wording, and kept through a change request."""

import pytest

from onboarding.changes.requests import change_request_approve
from onboarding.models import ChangeRequest, Topic
from onboarding.services.topics import APPROVAL_NOT_BOOL, topic_create, topic_update
from tests.integration.api.conftest import TOPICS, new_name, topic_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as, alice, cluster):
    return api_as(alice)


def test_a_topic_created_with_the_flag_shows_it_and_a_patch_clears_it(client, cluster):
    created = client.post(TOPICS, {"cluster": cluster.name, "team": "payments", "name": new_name(), "partitions": 1,
                                   "replication_factor": 1, "subscriptions_need_approval": True}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["subscriptions_need_approval"] is True
    changed = client.patch(created["Location"], {"subscriptions_need_approval": False}, format="json",
                           HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200, changed.content
    assert changed.json()["subscriptions_need_approval"] is False
    assert changed["ETag"] == '"2"'


def test_a_value_that_is_not_yes_or_no_is_a_field_error_in_the_services_words(client, payments_topic):
    topic = payments_topic()

    answer = client.patch(topic_url(topic), {"subscriptions_need_approval": "perhaps"}, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"]["subscriptions_need_approval"] == [APPROVAL_NOT_BOOL]


def test_the_service_refuses_a_value_that_is_not_a_boolean(cluster, payments, alice):
    from onboarding.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        topic_create(actor=alice, cluster=cluster, team=payments, name=new_name(), partitions=1,
                     replication_factor=1, subscriptions_need_approval="yes")
    assert refused.value.message_dict["subscriptions_need_approval"] == [APPROVAL_NOT_BOOL]


def test_a_gated_create_and_update_keep_the_flag_until_they_are_applied(cluster, payments, alice, otto, gated):
    gated(cluster, "topic.create", "topic.update")
    name = new_name()

    cr = topic_create(actor=alice, cluster=cluster, team=payments, name=name, partitions=1, replication_factor=1,
                      subscriptions_need_approval=True)
    assert isinstance(cr, ChangeRequest)
    change_request_approve(actor=otto, change_request=cr, via="api")
    topic = Topic.objects.get(cluster=cluster, name=name)
    assert topic.subscriptions_need_approval is True

    cr = topic_update(actor=alice, topic=topic, subscriptions_need_approval=False)
    assert isinstance(cr, ChangeRequest)
    change_request_approve(actor=otto, change_request=cr, via="api")
    topic.refresh_from_db()
    assert topic.subscriptions_need_approval is False
