"""Topics and clients for the history tests (no broker needed: the worker is not running here)."""

import pytest

from onboarding.history.models import TopicEvent
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.integration.admin.conftest import make_topic  # noqa: F401 - re-exported for the tests


@pytest.fixture
def topic(payments, alice, cluster, topic_name):
    return topic_create(actor=alice, team=payments, cluster=cluster, name=topic_name(), partitions=1,
                        replication_factor=1, via="browser")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def latest_event(topic):
    return TopicEvent.objects.filter(pgh_obj_id=topic.pk).latest("pgh_id")
