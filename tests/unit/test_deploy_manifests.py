"""The Kubernetes manifests render, and deploy what the code expects: roles, probes, settings, scaling.

They are rendered by kustomize itself, through scripts/kustomize (which builds the pinned version on first use).
"""

import shutil

import pytest
import yaml

from tests.unit import manifest_checks as checks
from tests.unit.manifest_checks import KUBERNETES, named, pod

# The first test to ask for kustomize may wait for its build (see the fixture): more than pytest.ini's 300s
# is allowed for that. Every run of scripts/kustomize has its own timeout besides.
pytestmark = pytest.mark.timeout(1200)

KUSTOMIZATIONS = sorted(path.parent for path in KUBERNETES.rglob("kustomization.yaml"))


@pytest.fixture(scope="session")
def kustomize():
    """Builds kustomize into .stack/bin if it is not there yet: minutes on a cold Go cache, once a session."""
    return checks.kustomize("version", timeout=900).strip()


@pytest.fixture(scope="module")
def rendered(kustomize):
    return checks.render()


def test_every_resource_of_the_base_is_rendered_in_the_namespace_with_the_common_label(rendered):
    base = KUBERNETES / "base"
    listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
    sources = [doc for name in listed for doc in yaml.safe_load_all((base / name).read_text()) if doc]
    assert sorted((obj["kind"], obj["metadata"]["name"]) for obj in rendered) == sorted(
        (doc["kind"], doc["metadata"]["name"]) for doc in sources)
    for obj in rendered:
        assert obj["apiVersion"] and obj["kind"] and obj["metadata"]["name"]
        assert obj["metadata"]["namespace"] == "event-platform"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "event-platform"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda path: str(path.relative_to(KUBERNETES)))
def test_every_kustomization_builds(kustomize, directory):
    assert checks.render(directory)


def test_every_yaml_file_under_deploy_parses():
    for path in KUBERNETES.rglob("*.yaml"):
        assert all(doc is not None for doc in yaml.safe_load_all(path.read_text())), path


@pytest.mark.parametrize("check", checks.CHECKS, ids=lambda check: check.__name__)
def test_the_production_overlay_passes(rendered, check):
    assert check(rendered) == []


def test_the_overlay_sets_its_image_replicas_hosts_and_endpoints(rendered):
    assert {c["image"] for obj in checks.workloads(rendered) for c in pod(obj)["containers"]} == {
        "registry.example.org/platform/portal:1.4.0"}
    assert named(rendered, "Deployment", "portal-web")["spec"]["replicas"] == 3
    assert named(rendered, "Deployment", "portal-worker")["spec"]["replicas"] == 3
    config = checks.config_data(rendered)
    assert config["DJANGO_ALLOWED_HOSTS"] == "events.example.com,localhost"
    assert config["LOG_FORMAT"] == "json"  # kept from the base: the patch merges
    assert checks.by_kind(rendered, "Ingress")[0]["spec"]["rules"][0]["host"] == "events.example.com"
    assert checks.by_kind(rendered, "ScaledObject")[0]["spec"]["maxReplicaCount"] == 12


def test_the_settings_parser_finds_what_settings_reads():
    read = checks.variables_the_code_reads()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL",
            "DJANGO_ALLOWED_HOSTS", "WEB_CONCURRENCY", "ROUTER_GROUP_ID"} <= read
    assert "DJANGO_ALOWED_HOSTS" not in read
    assert checks.router_group_default() == "portal-router"
    assert checks.entrypoint_roles() >= {"web", "worker", "beat", "router", "migrate"}


# --------------------------------------------------------------------------- broken copies of the manifests
# Each mutation edits a copy of deploy/kubernetes (a base file, or the production overlay: its files, or a
# strategic-merge patch added to it); kustomize renders the copy and the checks must name the problem.
def _edit(root, relative, change):
    path = root / relative
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _container(document):
    return pod(document)["containers"][0]


def _patch_overlay(root, patch):
    """Adds ``patch`` to the production overlay's patches (kustomize merges it strategically)."""
    name = f"broken-{patch['metadata']['name']}.yaml"
    (root / "overlays" / "production" / name).write_text(yaml.safe_dump(patch, sort_keys=False))
    _edit(root, "overlays/production/kustomization.yaml", lambda spec: spec["patches"].append({"path": name}))


def _deployment_patch(name, container):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"template": {"spec": {"containers": [container]}}}}


def _mutate_beat(root):
    _edit(root, "base/beat-deployment.yaml", lambda d: d["spec"].update(strategy={"type": "RollingUpdate"}))


def _mutate_concurrency(root):  # containers merge by name: only the worker's args change
    _patch_overlay(root, _deployment_patch("portal-worker", {"name": "worker", "args": ["worker"]}))


def _mutate_probe(root):
    _edit(root, "base/web-deployment.yaml",
          lambda d: _container(d)["readinessProbe"]["httpGet"].update(path="/healthz"))


def _mutate_image(root):
    _edit(root, "base/worker-deployment.yaml", lambda d: _container(d).update(image="busybox:latest"))


def _mutate_role(root):
    _edit(root, "base/router-deployment.yaml", lambda d: _container(d).update(args=["worker"]))


def _mutate_env(root):
    _edit(root, "overlays/production/config.yaml", lambda d: d["data"].update(DJANGO_ALOWED_HOSTS="typo.example.com"))


def _mutate_group(root):
    _edit(root, "overlays/production/router-scaling.yaml",
          lambda d: d["spec"]["triggers"][0]["metadata"].update(consumerGroup="router"))


def _mutate_root(root):
    _edit(root, "base/migrate-job.yaml", lambda d: pod(d)["securityContext"].update(runAsUser=0))


def _mutate_resources(root):  # null deletes the key in a strategic merge
    _patch_overlay(root, _deployment_patch("portal-beat", {"name": "beat", "resources": {"limits": None}}))


def _mutate_secret(root):
    _edit(root, "base/web-deployment.yaml",
          lambda d: _container(d)["envFrom"][1]["secretRef"].update(name="portal-secret"))


def _mutate_kinds(root):
    _edit(root, "base/kustomization.yaml", lambda spec: spec["resources"].remove("web-pdb.yaml"))


def _mutate_job(root):
    _edit(root, "base/migrate-job.yaml", lambda d: _container(d).update(args=["web"]))


def _mutate_metrics_port(root):
    _edit(root, "overlays/production/config.yaml", lambda d: d["data"].update(ROUTER_METRICS_PORT="9200"))


def _mutate_router_replicas(root):
    _edit(root, "overlays/production/kustomization.yaml",
          lambda spec: spec["replicas"].append({"name": "portal-router", "count": 2}))


def _copy(tmp_path):
    root = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, root)
    return root


def test_a_copy_rewritten_by_the_mutation_helpers_renders_as_the_original(rendered, tmp_path):
    root = _copy(tmp_path)
    for path in root.rglob("*.yaml"):
        _edit(root, path.relative_to(root), lambda document: None)
    assert checks.render(root / "overlays" / "production") == rendered


@pytest.mark.parametrize(("mutate", "expected"), [
    (_mutate_beat, "portal-beat: exactly one may run"),
    (_mutate_concurrency, "portal-worker: --concurrency must be set"),
    (_mutate_probe, "portal-web readinessProbe"),
    (_mutate_image, "portal-worker: image busybox:latest"),
    (_mutate_role, "portal-router: args ['worker']"),
    (_mutate_env, "DJANGO_ALOWED_HOSTS: no setting or entrypoint reads it"),
    (_mutate_group, "consumerGroup 'router'"),
    (_mutate_root, "portal-migrate: the pod must run as non-root"),
    (_mutate_resources, "portal-beat: resources.limits"),
    (_mutate_secret, "portal-web: envFrom must name the Secret portal-secrets"),
    (_mutate_kinds, "PodDisruptionBudget: 0, expected 1"),
    (_mutate_job, "the Job must run the migrate role"),
    (_mutate_metrics_port, "portal-router livenessProbe"),
    (_mutate_router_replicas, "portal-router: replicas belong to KEDA"),
], ids=lambda value: value.__name__[len("_mutate_"):] if callable(value) else "")
def test_a_broken_manifest_fails_the_checks(kustomize, tmp_path, mutate, expected):
    root = _copy(tmp_path)
    mutate(root)
    problems = checks.all_problems(checks.render(root / "overlays" / "production"))
    assert any(expected in problem for problem in problems), problems
