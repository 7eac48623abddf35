"""deploy/: every kustomization renders, every object validates against Kubernetes 1.28 and 1.32,
and the policies a cautious platform team checks hold for every container.

No cluster here: the objects are checked as rendered, the commands they run against the project
(as tests/test_compose.py does for docker-compose.yml).
"""

import copy
import re

import kubernetes_validate
import pytest

from tests.deploy import manifests
from tests.deploy.manifests import KUSTOMIZATIONS, containers, find, render
from tests.test_compose import check

KUBERNETES_VERSIONS = ["1.28.0", "1.32.0"]
OWN_IMAGE = "ghcr.io/meshdash/meshdash"
# Kinds that live in no namespace.
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
# Secrets the production overlay reads and you create (README: "Install in a cluster").
CREATED_BY_YOU = {"overlays/production": {"meshdash-secrets", "oauth2-proxy", "meshdash-tls"}}


def every_container() -> list:
    return [
        pytest.param(kind, template, container, id=f"{kustomization}:{owner}:{container['name']}")
        for kustomization in KUSTOMIZATIONS
        for owner, kind, template, container in containers(render(kustomization))
    ]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_it_renders_each_kustomization_into_namespaced_objects(kustomization):
    objects = render(kustomization)
    assert len(objects) > 10
    for obj in objects:
        namespace = obj["metadata"].get("namespace")
        assert (namespace is None) == (obj["kind"] in CLUSTER_SCOPED), obj["metadata"]
    names = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_object_validates_against_the_kubernetes_schemas(kustomization, version):
    for obj in render(kustomization):
        # Strict: a field the schema does not know (a typo, a field of a newer version) fails.
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validation_catches_a_misspelt_field_and_a_wrong_type():
    web = find(render("base"), "Deployment", "meshdash-web")
    misspelt = copy.deepcopy(web)
    misspelt["spec"]["replica"] = misspelt["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSIONS[0], strict=True)
    wrong_type = copy.deepcopy(web)
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSIONS[-1], strict=True)


# --- Policies, container by container.


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_container_has_requests_and_a_memory_limit(kind, template, container):
    resources = container.get("resources", {})
    assert {"cpu", "memory"} <= set(resources.get("requests", {})), resources
    # No CPU limit: throttling would only slow a collection down; memory is what must be bound.
    assert "memory" in resources.get("limits", {}), resources


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_long_running_container_has_probes(kind, template, container):
    if kind == "Job":
        return
    assert "livenessProbe" in container and "readinessProbe" in container, container["name"]


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_container_runs_unprivileged_on_a_read_only_root(kind, template, container):
    pod = template["spec"].get("securityContext", {})
    own = container.get("securityContext", {})
    assert own.get("runAsNonRoot", pod.get("runAsNonRoot")) is True
    assert own.get("runAsUser", pod.get("runAsUser", 0)) != 0
    assert own.get("allowPrivilegeEscalation") is False
    assert own.get("readOnlyRootFilesystem") is True
    assert own.get("capabilities", {}).get("drop") == ["ALL"]
    assert not own.get("capabilities", {}).get("add")
    assert not own.get("privileged")
    seccomp = own.get("seccompProfile", pod.get("seccompProfile", {}))
    assert seccomp.get("type") == "RuntimeDefault"


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_image_is_pinned_by_a_tag_other_than_latest(kind, template, container):
    image = container["image"]
    name, _, tag = image.partition("@")[0].rpartition(":")
    assert name and tag and "/" not in tag, f"{image} is not pinned by a tag"
    assert tag != "latest"
    assert re.match(r"^v?\d+\.\d+", tag), f"{image}: a version tag, not a moving one"
    assert container.get("imagePullPolicy") != "Always"


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_variable_an_env_value_names_is_defined_before_it(kind, template, container):
    """Kubernetes expands ``$(NAME)`` only for a NAME earlier in the same list."""
    defined: set[str] = set()
    for variable in container.get("env", []):
        for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", variable.get("value", "")):
            assert name in defined, f"{variable['name']} names {name} before it is defined"
        defined.add(variable["name"])


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_pod_is_meshed(kind, template, container):
    assert template["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"


@pytest.mark.parametrize(("kind", "template", "container"), every_container())
def test_every_meshdash_command_exists(kind, template, container):
    """The project's own commands, and every exec probe of its image, run in the image."""
    if not container["image"].startswith(OWN_IMAGE + ":"):
        return
    check(container["command"])
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        command = container.get(probe, {}).get("exec", {}).get("command")
        if command and command[0] == "python":
            check(command)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_only_the_worker_gets_a_token_and_only_where_it_reads_the_cluster(kustomization):
    objects = render(kustomization)
    accounts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceAccount"}
    with_token = []
    for obj in objects:
        template = obj.get("spec", {}).get("template")
        if not template:
            continue
        spec = template["spec"]
        account = accounts[spec["serviceAccountName"]]
        mounted = spec.get(
            "automountServiceAccountToken", account.get("automountServiceAccountToken", True)
        )
        if mounted:
            with_token.append(obj["metadata"]["name"])
    reads_cluster = kustomization != "overlays/demo"
    assert with_token == (["meshdash-worker"] if reads_cluster else [])
    assert all(a.get("automountServiceAccountToken") is False for a in accounts.values())


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_secret_config_map_and_service_account_referenced_exists(kustomization):
    objects = render(kustomization)
    present = {(o["kind"], o["metadata"]["name"]) for o in objects}
    yours = CREATED_BY_YOU.get(kustomization, set())
    text = repr(objects)
    for name in set(re.findall(r"'secretKeyRef': \{'name': '([^']+)'", text)) | set(
        re.findall(r"'secretRef': \{'name': '([^']+)'", text)
    ):
        assert ("Secret", name) in present or name in yours, name
    for name in re.findall(r"'configMapRef': \{'name': '([^']+)'", text):
        assert ("ConfigMap", name) in present, name
    for obj in objects:
        template = obj.get("spec", {}).get("template")
        if template:
            assert ("ServiceAccount", template["spec"]["serviceAccountName"]) in present
    for obj in objects:
        if obj["kind"] == "Ingress":
            for tls in obj["spec"]["tls"]:
                assert ("Secret", tls["secretName"]) in present or tls["secretName"] in yours


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_service_selects_pods_and_names_their_ports(kustomization):
    objects = render(kustomization)
    templates = [o["spec"]["template"] for o in objects if o.get("spec", {}).get("template")]
    for service in (o for o in objects if o["kind"] == "Service"):
        selector = service["spec"]["selector"]
        chosen = [t for t in templates if selector.items() <= t["metadata"]["labels"].items()]
        assert chosen, f"Service {service['metadata']['name']} selects no pods"
        ports = {
            port.get("name")
            for t in chosen
            for c in t["spec"]["containers"]
            for port in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, (service["metadata"]["name"], port)


# --- The objects the stack needs, object by object.


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_it_runs_exactly_one_beat_never_two_during_an_upgrade(kustomization):
    beat = find(render(kustomization), "Deployment", "meshdash-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert container["command"][:5] == ["celery", "-A", "meshdash", "--quiet", "beat"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_web_server_is_probed_and_has_a_disruption_budget(kustomization):
    objects = render(kustomization)
    web = find(objects, "Deployment", "meshdash-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # /readyz may take a few connection attempts to a Redis that is away (README: "Probes").
    assert container["readinessProbe"]["timeoutSeconds"] >= 5
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = find(objects, "PodDisruptionBudget", "meshdash-web")
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # The web server waits for the migration Job before it serves.
    assert container["command"][:2] == ["sh", "scripts/await-migrations.sh"]
    job = find(objects, "Job", "meshdash-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["image"] == container["image"]


def redis_args(objects: list[dict], name: str) -> dict[str, str]:
    (container,) = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    return {args[i].removeprefix("--"): args[i + 1] for i in range(0, len(args), 2)}


def megabytes(quantity: str) -> float:
    units = {"mb": 1e6, "Mi": 2**20, "Gi": 2**30, "gb": 1e9}
    number, unit = re.fullmatch(r"(\d+)(\D+)", quantity).groups()
    return int(number) * units[unit] / 1e6


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_redis_never_evicts_snapshots_or_tasks_and_the_cache_may_evict(kustomization):
    objects = render(kustomization)
    settings = find(objects, "ConfigMap", "meshdash-settings")["data"]
    for name, policy, url in (
        ("meshdash-redis", "noeviction", "REDIS_URL"),
        ("meshdash-redis-cache", "allkeys-lru", "MESHDASH_CACHE_REDIS_URL"),
    ):
        args = redis_args(objects, name)
        assert args["maxmemory-policy"] == policy
        assert args["save"] == "" and args["appendonly"] == "no"
        deployment = find(objects, "Deployment", name)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        # The container's limit leaves room above maxmemory for Redis's own overhead.
        limit = megabytes(container["resources"]["limits"]["memory"])
        assert limit >= 1.15 * megabytes(args["maxmemory"]), name
        assert settings[url] == f"redis://{name}:6379/0"
        assert find(objects, "Service", name)


def network_policies(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_network_policies_deny_by_default_and_keep_redis_to_meshdash(kustomization):
    objects = render(kustomization)
    policies = {p["metadata"]["name"]: p["spec"] for p in network_policies(objects)}
    assert policies["meshdash-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    stores = policies["meshdash-stores"]
    (rule,) = stores["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}, "from this namespace's pods only"
    (allowed,) = peer["podSelector"]["matchExpressions"]
    assert set(allowed["values"]) <= {"web", "worker", "beat", "migrate"}
    (guarded,) = stores["podSelector"]["matchExpressions"]
    assert {"redis", "redis-cache"} <= set(guarded["values"])


def test_only_the_ingress_controller_reaches_the_web_server():
    web = next(
        p for p in network_policies(render("base")) if p["metadata"]["name"] == "meshdash-web"
    )
    (rule,) = web["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]


def test_it_reads_linkerd_viz_prometheus_from_the_cluster_by_default():
    settings = find(render("base"), "ConfigMap", "meshdash-settings")["data"]
    assert settings["PROMETHEUS_URL"] == "http://prometheus.linkerd-viz.svc.cluster.local:9090"
    assert settings["MESHDASH_KUBE_IN_CLUSTER"] == "true"
    assert settings["MESHDASH_LINKERD_NAMESPACE"] == "linkerd"


def test_production_uses_your_database_several_web_replicas_tls_and_sso():
    objects = render("overlays/production")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("StatefulSet", "meshdash-postgres") not in kinds
    assert ("Secret", "meshdash-secrets") not in kinds, "no placeholder key in production"
    assert find(objects, "Deployment", "meshdash-web")["spec"]["replicas"] >= 2
    ingress = find(objects, "Ingress", "meshdash")
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "oauth2-proxy"
    # oauth2-proxy passes the user to the web Service, in the header meshdash trusts.
    proxy = find(objects, "Deployment", "oauth2-proxy")
    (container,) = proxy["spec"]["template"]["spec"]["containers"]
    args = dict(a.removeprefix("--").split("=", 1) for a in container["args"])
    assert args["upstream"] == "http://meshdash-web:8000"
    assert args["pass-user-headers"] == "true"
    settings = find(objects, "ConfigMap", "meshdash-settings")["data"]
    assert settings["MESHDASH_SSO_HEADER"] == "X-Forwarded-User"
    assert settings["MESHDASH_SSO_GROUPS_HEADER"] == "X-Forwarded-Groups"
    # Meshed, every request reaches gunicorn from the pod's own address, through its proxy.
    assert "MESHDASH_SSO_TRUSTED_PROXIES" not in settings
    (web_container,) = find(objects, "Deployment", "meshdash-web")["spec"]["template"]["spec"][
        "containers"
    ]
    environment = {e["name"]: e for e in web_container["env"]}
    assert environment["MESHDASH_SSO_TRUSTED_PROXIES"]["value"] == "$(POD_IP)"
    assert environment["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert settings["MESHDASH_ALLOWED_HOSTS"] == rule["host"]
    # ...and nothing but oauth2-proxy reaches the web pods, so no one else can set the header.
    web = next(p for p in network_policies(objects) if p["metadata"]["name"] == "meshdash-web")
    assert web["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}}],
            "ports": [{"port": 8000}],
        }
    ]


def test_the_demo_runs_its_mesh_beside_the_worker_without_cluster_access():
    objects = render("overlays/demo")
    assert {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]} == {
        "meshdash-demo"
    }
    assert not [o for o in objects if o["kind"] in {"ClusterRole", "Role", "RoleBinding"}]
    worker = find(objects, "Deployment", "meshdash-worker")
    assert worker["spec"]["replicas"] == 1
    pod = worker["spec"]["template"]["spec"]
    by_name = {c["name"]: c for c in pod["containers"]}
    check(by_name["demo-mesh"]["command"])
    demo_dir = next(
        a.split("=", 1)[1] for a in by_name["demo-mesh"]["command"] if a.startswith("--out-dir=")
    )
    environment = {e["name"]: e.get("value") for e in by_name["worker"]["env"]}
    assert environment["KUBECONFIG"] == f"{demo_dir}/kubeconfig"
    mounts = {m["mountPath"]: m for m in by_name["worker"]["volumeMounts"]}
    assert mounts[demo_dir]["readOnly"] is True
    assert {m["name"] for m in by_name["demo-mesh"]["volumeMounts"]} >= {mounts[demo_dir]["name"]}
    assert "--host=0.0.0.0" in by_name["demo-mesh"]["command"]
    settings = find(objects, "ConfigMap", "meshdash-settings")["data"]
    assert settings["MESHDASH_KUBE_IN_CLUSTER"] == "false"
    assert settings["PROMETHEUS_URL"] == "http://meshdash-demo-prometheus:9090"
    # The demo's Prometheus scrapes the shards the demo mesh serves.
    config = find(objects, "ConfigMap", "meshdash-demo-prometheus")["data"]["prometheus.yml"]
    first = int(
        next(a for a in by_name["demo-mesh"]["command"] if a.startswith("--metrics-port=")).split(
            "="
        )[1]
    )
    shards = int(
        next(a for a in by_name["demo-mesh"]["command"] if a.startswith("--shards=")).split("=")[1]
    )
    for shard in range(shards):
        assert f"meshdash-demo-mesh:{first + shard}" in config
    job = find(objects, "Job", "meshdash-migrate")
    check(job["spec"]["template"]["spec"]["containers"][0]["command"])


def test_without_kubectl_the_tests_fail_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(manifests.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="kubectl is missing.*dl.k8s.io"):
        manifests.kubectl()
