"""The desired-ACL computation and its diff with the cluster, without I/O."""

from onboarding.reconcile.access_plan import (
    AccountInput,
    AclSpec,
    DirectAccessInput,
    adopted,
    describe,
    desired,
    diff,
    drift_of,
    specs_of,
)

PAY = "User:payments.app"
CLIN = "User:clinical.reader"


def test_a_service_account_may_produce_to_and_consume_its_teams_topics_and_use_its_groups():
    acls = desired([AccountInput(PAY, "payments")], [])[PAY]
    assert AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "WRITE") in acls
    assert AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "READ") in acls
    assert AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "DESCRIBE") in acls
    assert AclSpec("TRANSACTIONAL_ID", "payments.", "PREFIXED", PAY, "WRITE") in acls
    assert AclSpec("TRANSACTIONAL_ID", "payments.", "PREFIXED", PAY, "DESCRIBE") in acls
    assert AclSpec("GROUP", "payments.", "PREFIXED", PAY, "READ") in acls
    assert len(acls) == 6
    assert not any(a.name != "payments." for a in acls)


def test_an_account_that_only_produces_gets_no_read_on_its_teams_topics():
    acls = desired([AccountInput(PAY, "payments", consume_own=False)], [])[PAY]
    assert AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "WRITE") in acls
    assert not any(a.operation == "READ" and a.resource_type == "TOPIC" for a in acls)


def test_adopted_exceptions_make_the_observed_set_the_desired_one():
    standard = desired([AccountInput(PAY, "payments")], [])[PAY]
    write = AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "WRITE")
    stray = AclSpec("TOPIC", "clinical.", "PREFIXED", PAY, "READ")
    observed = (standard - {write}) | {stray}
    exceptions = adopted(standard, observed)
    assert exceptions == {"accepted": [stray.as_dict()], "waived": [write.as_dict()]}
    account = AccountInput(PAY, "payments", accepted=specs_of(exceptions["accepted"]),
                           waived=specs_of(exceptions["waived"]))
    assert desired([account], [])[PAY] == observed
    assert diff(desired([account], []), observed, [PAY]) == (set(), set())


def test_an_accepted_acl_of_another_principal_grants_nothing():
    foreign = AclSpec("TOPIC", "x", "LITERAL", "User:someone-else", "READ")
    acls = desired([AccountInput(PAY, "payments", accepted=frozenset({foreign}))], [])
    assert foreign not in acls[PAY] and "User:someone-else" not in acls


def test_a_direct_subscription_grants_read_on_the_source_topic_only():
    acls = desired([AccountInput(CLIN, "clinical")],
                   [DirectAccessInput(CLIN, "clinical", "payments.orders")])[CLIN]
    assert AclSpec("TOPIC", "payments.orders", "LITERAL", CLIN, "READ") in acls
    assert AclSpec("TOPIC", "payments.orders", "LITERAL", CLIN, "DESCRIBE") in acls
    assert AclSpec("GROUP", "clinical.", "PREFIXED", CLIN, "READ") in acls
    assert not any(a.name == "payments." for a in acls)


def test_a_subscription_of_an_account_that_is_not_live_grants_nothing():
    assert desired([], [DirectAccessInput(CLIN, "clinical", "payments.orders")]) == {}


def test_diff_only_touches_the_given_principals():
    want = desired([AccountInput(PAY, "payments")], [])
    foreign = AclSpec("TOPIC", "x", "LITERAL", "User:someone-else", "READ")
    stray = AclSpec("TOPIC", "clinical.", "PREFIXED", PAY, "READ")
    have = set(list(want[PAY])[:3]) | {foreign, stray}
    missing, extra = diff(want, have, [PAY])
    assert missing == want[PAY] - have
    assert extra == {stray}


def test_a_principal_without_desired_acls_loses_all_of_them():
    acl = AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "WRITE")
    assert diff({}, {acl}, [PAY]) == (set(), {acl})


def test_drift_record_lists_missing_and_extra_acls():
    acl = AclSpec("TOPIC", "payments.", "PREFIXED", PAY, "WRITE")
    record = drift_of([acl], [])
    assert record == {"missing": [acl.as_dict()], "extra": []}
    assert drift_of([], []) is None
    assert "ALLOW WRITE on PREFIXED TOPIC payments." in describe(record)
