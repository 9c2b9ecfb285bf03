"""The grants table: a token's row decides what its bearer may do; a tombstone or a wrong secret, nothing."""

import base64
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


def _account_table(password: str = "s3cret-of-the-account") -> tuple[GrantsTable, Grant]:
    grant = Grant(key_id="payments.loader", secret_sha256=hashlib.sha256(password.encode()).hexdigest(),
                  team="payments", principal="payments.loader", scope="write", produce_prefixes=("payments.",),
                  group_prefix="payments.", kind="account")
    table = GrantsTable()
    table.apply(grant.key, grant.encode())
    return table, grant


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_a_service_accounts_credentials_find_its_grant_by_their_digest():
    table, grant = _account_table()

    assert grant.key == "account:payments.loader"
    assert Grant.decode(grant.encode()) == grant
    assert table.check_authorization(_basic("payments.loader", "s3cret-of-the-account")) == (grant, "ok")
    assert table.check_authorization(_basic("payments.loader", "wrong")) == (None, "wrong_secret")
    assert table.check_authorization(_basic("payments.other", "s3cret-of-the-account")) == (None, "unknown_account")


@pytest.mark.parametrize("header", ["", "Basic", "Basic %%%", "Basic " + base64.b64encode(b"no-colon").decode(),
                                    "Digest abc", "Bearer "])
def test_a_missing_or_malformed_authorization_finds_nothing(header):
    table, _ = _account_table()

    grant, reason = table.check_authorization(header)

    assert grant is None and reason in {"missing_token", "malformed_token"}


def test_a_token_row_keeps_its_bytes_and_an_account_row_names_its_kind():
    table, account = _account_table()
    token = Grant(key_id="abc123def456", secret_sha256="0" * 64, team="payments", principal="pep_abc123def456",
                  scope="write")

    assert b"kind" not in token.encode() and token.key == "token:abc123def456"
    assert b'"kind":"account"' in account.encode()
    # A team token cannot be presented as Basic credentials, nor an account's password as a bearer token.
    table.apply(token.key, token.encode())
    assert table.check_authorization(_basic("abc123def456", "anything"))[0] is None
