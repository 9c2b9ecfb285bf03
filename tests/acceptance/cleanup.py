"""Housekeeping after a run, not part of any check: the brokers and registries are shared and keep what
they are given, so this run's topics, subjects, SCRAM users and their ACLs (all named with the run's
marker) are removed through the stack's admin endpoints once the portal's processes have stopped."""

from __future__ import annotations

import os

import requests
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
)

ENVIRONMENTS = (("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL"),
                ("KAFKA_PROD_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_PROD_URL"))


def remove_run_leftovers(marker: str, *tables: str) -> list[str]:
    """Delete what carries `marker`; returns the problems met (cleanup never fails a run)."""
    problems: list[str] = []
    for kafka_variable, registry_variable in ENVIRONMENTS:
        bootstrap, registry = os.environ.get(kafka_variable), os.environ.get(registry_variable)
        if bootstrap:
            problems += _broker(AdminClient({"bootstrap.servers": bootstrap}), marker, tables)
        if registry:
            problems += _registry(registry, marker)
    return problems


def _settle(futures, problems: list[str]) -> None:
    for what, future in futures.items():
        try:
            future.result(30)
        except Exception as exc:  # noqa: BLE001 - report and go on
            problems.append(f"{what}: {exc}")


def _broker(admin: AdminClient, marker: str, tables: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    topics = [n for n in admin.list_topics(timeout=10).topics if marker in n or n in tables]
    if topics:
        _settle(admin.delete_topics(topics, operation_timeout=30), problems)
    users = [u for u in admin.describe_user_scram_credentials().result(30) if marker in u]
    if users:
        _settle(admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in users]), problems)
        filters = [AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, f"User:{u}", None,
                                    AclOperation.ANY, AclPermissionType.ANY) for u in users]
        _settle(admin.delete_acls(filters), problems)
    return problems


def _registry(url: str, marker: str) -> list[str]:
    problems: list[str] = []
    try:
        subjects = requests.get(f"{url}/subjects", timeout=10).json()
        for subject in (s for s in subjects if marker in s):
            for permanent in ("false", "true"):  # soft, then hard: the Confluent contract
                requests.delete(f"{url}/subjects/{subject}", params={"permanent": permanent}, timeout=10)
    except (requests.RequestException, ValueError) as exc:
        problems.append(f"registry {url}: {exc}")
    return problems
