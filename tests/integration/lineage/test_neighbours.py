"""The lineage's neighbours statement (selectors/topic_neighbours.py) against the rules it stands for, written
with the ORM: the same producers, readers and routed sources, in the same order, with what the picture shows."""

import pytest

from onboarding.models import Subscription
from onboarding.selectors.topic_neighbours import topic_neighbours
from onboarding.selectors.topics import topic_producers, topic_readers
from tests.integration.lineage.conftest import account

pytestmark = pytest.mark.django_db


def _routed_into(topic) -> list[int]:
    return list(topic.routed_from.filter(decision=Subscription.Decision.APPROVED, delete_requested_at__isnull=True)
                .order_by("source__name", "pk").values_list("pk", flat=True))


def test_each_side_has_the_rows_of_its_rule(lineage_world, cluster, payments, clinical):
    world = lineage_world
    orders, labs, hidden = world["orders"], world["labs"], world["hidden"]
    account(cluster, payments, "second")  # a second producer, after "app" by name
    # Not drawn: a request still waiting, and a reader whose deletion was asked for.
    waiting = Subscription.objects.create(subscriber=clinical, source=orders, mode=Subscription.Mode.DIRECT,
                                          service_account=world["clinical_reader"], reason="later",
                                          decision=Subscription.Decision.REQUESTED)
    Subscription.objects.filter(pk=world["direct"].pk).update(delete_requested_at=Subscription.objects.get(
        pk=waiting.pk).created_at)

    for topic in (orders, labs, hidden):
        around = topic_neighbours(topic)
        assert [sa.pk for sa in around.producers] == [sa.pk for sa in topic_producers(topic)]
        assert [sub.pk for sub in around.readers] == [sub.pk for sub in topic_readers(topic)]
        assert [sub.pk for sub in around.sources] == _routed_into(topic)
    assert len(topic_neighbours(orders).producers) == 2 and topic_neighbours(hidden).sources


def test_the_rows_carry_what_the_picture_shows_without_another_query(lineage_world, django_assert_num_queries):
    around = topic_neighbours(lineage_world["orders"])

    with django_assert_num_queries(0):
        readers = {(s.mode, s.subscriber.slug, s.service_account.principal, s.filter,
                    s.destination and (s.destination.name, s.destination.visibility, s.destination.team.slug))
                   for s in around.readers}
        sources = [(s.source_id, s.source.name, s.source.team.slug) for s in around.sources]
        producers = [(p.principal, p.status) for p in around.producers]
    hidden = lineage_world["hidden"]
    assert ("routed", "clinical", "User:clinical.reader", "value.amount > `10`",
            (hidden.name, "private", "clinical")) in readers
    assert sources == [(lineage_world["labs"].pk, lineage_world["labs"].name, "clinical")]
    assert producers == [("User:payments.app", "pending")]
