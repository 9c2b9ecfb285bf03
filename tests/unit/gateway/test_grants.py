"""The grants table: a token's row decides what its bearer may do; a tombstone or a wrong secret, nothing."""

import hashlib

import pytest

from onboarding.gateway.grants import Grant, GrantsTable, split_bearer

SECRET = "s3cr3t-value"


def grant(**fields) -> Grant:
    values = {"key_id": "abc123", "secret_sha256": hashlib.sha256(SECRET.encode()).hexdigest(), "team": "payments",
              "principal": "pep_abc123", "scope": "write", "produce_prefixes": ("payments.",),
              "consume_prefixes": ("payments.",), "consume_topics": ("clinical.labs",), "group_prefix": "payments."}
    return Grant(**{**values, **fields})


@pytest.fixture
def table():
    table = GrantsTable()
    table.apply(grant().key, grant().encode())
    return table


def test_a_row_survives_its_encoding():
    assert Grant.decode(grant().encode()) == grant()


def test_the_right_token_finds_its_grant(table):
    assert table.authenticate(f"pep_abc123_{SECRET}") == grant()


@pytest.mark.parametrize("bearer", [f"pep_abc123_{SECRET}x", "pep_abc123_", f"pep_zzz999_{SECRET}", "abc123",
                                    f"xyz_abc123_{SECRET}", ""])
def test_a_wrong_unknown_or_malformed_token_finds_nothing(table, bearer):
    assert table.authenticate(bearer) is None


def test_a_tombstone_revokes_at_once(table):
    table.apply(grant().key, None)

    assert table.authenticate(f"pep_abc123_{SECRET}") is None and len(table) == 0


def test_an_expired_grant_is_refused():
    table = GrantsTable()
    table.apply(grant().key, grant(expires_at=1000.0).encode())

    assert table.authenticate(f"pep_abc123_{SECRET}", now=999.0) is not None
    assert table.authenticate(f"pep_abc123_{SECRET}", now=1000.0) is None


def test_an_unreadable_row_grants_nothing(table):
    table.apply(grant().key, b"{not json")

    assert table.authenticate(f"pep_abc123_{SECRET}") is None


def test_publishing_needs_write_scope_and_the_team_prefix():
    assert grant().may_produce("payments.orders")
    assert not grant().may_produce("clinical.labs")
    assert not grant(scope="read").may_produce("payments.orders")


def test_consuming_covers_the_team_and_its_direct_subscriptions():
    assert grant().may_consume("payments.orders") and grant().may_consume("clinical.labs")
    assert not grant().may_consume("clinical.secret")


def test_consumer_groups_are_forced_under_the_team_prefix():
    assert grant().group("payments.billing") == "payments.billing"
    assert grant().group("billing") == "payments.billing"
    assert grant().group("clinical.steal") == "payments.clinical.steal"


def test_a_bearer_splits_into_key_id_and_secret():
    assert split_bearer("pep_abc_def_ghi") == ("abc", "def_ghi")
    assert split_bearer("pep_abc") is None
