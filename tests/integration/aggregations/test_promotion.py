"""Promoting a topic takes its team's aggregations of it to the next environment (those the target lacks)."""

import pytest

from onboarding.changes.gate import change_policy_for
from onboarding.changes.promotion import topic_promote
from onboarding.errors import ValidationError
from onboarding.models import Aggregation, ChangeRequest
from onboarding.services.aggregations import aggregation_create
from tests.integration.aggregations.helpers import definition

pytestmark = pytest.mark.django_db


def test_a_promoted_topic_brings_its_aggregations_and_a_second_promotion_none(alice, operator, payments, cluster,
                                                                              prod_cluster, payments_topic):
    source = payments_topic()
    aggregation_create(actor=alice, **definition(payments, source, window_type="session", size=None, gap="30m"))
    policy = change_policy_for(prod_cluster)
    policy.operations_needing_approval = ["aggregation.create"]
    policy.save()

    cr = topic_promote(actor=alice, topic=source, via="api")
    assert cr.status == ChangeRequest.Status.PENDING
    assert [c["operation"] for c in cr.changes] == ["topic.create", "aggregation.create"]
    assert cr.plan["steps"][1]["summary"] == "Define aggregation payments.per-provider"

    from onboarding.changes.requests import change_request_approve
    applied = change_request_approve(actor=operator, change_request=cr, via="browser")
    assert applied.status == ChangeRequest.Status.APPLIED, applied.error
    promoted = Aggregation.objects.get(cluster=prod_cluster)
    assert (promoted.source.cluster, promoted.source.name, promoted.window_type, promoted.gap_ms, promoted.version) == (
        prod_cluster, source.name, "session", 1_800_000, 1)

    with pytest.raises(ValidationError) as refused:
        topic_promote(actor=alice, topic=source, via="api")
    assert "nothing to promote" in refused.value.messages[0]
