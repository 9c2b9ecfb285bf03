"""Checks of the rendered Kubernetes manifests against the code they deploy: each returns the problems it finds.

Kept apart from the tests so that a test can run every check on a deliberately broken copy and see it fail.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAY = KUBERNETES / "overlays" / "production"
SECRET_EXAMPLE = KUBERNETES / "base" / "secret.example.yaml"
UID = 10001
# Deployment (or Job) name -> the entrypoint role its container runs.
ROLES = {"portal-web": "web", "portal-worker": "worker", "portal-beat": "beat", "portal-router": "router",
         "portal-migrate": "migrate"}
EXPECTED_KINDS = {"Deployment": 4, "Service": 1, "Ingress": 1, "ConfigMap": 1, "Job": 1, "ScaledObject": 1,
                  "PodDisruptionBudget": 1}


# ------------------------------------------------------------------------------------------- what the code reads
def entrypoint_roles() -> set[str]:
    text = (REPO / "scripts" / "entrypoint").read_text()
    return set(re.findall(r"^\s*([a-z]+)\)", text, re.M))


def _string_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def settings_variables() -> set[str]:
    """Names portal/settings.py reads through the env_* readers of portal/env.py."""
    names = set()
    for node in ast.walk(ast.parse((REPO / "portal" / "settings.py").read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("env_"):
            if name := _string_arg(node):
                names.add(name)
    return names


def _environ_reads(path: Path) -> set[str]:
    """os.environ.get("X"), os.environ["X"], os.getenv("X") and the router's _setting("X") in one module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func in {"os.environ.get", "os.getenv", "_setting"} and (name := _string_arg(node)):
                names.add(name)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
    return names


def variables_the_code_reads() -> set[str]:
    names = settings_variables()
    for package in ("portal", "onboarding"):
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                names |= _environ_reads(path)
    names |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", (REPO / "scripts" / "entrypoint").read_text()))
    return names


def router_group_default() -> str:
    text = (REPO / "portal" / "settings.py").read_text()
    return re.search(r'env_str\("ROUTER_GROUP_ID", "([^"]+)"\)', text).group(1)


# ------------------------------------------------------------------------------------------------- helpers
def kustomize(*args: str, timeout: float = 120) -> str:
    """What scripts/kustomize prints; it builds the pinned kustomize first if .stack/bin lacks it."""
    result = subprocess.run([str(REPO / "scripts" / "kustomize"), *args], capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/kustomize {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def render(directory: Path = OVERLAY) -> list[dict]:
    """The objects `kustomize build` gives for the kustomization in ``directory``."""
    return [obj for obj in yaml.safe_load_all(kustomize("build", str(directory))) if obj is not None]


def secret_example() -> dict:
    return yaml.safe_load(SECRET_EXAMPLE.read_text())


def overlay_image() -> str:
    spec = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    image = next(i for i in spec["images"] if i["name"] == "portal")
    return f"{image['newName']}:{image['newTag']}"


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((obj for obj in by_kind(objects, kind) if obj["metadata"]["name"] == name), None)


def workloads(objects: list[dict]) -> list[dict]:
    return by_kind(objects, "Deployment") + by_kind(objects, "Job")


def pod(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def config_data(objects: list[dict]) -> dict:
    return by_kind(objects, "ConfigMap")[0]["data"]


def container_port(container: dict, port) -> int | None:
    for declared in container.get("ports", []):
        if port in (declared["containerPort"], declared.get("name")):
            return declared["containerPort"]
    return None


# ------------------------------------------------------------------------------------------------- checks
def check_kinds(objects):
    counts = {kind: len(by_kind(objects, kind)) for kind in EXPECTED_KINDS}
    return [f"{kind}: {counts[kind]}, expected {n}" for kind, n in EXPECTED_KINDS.items() if counts[kind] != n]


def check_images_and_roles(objects):
    problems, image, roles = [], overlay_image(), entrypoint_roles()
    for obj in workloads(objects):
        name = obj["metadata"]["name"]
        for container in pod(obj)["containers"]:
            if container["image"] != image:
                problems.append(f"{name}: image {container['image']}, expected {image}")
            if "command" in container:
                problems.append(f"{name}: overrides the image's entrypoint")
            args = container.get("args", [])
            if not args or args[0] not in roles or args[0] != ROLES.get(name):
                problems.append(f"{name}: args {args}, expected the entrypoint role {ROLES.get(name)!r}")
    return problems


def check_web_probes(objects):
    web = named(objects, "Deployment", "portal-web")
    container = pod(web)["containers"][0]
    problems = []
    expected = (("livenessProbe", "/healthz"), ("startupProbe", "/healthz"),
                ("readinessProbe", "/readyz?require=database"))
    for probe, path in expected:
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or container_port(container, get.get("port")) != 8000:
            problems.append(f"portal-web {probe}: {get}, expected GET {path} on the container port 8000")
        hosts = [h["value"] for h in get.get("httpHeaders", []) if h["name"] == "Host"]
        allowed = config_data(objects)["DJANGO_ALLOWED_HOSTS"].split(",")
        if not hosts or hosts[0] not in allowed:
            problems.append(f"portal-web {probe}: its Host header must be one of DJANGO_ALLOWED_HOSTS")
    service = named(objects, "Service", "portal-web")
    if service is None or container_port(container, service["spec"]["ports"][0]["targetPort"]) != 8000:
        problems.append("Service portal-web must target the web container's port")
    elif service["spec"]["selector"].items() - web["spec"]["template"]["metadata"]["labels"].items():
        problems.append("Service portal-web selects no web pod")
    backend = by_kind(objects, "Ingress")[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    if service is None or backend["name"] != service["metadata"]["name"]:
        problems.append(f"Ingress routes to {backend['name']}, not the web Service")
    return problems


def check_resources_and_security(objects):
    problems = []
    for obj in workloads(objects):
        name, spec = obj["metadata"]["name"], pod(obj)
        context = spec.get("securityContext", {})
        if not (context.get("runAsNonRoot") and context.get("runAsUser") == UID):
            problems.append(f"{name}: the pod must run as non-root uid {UID}")
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in spec["containers"]:
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if set(resources.get(part, {})) != {"cpu", "memory"}:
                    problems.append(f"{name}: resources.{part} must give cpu and memory")
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False or security.get("runAsUser", UID) != UID:
                problems.append(f"{name}: privilege escalation must be off, uid {UID}")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{name}: must drop ALL capabilities")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: the root filesystem must be read-only")
            if not any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes
                       for m in container.get("volumeMounts", [])):
                problems.append(f"{name}: needs an emptyDir on /tmp (the root filesystem is read-only)")
    return problems


def check_environment(objects):
    problems, known = [], variables_the_code_reads()
    config_names = {obj["metadata"]["name"] for obj in by_kind(objects, "ConfigMap")}
    secret = secret_example()
    secret_name = secret["metadata"]["name"]
    referenced = set(config_data(objects)) | {k for k in secret["stringData"] if not k.startswith("KEDA_")}
    for obj in workloads(objects):
        name = obj["metadata"]["name"]
        for container in pod(obj)["containers"]:
            sources = container.get("envFrom", [])
            if {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} - config_names:
                problems.append(f"{name}: envFrom names a ConfigMap that is not rendered")
            if {s["secretRef"]["name"] for s in sources if "secretRef" in s} != {secret_name}:
                problems.append(f"{name}: envFrom must name the Secret {secret_name}")
            referenced |= {variable["name"] for variable in container.get("env", [])}
    problems += [f"{variable}: no setting or entrypoint reads it" for variable in sorted(referenced - known)]
    return problems


def check_celery(objects):
    problems = []
    spec = named(objects, "Deployment", "portal-beat")["spec"]
    if spec.get("replicas") != 1 or spec.get("strategy", {}).get("type") != "Recreate":
        problems.append("portal-beat: exactly one may run: replicas 1 and strategy Recreate")
    # Without it Celery starts one process per CPU of the node, whatever the pod's limits.
    if "--concurrency" not in pod(named(objects, "Deployment", "portal-worker"))["containers"][0]["args"]:
        problems.append("portal-worker: --concurrency must be set")
    return problems


def check_router_scaling(objects):
    problems = []
    router = named(objects, "Deployment", "portal-router")
    scaled = by_kind(objects, "ScaledObject")[0]
    if scaled["spec"]["scaleTargetRef"]["name"] != router["metadata"]["name"]:
        problems.append(f"ScaledObject targets {scaled['spec']['scaleTargetRef']['name']}, not the router")
    if "replicas" in router["spec"]:
        problems.append("portal-router: replicas belong to KEDA; an apply must not reset them")
    kafka = [t for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]
    if len(kafka) != 1:
        return problems + ["ScaledObject needs one kafka trigger"]
    metadata, data = kafka[0]["metadata"], config_data(objects)
    group = data.get("ROUTER_GROUP_ID", router_group_default())
    if metadata.get("consumerGroup") != group:
        problems.append(f"kafka trigger consumerGroup {metadata.get('consumerGroup')!r}, the router's is {group!r}")
    if metadata.get("bootstrapServers") != data["KAFKA_BOOTSTRAP_SERVERS"]:
        problems.append("kafka trigger bootstrapServers differ from KAFKA_BOOTSTRAP_SERVERS")
    if not int(metadata.get("lagThreshold", 0)) > 0:
        problems.append("kafka trigger needs a lagThreshold")
    if not 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]:
        problems.append("ScaledObject: 1 <= minReplicaCount <= maxReplicaCount")
    auth = named(objects, "TriggerAuthentication", kafka[0].get("authenticationRef", {}).get("name"))
    secret = secret_example()
    if auth is None or any(ref["name"] != secret["metadata"]["name"] or ref["key"] not in secret["stringData"]
                           for ref in auth["spec"]["secretTargetRef"]):
        problems.append("kafka trigger: its TriggerAuthentication must read keys of the portal Secret")
    return problems


def check_router_metrics(objects):
    router = named(objects, "Deployment", "portal-router")
    container = pod(router)["containers"][0]
    port = int(config_data(objects).get("ROUTER_METRICS_PORT", 0))
    problems = [] if port else ["ROUTER_METRICS_PORT is not set: the router would serve no metrics"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") not in {"/metrics", "/healthz"} or container_port(container, get.get("port")) != port:
            problems.append(f"portal-router {probe}: {get}, expected the metrics endpoint on port {port}")
    annotations = router["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/port") != str(port):
        problems.append("portal-router: Prometheus must scrape ROUTER_METRICS_PORT")
    web = named(objects, "Deployment", "portal-web")["spec"]["template"]["metadata"].get("annotations", {})
    if (web.get("prometheus.io/scrape"), web.get("prometheus.io/path")) != ("true", "/metrics"):
        problems.append("portal-web: Prometheus must scrape /metrics")
    return problems


def check_migration_and_disruption(objects):
    problems = []
    job = by_kind(objects, "Job")[0]
    if pod(job)["containers"][0].get("args") != ["migrate"] or pod(job).get("restartPolicy") != "Never":
        problems.append("the Job must run the migrate role once (restartPolicy Never)")
    budget = by_kind(objects, "PodDisruptionBudget")[0]["spec"]
    web = named(objects, "Deployment", "portal-web")
    if budget["selector"]["matchLabels"].items() - web["spec"]["template"]["metadata"]["labels"].items():
        problems.append("the PodDisruptionBudget selects no web pod")
    if budget.get("maxUnavailable", 0) >= web["spec"]["replicas"]:
        problems.append("the PodDisruptionBudget lets every web pod go at once")
    return problems


CHECKS = [check_kinds, check_images_and_roles, check_web_probes, check_resources_and_security, check_environment,
          check_celery, check_router_scaling, check_router_metrics, check_migration_and_disruption]


def all_problems(objects) -> list[str]:
    problems = []
    for check in CHECKS:
        try:
            problems += check(objects)
        except (LookupError, TypeError, AttributeError) as exc:  # a missing object or field
            problems.append(f"{check.__name__}: the manifests lack what it reads ({exc!r})")
    return problems
