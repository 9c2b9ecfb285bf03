"""The gateway principal's ACLs from the grants it serves, without I/O."""

from onboarding.gateway.grants import Grant
from onboarding.platform.types import AclSpec
from onboarding.reconcile.gateway_acls import planned, principal_of

GW = "User:portal-gateway"
GRANTS_TOPIC = "_portal.gateway-grants"
TXN = "portal-gateway-"


def grant(key_id="k1", team="payments", scope="write", consume_topics=()) -> Grant:
    prefix = f"{team}."
    return Grant(key_id=key_id, secret_sha256="0" * 64, team=team, principal=f"pep_{key_id}", scope=scope,
                 produce_prefixes=(prefix,) if scope == "write" else (), consume_prefixes=(prefix,),
                 consume_topics=tuple(consume_topics), group_prefix=prefix)


def plan(*grants, write_topics=()) -> set[AclSpec]:
    return planned(GW, grants, grants_topic=GRANTS_TOPIC, transactional_id_prefix=TXN, write_topics=write_topics)


def acl(resource_type, name, pattern, operation) -> AclSpec:
    return AclSpec(resource_type, name, pattern, GW, operation)


# What the gateway needs whatever its grants: its table, its own groups (the table reader's), and its
# transactional ids for atomic batches.
OWN = {
    acl("TOPIC", GRANTS_TOPIC, "LITERAL", "READ"), acl("TOPIC", GRANTS_TOPIC, "LITERAL", "DESCRIBE"),
    acl("GROUP", "portal-gateway.", "PREFIXED", "READ"),
    acl("TRANSACTIONAL_ID", TXN, "PREFIXED", "WRITE"), acl("TRANSACTIONAL_ID", TXN, "PREFIXED", "DESCRIBE"),
}


def test_the_principal_is_the_scram_users_name():
    assert principal_of("portal-gateway") == GW


def test_without_grants_the_gateway_may_read_its_table_and_use_its_transactional_ids_only():
    assert plan() == OWN


def test_a_write_grant_publishes_and_reads_its_prefix_and_reads_its_groups():
    assert plan(grant()) == OWN | {
        acl("TOPIC", "payments.", "PREFIXED", "WRITE"), acl("TOPIC", "payments.", "PREFIXED", "DESCRIBE"),
        acl("TOPIC", "payments.", "PREFIXED", "READ"),
        acl("GROUP", "payments.", "PREFIXED", "READ"),
    }


def test_a_read_grant_never_lets_the_gateway_publish():
    acls = plan(grant(scope="read"))

    assert not {a for a in acls if a.operation == "WRITE" and a.resource_type == "TOPIC"}
    assert acl("TOPIC", "payments.", "PREFIXED", "READ") in acls


def test_a_read_grant_that_still_names_produce_prefixes_publishes_nowhere_as_the_gateway_refuses_it():
    odd = Grant(key_id="k9", secret_sha256="0" * 64, team="payments", principal="pep_k9", scope="read",
                produce_prefixes=("payments.",))

    assert plan(odd) == OWN


def test_a_direct_subscription_reads_that_exact_topic_as_a_literal():
    acls = plan(grant(consume_topics=("clinical.labs",)))

    assert {acl("TOPIC", "clinical.labs", "LITERAL", "READ"),
            acl("TOPIC", "clinical.labs", "LITERAL", "DESCRIBE")} <= acls
    assert not {a for a in acls if a.name.startswith("clinical") and a.pattern == "PREFIXED"}
    assert not {a for a in acls if a.name == "clinical.labs" and a.operation == "WRITE"}


def test_the_acls_are_the_union_of_the_grants_each_once():
    acls = plan(grant("p1"), grant("p2", scope="read"), grant("c1", team="clinical", scope="read"))

    assert acl("TOPIC", "payments.", "PREFIXED", "WRITE") in acls
    assert acl("TOPIC", "clinical.", "PREFIXED", "READ") in acls
    assert acl("TOPIC", "clinical.", "PREFIXED", "WRITE") not in acls
    assert {a.name for a in acls if a.resource_type == "GROUP"} == {"payments.", "clinical.", "portal-gateway."}
    assert len(acls) == len(OWN) + 4 + 3  # payments: write, read, describe, group; clinical: read, describe, group


def test_the_topics_the_gateway_writes_for_itself_are_literal_writes():
    assert plan(write_topics=["_portal.gateway-audit", ""]) == OWN | {
        acl("TOPIC", "_portal.gateway-audit", "LITERAL", "WRITE"),
        acl("TOPIC", "_portal.gateway-audit", "LITERAL", "DESCRIBE")}


def test_rows_that_are_not_grants_and_empty_names_grant_nothing():
    blank = Grant(key_id="k0", secret_sha256="0" * 64, team="x", principal="pep_k0", scope="write",
                  produce_prefixes=("",), consume_prefixes=("",), consume_topics=("",), group_prefix="")

    assert plan(blank, object()) == OWN


def test_without_a_transactional_id_prefix_no_transactional_id_is_allowed():
    acls = planned(GW, [], grants_topic=GRANTS_TOPIC, transactional_id_prefix="")

    assert not {a for a in acls if a.resource_type == "TRANSACTIONAL_ID"}


def test_no_cluster_right_is_planned():
    # Kafka 4 lets an idempotent producer with WRITE on any topic start without IDEMPOTENT_WRITE.
    assert not {a for a in plan(grant()) if a.resource_type == "CLUSTER"}
