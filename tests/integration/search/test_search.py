"""catalogue_search: what it finds, in which order, with which facets, for whom."""

import pytest

from onboarding.models import Topic
from onboarding.search import SearchFilters, catalogue_search

from .conftest import PATIENT_ADMISSION, stored_schema

pytestmark = pytest.mark.django_db


def names(page):
    return [hit.topic.name for hit in page.hits]


def test_a_field_is_found_by_the_words_of_its_documentation(make_topic, alice):
    admissions = make_topic("payments.admissions", description="Hospital admissions")
    stored_schema(admissions, PATIENT_ADMISSION)
    make_topic("payments.orders", description="Orders placed by patients")

    page = catalogue_search(user=alice, q="patient birth date")

    assert names(page) == ["payments.admissions"]
    matched = page.hits[0].fields
    assert matched[0].path == "patient.birth_date"
    assert "<mark>birth</mark>" in matched[0].highlight and matched[0].doc == "Date of birth of the patient"


def test_the_exact_name_ranks_first_over_a_topic_mentioning_it(make_topic, alice):
    make_topic("payments.refunds-audit", description="Copies of payments.refunds for the auditors; refunds refunds")
    make_topic("payments.refunds")

    assert names(catalogue_search(user=alice, q="payments.refunds"))[0] == "payments.refunds"


def test_a_name_match_ranks_above_a_field_documentation_match(make_topic, alice):
    by_doc = make_topic("payments.admissions")
    stored_schema(by_doc, PATIENT_ADMISSION)
    make_topic("payments.ward-changes", description="Moves between wards")

    assert names(catalogue_search(user=alice, q="ward")) == ["payments.ward-changes", "payments.admissions"]


def test_a_misspelt_name_is_found_by_trigram_similarity(make_topic, alice, carol, clinical):
    make_topic("payments.settlements")
    make_topic("payments.orders")
    make_topic("clinical.labs", actor=carol, team=clinical)

    assert names(catalogue_search(user=alice, q="setlements")) == ["payments.settlements"]
    assert sorted(names(catalogue_search(user=alice, q="paymnts"))) == ["payments.orders", "payments.settlements"]


def test_owners_and_tags_are_searchable(make_topic, alice, carol, clinical, cluster):
    make_topic("payments.cards", tags=["pci"])
    make_topic("clinical.labs", actor=carol, team=clinical)

    assert names(catalogue_search(user=alice, q="pci")) == ["payments.cards"]
    assert names(catalogue_search(user=alice, q="Clinical systems")) == ["clinical.labs"]
    assert names(catalogue_search(user=alice, q="payments@example.org")) == ["payments.cards"]


def test_facets_count_the_matches_and_combine(make_topic, alice, carol, clinical, test_cluster):
    stored_schema(make_topic("payments.a", tags=["pii", "gold"], description="event stream"), PATIENT_ADMISSION)
    make_topic("payments.b", tags=["pii"], description="event stream", on=test_cluster)
    make_topic("clinical.c", actor=carol, team=clinical, tags=["gold"], description="event stream")
    make_topic("payments.unrelated", tags=["pii"])

    page = catalogue_search(user=alice, q="event stream")
    counts = {name: {v.value: v.count for v in values} for name, values in page.facets.items()}
    assert page.total == 3
    assert counts == {"team": {"payments": 2, "clinical": 1}, "environment": {"dev": 2, "test": 1},
                      "tag": {"pii": 2, "gold": 2}, "format": {"AVRO": 1}}

    narrowed = catalogue_search(user=alice, q="event stream", filters=SearchFilters(teams=("payments",),
                                                                                     tags=("gold",)))
    assert names(narrowed) == ["payments.a"]
    assert {v.value: (v.count, v.selected) for v in narrowed.facets["team"]} == {"payments": (1, True)}
    either = catalogue_search(user=alice, filters=SearchFilters(environments=("dev", "test"), formats=("AVRO",)))
    assert names(either) == ["payments.a"]


def test_private_topics_are_found_only_by_their_team_and_operators(make_topic, alice, vera, carol, operator):
    make_topic("payments.ledger", visibility=Topic.Visibility.PRIVATE, description="General ledger")

    assert names(catalogue_search(user=carol, q="ledger")) == []
    assert catalogue_search(user=carol).facets["team"] == []
    assert names(catalogue_search(user=vera, q="ledger")) == ["payments.ledger"]
    assert names(catalogue_search(user=operator, q="ledger")) == ["payments.ledger"]


def test_deleted_topics_are_not_in_the_catalogue(make_topic, alice):
    topic = make_topic("payments.gone")
    Topic.objects.filter(pk=topic.pk).update(status="deleted")

    assert names(catalogue_search(user=alice, q="payments.gone")) == []


def test_pages_split_the_results_and_a_page_past_the_end_shows_the_last(make_topic, alice):
    for i in range(5):
        make_topic(f"payments.page-{i}")

    first = catalogue_search(user=alice, page_size=2)
    last = catalogue_search(user=alice, page_size=2, page=99)
    assert (first.total, first.num_pages, first.has_next) == (5, 3, True)
    assert names(first) == ["payments.page-0", "payments.page-1"]
    assert names(last) == ["payments.page-4"] and last.number == 3 and not last.has_next


def test_odd_input_gives_no_error(make_topic, alice):
    make_topic("payments.orders")
    for q in ["&|!(", "'", "\\", "the", "a" * 1000, "payments:*", '"unclosed']:
        catalogue_search(user=alice, q=q)
