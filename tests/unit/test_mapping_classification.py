"""Which canonical fields a mapping's rules feed from tagged source fields (pure: no rows)."""

from onboarding.services.mappings_classification import fed_targets

TAGS = {"ssn": "pii", "patient.dob": "phi", "notes": "confidential"}


def test_a_rule_reading_a_tagged_field_tags_its_target():
    rules = [{"target": "national_id", "sources": ["ssn"], "fn": "rename"},
             {"target": "id", "sources": ["pid"], "fn": "rename"}]
    assert fed_targets(rules, TAGS) == {"national_id": "pii"}


def test_a_record_copied_whole_carries_the_tags_below_it_and_a_field_of_a_tagged_record_its_tag():
    assert fed_targets([{"target": "subject", "sources": ["patient"], "fn": "rename"}], TAGS) == {"subject": "phi"}
    assert fed_targets([{"target": "dob", "sources": ["patient.dob.year"], "fn": "rename"}], TAGS) == {"dob": "phi"}


def test_several_tagged_sources_give_the_strictest_and_jsonata_reads_everything():
    concat = {"target": "summary", "sources": ["notes", "ssn"], "fn": "concat"}
    assert fed_targets([concat], TAGS) == {"summary": "pii"}
    assert fed_targets([{"target": "x", "sources": [], "fn": "jsonata", "args": {"expr": "a"}}], TAGS) == {"x": "phi"}
    assert fed_targets([{"target": "x", "sources": [], "fn": "constant"}], TAGS) == {}
