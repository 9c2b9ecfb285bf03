"""The Kubernetes manifests render, and deploy what the code expects: roles, probes, settings, scaling."""

import copy
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.unit import manifest_checks as checks
from tests.unit.manifest_checks import KUBERNETES, OVERLAY, REPO, named, pod, renderer


@pytest.fixture(scope="module")
def rendered():
    return checks.render()


def test_the_renderer_prints_documents_that_parse_and_name_themselves():
    result = subprocess.run([sys.executable, "scripts/render-manifests", str(OVERLAY)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert len(documents) == len(checks.render())
    for document in documents:
        assert document["apiVersion"] and document["kind"] and document["metadata"]["name"]
        assert document["metadata"]["namespace"] == "event-platform"
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "event-platform"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_renderer_gives_what_kubectl_kustomize_gives():
    result = subprocess.run(["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    def keyed(objects):
        return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}

    assert keyed(yaml.safe_load_all(result.stdout)) == keyed(checks.render())


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


def _web(objects):
    return pod(named(objects, "Deployment", "portal-web"))["containers"][0]


def _mutate_beat(objects):
    named(objects, "Deployment", "portal-beat")["spec"]["strategy"] = {"type": "RollingUpdate"}


def _mutate_concurrency(objects):
    pod(named(objects, "Deployment", "portal-worker"))["containers"][0]["args"] = ["worker"]


def _mutate_probe(objects):
    _web(objects)["readinessProbe"]["httpGet"]["path"] = "/healthz"


def _mutate_image(objects):
    pod(named(objects, "Deployment", "portal-worker"))["containers"][0]["image"] = "portal:latest"


def _mutate_role(objects):
    pod(named(objects, "Deployment", "portal-router"))["containers"][0]["args"] = ["worker"]


def _mutate_env(objects):
    checks.config_data(objects)["DJANGO_ALOWED_HOSTS"] = "typo.example.com"


def _mutate_group(objects):
    checks.by_kind(objects, "ScaledObject")[0]["spec"]["triggers"][0]["metadata"]["consumerGroup"] = "router"


def _mutate_root(objects):
    pod(named(objects, "Job", "portal-migrate"))["securityContext"]["runAsUser"] = 0


def _mutate_resources(objects):
    del pod(named(objects, "Deployment", "portal-beat"))["containers"][0]["resources"]["limits"]


def _mutate_secret(objects):
    _web(objects)["envFrom"][1]["secretRef"]["name"] = "portal-secret"


def _mutate_kinds(objects):
    objects.remove(checks.by_kind(objects, "PodDisruptionBudget")[0])


def _mutate_job(objects):
    pod(named(objects, "Job", "portal-migrate"))["containers"][0]["args"] = ["web"]


def _mutate_metrics_port(objects):
    checks.config_data(objects)["ROUTER_METRICS_PORT"] = "9200"


@pytest.mark.parametrize(("mutate", "expected"), [
    (_mutate_beat, "portal-beat: exactly one may run"),
    (_mutate_concurrency, "portal-worker: --concurrency must be set"),
    (_mutate_probe, "portal-web readinessProbe"),
    (_mutate_image, "portal-worker: image portal:latest"),
    (_mutate_role, "portal-router: args ['worker']"),
    (_mutate_env, "DJANGO_ALOWED_HOSTS: no setting or entrypoint reads it"),
    (_mutate_group, "consumerGroup 'router'"),
    (_mutate_root, "portal-migrate: the pod must run as non-root"),
    (_mutate_resources, "portal-beat: resources.limits"),
    (_mutate_secret, "portal-web: envFrom must name the Secret portal-secrets"),
    (_mutate_kinds, "PodDisruptionBudget: 0, expected 1"),
    (_mutate_job, "the Job must run the migrate role"),
    (_mutate_metrics_port, "portal-router livenessProbe"),
], ids=lambda value: value.__name__[len("_mutate_"):] if callable(value) else "")
def test_a_broken_manifest_fails_the_checks(rendered, mutate, expected):
    broken = copy.deepcopy(rendered)
    mutate(broken)
    problems = checks.all_problems(broken)
    assert any(expected in problem for problem in problems), problems


def test_merge_patches_merge_maps_replace_lists_and_delete_nulls():
    target = {"data": {"A": "1", "B": "2"}, "rules": [{"host": "a"}, {"host": "b"}]}
    patch = {"data": {"B": "3", "A": None}, "rules": [{"host": "c"}]}
    assert renderer.merge_patch(target, patch) == {"data": {"B": "3"}, "rules": [{"host": "c"}]}


def _kustomization(tmp_path, spec, files):
    for name, content in files.items():
        (tmp_path / name).write_text(yaml.safe_dump_all(content))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "portal"}]}}}}


@pytest.mark.parametrize(("spec", "files", "message"), [
    ({"resources": ["d.yaml"], "configMapGenerator": []}, {"d.yaml": [DEPLOYMENT]}, "not supported here"),
    ({"resources": ["d.yaml"], "patches": [{"path": "p.yaml"}]},
     {"d.yaml": [DEPLOYMENT], "p.yaml": [DEPLOYMENT]}, "needs kustomize's strategic merge"),
    ({"resources": ["d.yaml"], "replicas": [{"name": "other", "count": 2}]}, {"d.yaml": [DEPLOYMENT]},
     "0 objects are Deployment/other"),
])
def test_the_renderer_refuses_what_it_cannot_do_like_kustomize(tmp_path, spec, files, message):
    with pytest.raises(renderer.RenderError, match=message):
        renderer.render(_kustomization(tmp_path, spec, files))


def test_images_keep_or_replace_the_tag_by_image_name(tmp_path):
    other = copy.deepcopy(DEPLOYMENT)
    other["metadata"]["name"] = "e"
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:7"
    spec = {"resources": ["d.yaml"], "images": [{"name": "portal", "newName": "r.example/portal", "newTag": "2"}]}
    objects = renderer.render(_kustomization(tmp_path, spec, {"d.yaml": [DEPLOYMENT, other]}))
    assert [pod(obj)["containers"][0]["image"] for obj in objects] == ["r.example/portal:2", "redis:7"]
