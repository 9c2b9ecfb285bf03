"""A manifest manages a service account's client quotas when it names them: set, changed and cleared through the
quota service; left out, they stay as they are; the export carries them."""

import pytest
import yaml

from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import ServiceAccount

pytestmark = pytest.mark.django_db


def manifest(*accounts) -> dict:
    return {"apiVersion": "portal/v1", "kind": "TeamManifest", "team": "payments", "service_accounts": list(accounts)}


def test_quotas_in_a_manifest_are_applied_exported_and_cleared(alice, cluster, payments):
    with_quota = {"cluster": "local", "name": "meter", "quota": {"producer_byte_rate": 102400}}
    manifest_apply(actor=alice, team=payments, document=manifest(with_quota))
    sa = ServiceAccount.objects.get(username="payments.meter")
    assert sa.quota == {"producer_byte_rate": 102400}
    assert yaml.safe_load(manifest_export(team=payments))["service_accounts"][0]["quota"] == {
        "producer_byte_rate": 102400}

    assert manifest_plan(actor=alice, team=payments, document=manifest(with_quota)).plan.summary()["unchanged"] == 1
    manifest_apply(actor=alice, team=payments, document=manifest({"cluster": "local", "name": "meter"}))
    assert ServiceAccount.objects.get(pk=sa.pk).quota == {"producer_byte_rate": 102400}  # not managed: kept

    changed = {"cluster": "local", "name": "meter", "quota": {"consumer_byte_rate": 2048, "producer_byte_rate": None}}
    result = manifest_apply(actor=alice, team=payments, document=manifest(changed))
    assert result.plan.summary()["update"] == 1
    assert ServiceAccount.objects.get(pk=sa.pk).quota == {"consumer_byte_rate": 2048}
