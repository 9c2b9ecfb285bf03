"""Mappings on the portal's pictures and searches: the lineage of the source and of the canonical topic shows
source -> mapping -> canonical (a mapping the viewer may not open is "a mapping"), and the catalogue finds the
mappings that read or fill a field."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding.services.mappings import mapping_create
from tests.integration.mappings.helpers import RULES

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def mapping(carol, clinical, admissions, canonical, gender_table):
    return mapping_create(actor=carol, team=clinical, name="admissions", source_topic=admissions,
                          canonical_topic=canonical, rules=RULES)


def nodes(page) -> dict:
    return {placed.node.key: placed.node for placed in page.context["lineage"].nodes}


def test_lineage_shows_source_mapping_canonical(client_for, carol, gina, mapping, admissions, canonical):
    key = f"mapping-{mapping.pk}"
    upstream = nodes(client_for(carol).get(reverse("onboarding:topic_detail", args=[canonical.pk])))[key]
    assert (upstream.label, upstream.detail) == ("mapping clinical.admissions", "of clinical.admissions v1")
    assert upstream.url == reverse("onboarding:mapping_detail", args=[mapping.pk])
    downstream = nodes(client_for(carol).get(reverse("onboarding:topic_detail", args=[admissions.pk])))[key]
    assert downstream.detail == "into std.patient v1"
    # the governance team sees that someone maps into its standard, not the clinical team's rules
    seen_by_owner = nodes(client_for(gina).get(reverse("onboarding:topic_detail", args=[canonical.pk])))[key]
    assert (seen_by_owner.label, seen_by_owner.url) == ("a mapping", "")


def test_the_lineage_costs_the_same_queries_for_one_mapping_and_three(client_for, carol, clinical, mapping,
                                                                     admissions, canonical):
    client, page = client_for(carol), reverse("onboarding:topic_detail", args=[canonical.pk])
    client.get(page)  # the session and the caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        return len(captured)

    one = queries()
    for number in range(2):
        mapping_create(actor=carol, team=clinical, name=f"admissions-{number}", source_topic=admissions,
                       canonical_topic=canonical, rules=RULES)
    assert sum(node.kind == "mapping" for node in nodes(client.get(page)).values()) == 3
    assert queries() == one


def test_the_catalogue_finds_mappings_by_field(client_for, carol, alice, mapping):
    page = client_for(carol).get(reverse("onboarding:catalogue"), {"q": "birth"})
    (hit,) = page.context["mapping_hits"]
    assert hit.mapping == mapping and hit.rules == [{"index": 2, "target": "birth_date", "sources": ["dob"],
                                                     "fn": "date_parse"}]
    assert b"dob \xe2\x86\x92 birth_date (date_parse)" in page.content
    assert client_for(alice).get(reverse("onboarding:catalogue"), {"q": "birth"}).context["mapping_hits"] == []
