"""Editing a topic in the admin goes through topic_update: same rules, audit and generation as the portal."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import ApplyAttempt, AuditEvent, ResourceStatus
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db


def _edit(client, topic, **changes):
    url = reverse("admin:onboarding_topic_change", args=[topic.pk])
    data = {**changeform_data(client.get(url)), **changes}
    return client.post(url, data)


def test_a_config_change_is_a_new_generation_with_an_audit_record(operator_client, operator, ready_topic,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        response = _edit(operator_client, ready_topic,
                         configs='{"retention.ms": 86400000, "cleanup.policy": "compact"}')

    assert response.status_code == 302, form_errors(response)
    assert len(scheduled) == 1  # one reconcile, from the save: validating with topic_update_errors schedules none
    ready_topic.refresh_from_db()
    assert ready_topic.configs == {"retention.ms": "86400000", "cleanup.policy": "compact"}
    assert ready_topic.generation == 3
    assert ready_topic.status == ResourceStatus.PENDING
    event = AuditEvent.objects.get(action="topic.update", resource_id=str(ready_topic.pk))
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    assert event.before["configs"] == {"retention.ms": "604800000"}
    assert event.after["generation"] == 3


def test_a_description_change_is_audited_and_moves_the_generation_without_work_for_kafka(operator_client,
                                                                                         ready_topic):
    response = _edit(operator_client, ready_topic, description="Orders, one event per state change.")

    assert response.status_code == 302, form_errors(response)
    ready_topic.refresh_from_db()
    assert ready_topic.description == "Orders, one event per state change."
    assert (ready_topic.generation, ready_topic.observed_generation, ready_topic.status) == (3, 3, "ready")
    assert AuditEvent.objects.filter(action="topic.update", resource_id=str(ready_topic.pk)).count() == 1


def test_a_config_the_policy_refuses_is_shown_on_the_form_and_nothing_changes(operator_client, ready_topic):
    response = _edit(operator_client, ready_topic, configs='{"retention.ms": 5}', partitions="2")

    assert response.status_code == 200
    errors = form_errors(response)
    assert any("retention.ms: must be at least" in m for m in errors["configs"]), errors
    assert any("never shrink" in m for m in errors["partitions"]), errors
    ready_topic.refresh_from_db()
    assert (ready_topic.generation, ready_topic.partitions) == (2, 3)
    assert not AuditEvent.objects.filter(action="topic.update").exists()


def test_a_change_saved_meanwhile_is_not_overwritten(operator_client, ready_topic):
    url = reverse("admin:onboarding_topic_change", args=[ready_topic.pk])
    data = changeform_data(operator_client.get(url))
    ready_topic.generation = 5  # someone else applied a change after the page was loaded
    ready_topic.save()

    response = operator_client.post(url, {**data, "partitions": "6"})

    assert response.status_code == 200
    assert "changed since you loaded it" in " ".join(form_errors(response)["__all__"])
    ready_topic.refresh_from_db()
    assert ready_topic.partitions == 3


def test_the_page_shows_the_newest_attempts_and_links_to_the_rest(operator_client, ready_topic):
    start = timezone.now()
    ApplyAttempt.objects.bulk_create(
        ApplyAttempt(topic=ready_topic, generation=2, outcome=ApplyAttempt.Outcome.FAILED, error=f"try {n}",
                     started_at=start + timedelta(seconds=n), duration_ms=5, run_id=f"run-{n}")
        for n in range(25))

    response = operator_client.get(reverse("admin:onboarding_topic_change", args=[ready_topic.pk]))

    shown = [form.instance.error for form in response.context["inline_admin_formsets"][0].formset.forms]
    assert shown == [f"try {n}" for n in range(24, 4, -1)]
    history = reverse("admin:onboarding_applyattempt_changelist") + f"?topic__id__exact={ready_topic.pk}"
    assert history.encode() in response.content
    assert operator_client.get(history).context["cl"].result_count == 25


def test_the_approval_flag_is_changed_through_topic_update_with_an_audit_record(operator_client, ready_topic):
    response = _edit(operator_client, ready_topic, subscriptions_need_approval="on")

    assert response.status_code == 302, form_errors(response)
    ready_topic.refresh_from_db()
    assert ready_topic.subscriptions_need_approval is True
    assert ready_topic.generation == 3  # protected like every other edit
    event = AuditEvent.objects.get(action="topic.update", resource_id=str(ready_topic.pk))
    assert event.after["subscriptions_need_approval"] is True
