"""The gateway's grants from the portal's state, and the rows a run writes to the table, without I/O."""

import hashlib
from datetime import UTC, datetime

from onboarding.gateway.grants import Grant, GrantsTable, TopicMasks
from onboarding.reconcile.gateway_plan import DirectSubscriptionInput, TokenInput, desired, diff

SECRET = "the-secret-part"
HASH = hashlib.sha256(SECRET.encode()).hexdigest()
EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def token(key_id="abc123", team="payments", scope="write", expires_at=EXPIRY) -> TokenInput:
    return TokenInput(key_id=key_id, key_hash=HASH, team_slug=team, scope=scope, expires_at=expires_at)


def test_a_write_token_publishes_and_reads_its_teams_topics_and_its_groups_stay_under_the_team():
    grant = desired([token()], [])["token:abc123"]

    assert grant == Grant(key_id="abc123", secret_sha256=HASH, team="payments", principal="pep_abc123",
                          scope="write", produce_prefixes=("payments.",), consume_prefixes=("payments.",),
                          consume_topics=(), group_prefix="payments.", expires_at=EXPIRY.timestamp())
    assert grant.may_produce("payments.orders") and grant.may_consume("payments.orders")
    assert not grant.may_produce("clinical.labs") and not grant.may_consume("clinical.labs")
    assert grant.group("billing") == "payments.billing"


def test_a_read_token_reads_its_teams_topics_but_publishes_nowhere():
    grant = desired([token(scope="read")], [])["token:abc123"]

    assert grant.produce_prefixes == () and not grant.may_produce("payments.orders")
    assert grant.may_consume("payments.orders")


def test_a_direct_subscription_lets_every_token_of_the_subscriber_read_that_exact_topic():
    grants = desired([token("pay1"), token("pay2", scope="read")],
                     [DirectSubscriptionInput("payments", "clinical.labs"),
                      DirectSubscriptionInput("payments", "billing.invoices"),
                      DirectSubscriptionInput("payments", "clinical.labs")])

    for key in ("token:pay1", "token:pay2"):
        assert grants[key].consume_topics == ("billing.invoices", "clinical.labs")
        assert grants[key].may_consume("clinical.labs") and not grants[key].may_consume("clinical.labs-secret")
        assert not grants[key].may_produce("clinical.labs")


def test_another_teams_subscriptions_grant_nothing():
    grants = desired([token("pay1"), token("clin1", team="clinical")],
                     [DirectSubscriptionInput("clinical", "payments.orders"),
                      DirectSubscriptionInput("research", "clinical.labs")])

    assert grants["token:pay1"].consume_topics == ()
    assert grants["token:clin1"].consume_topics == ("payments.orders",)
    assert grants["token:clin1"].consume_prefixes == ("clinical.",)


def test_only_the_tokens_passed_in_get_rows():
    # The caller leaves revoked and expired tokens out; what is not passed in has no row, so it is tombstoned.
    assert set(desired([token("live")], [])) == {"token:live"}
    assert desired([], [DirectSubscriptionInput("payments", "clinical.labs")]) == {}


def test_a_token_without_expiry_has_none_and_the_table_accepts_its_secret():
    grant = desired([token(expires_at=None)], [])["token:abc123"]
    table = GrantsTable()
    table.apply(grant.key, grant.encode())

    assert grant.expires_at is None
    assert table.authenticate(f"pep_abc123_{SECRET}") == grant
    assert table.authenticate("pep_abc123_wrong") is None


def test_the_same_state_gives_the_same_bytes():
    direct = [DirectSubscriptionInput("payments", "b.x"), DirectSubscriptionInput("payments", "a.y")]
    first = desired([token()], direct)["token:abc123"].encode()
    again = desired([token()], list(reversed(direct)))["token:abc123"].encode()

    assert first == again


def test_an_unchanged_table_is_written_nothing():
    wanted = desired([token("a"), token("b", scope="read")], [])
    observed = {key: grant.encode() for key, grant in wanted.items()}

    assert diff(wanted, observed) == ({}, [])


def test_a_new_or_changed_row_is_rewritten_and_only_that_row():
    before = desired([token("a"), token("b")], [])
    observed = {key: grant.encode() for key, grant in before.items()}
    after = desired([token("a"), token("b"), token("c")], [DirectSubscriptionInput("payments", "clinical.labs")])
    after["token:a"] = before["token:a"]  # unchanged

    upserts, tombstones = diff(after, observed)

    assert set(upserts) == {"token:b", "token:c"} and tombstones == []
    assert Grant.decode(upserts["token:b"]).consume_topics == ("clinical.labs",)


def test_a_row_no_longer_wanted_gets_a_tombstone():
    observed = {key: grant.encode() for key, grant in desired([token("a"), token("gone")], []).items()}

    upserts, tombstones = diff(desired([token("a")], []), observed)

    assert upserts == {} and tombstones == ["token:gone"]


def test_an_unreadable_row_is_replaced():
    wanted = desired([token("a")], [])

    upserts, tombstones = diff(wanted, {"token:a": b"{not json"})

    assert upserts == {"token:a": wanted["token:a"].encode()} and tombstones == []


# ------------------------------------------------------------------------------ masks of sensitive fields
LABS = {"value": {"patient.ssn": "phi", "visits[].code": "phi"}, "key": {}}


def test_a_topic_with_sensitive_fields_gets_a_row_of_its_paths_and_classifications():
    rows = desired([token()], [], {"clinical.labs": LABS, "payments.orders": {"key": {}, "value": {}}})

    masks = rows["topic:clinical.labs"]
    assert masks == TopicMasks(topic="clinical.labs", value={"patient.ssn": "phi", "visits[].code": "phi"})
    assert "topic:payments.orders" not in rows  # nothing tagged: no row, so nothing to keep in step
    assert TopicMasks.decode(masks.encode()) == masks


def test_a_tagged_key_is_kept_with_its_side():
    rows = desired([], [], {"clinical.labs": {"key": {"patient_id": "pii"}, "value": {}}})

    assert rows["topic:clinical.labs"].key == {"patient_id": "pii"} and rows["topic:clinical.labs"].value == {}


def test_no_token_reads_sensitive_fields_in_clear_as_peek_shows_them_to_nobody():
    # The owning team and a direct subscriber alike: peek masks for every viewer.
    rows = desired([token("own", team="clinical"), token("sub")],
                   [DirectSubscriptionInput("payments", "clinical.labs")], {"clinical.labs": LABS})

    assert rows["token:own"].clear_topics == () and rows["token:sub"].clear_topics == ()
    assert b"clear_topics" not in rows["token:own"].encode()  # rows written before masking keep their bytes


def test_the_same_tags_give_the_same_bytes_whatever_their_order():
    one = desired([], [], {"t.a": {"value": {"b": "pii", "a": "phi"}}})["topic:t.a"].encode()
    two = desired([], [], {"t.a": {"value": {"a": "phi", "b": "pii"}}})["topic:t.a"].encode()

    assert one == two


def test_a_retagged_field_rewrites_only_its_topics_row():
    before = desired([token("a")], [], {"t.a": LABS, "t.b": LABS})
    observed = {key: row.encode() for key, row in before.items()}
    retagged = {"value": {**LABS["value"], "patient.ssn": "secret"}}

    upserts, tombstones = diff(desired([token("a")], [], {"t.a": retagged, "t.b": LABS}), observed)

    assert list(upserts) == ["topic:t.a"] and tombstones == []
    assert TopicMasks.decode(upserts["topic:t.a"]).value["patient.ssn"] == "secret"


def test_a_topic_whose_last_tag_is_removed_gets_a_tombstone_and_tokens_stay():
    observed = {key: row.encode() for key, row in desired([token("a")], [], {"t.a": LABS}).items()}

    upserts, tombstones = diff(desired([token("a")], [], {"t.a": {"key": {}, "value": {}}}), observed)

    assert upserts == {} and tombstones == ["topic:t.a"]
