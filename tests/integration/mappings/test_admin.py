"""Mappings, code tables and canonical topics in the admin: pages render for an operator, rows are read-only,
and deleting a mapping goes through the service (audited, the mapper's row to be removed)."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, CanonicalTopic, CodeTable, Mapping
from onboarding.services.mappings import mapping_create
from tests.integration.mappings.helpers import RULES

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def mapping(carol, clinical, admissions, canonical, gender_table):
    return mapping_create(actor=carol, team=clinical, name="adm", source_topic=admissions,
                          canonical_topic=canonical, rules=RULES)


@pytest.mark.parametrize("model", [Mapping, CodeTable, CanonicalTopic], ids=lambda m: m.__name__)
def test_the_pages_render_and_the_rows_are_read_only(client_for, operator, mapping, model):
    browser = client_for(operator)
    name = f"admin:onboarding_{model._meta.model_name}"
    assert browser.get(reverse(f"{name}_changelist")).context["cl"].result_count == 1
    page = browser.get(reverse(f"{name}_change", args=[model.objects.get().pk]))
    assert page.status_code == 200 and not page.context["has_add_permission"]


def test_deleting_a_mapping_goes_through_the_service(client_for, operator, mapping):
    browser = client_for(operator)
    browser.post(reverse("admin:onboarding_mapping_changelist"),
                 {"action": "delete_mappings", "_selected_action": [mapping.pk]})
    assert Mapping.objects.get().status == "deleting"
    assert AuditEvent.objects.filter(action="mapping.delete", via="admin").exists()
