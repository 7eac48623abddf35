"""The RBAC deploy/ asks for is exactly what a collection uses.

A real collection (the function a Celery worker runs, configured from settings as in the
cluster) reads the demo mesh's Kubernetes API stand-in through a recording proxy; every request
it makes must be granted by the rendered ClusterRole and Role bound to the worker's service
account, and every grant must be used by some request: a list added to the collector without
RBAC fails here, and so does RBAC no request needs.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes.client import ApiClient

from meshdash.collectors.kubernetes import KubernetesClient
from meshdash.collectors.run import collect_and_store
from meshdash.demo.kubeapi import KubeApiServer
from meshdash.demo.model import build_mesh
from meshdash.demo.runner import write_kubeconfig
from meshdash.store import SnapshotStore
from tests.deploy.manifests import find, render
from tests.deploy.rbac import Grant, grants_of, ungranted, unused
from tests.deploy.recording_proxy import ApiRequest, RecordingProxy, parse

EMPTY_VECTOR = json.dumps(
    {"status": "success", "data": {"resultType": "vector", "result": []}}
).encode()


class _EmptyPrometheus(BaseHTTPRequestHandler):
    """Answers every instant query with no series: the Kubernetes side is what is recorded."""

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(EMPTY_VECTOR)))
        self.end_headers()
        self.wfile.write(EMPTY_VECTOR)

    def log_message(self, *args):
        pass


@pytest.fixture
def prometheus_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyPrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorded(tmp_path, settings, db, redis_client, prometheus_url) -> list[ApiRequest]:
    """The requests of one collection of the 1m window, in the cluster's configuration."""
    kube = KubeApiServer(build_mesh(40, seed=1), token="a-token").start()
    proxy = RecordingProxy(kube.url).start()
    try:
        write_kubeconfig(tmp_path / "kubeconfig", proxy.url, "a-token")
        deployed = find(render("base"), "ConfigMap", "meshdash-settings")["data"]
        settings.LINKERD_NAMESPACE = deployed["MESHDASH_LINKERD_NAMESPACE"]
        settings.KUBECONFIG = str(tmp_path / "kubeconfig")
        settings.KUBE_CONTEXT = ""
        # Small pages, so that the lists go on with `continue`: still `list`.
        settings.KUBE_PAGE_SIZE = 7
        settings.PROMETHEUS_URL = prometheus_url
        store = SnapshotStore(redis_client, "rbac", snapshot_ttl_seconds=60)
        outcome = collect_and_store("1m", store)
        assert outcome.status == "ok", outcome.errors
        meta = store.meta("1m")
        assert meta.workload_count > 0
        return list(proxy.requests)
    finally:
        proxy.stop()
        kube.stop()


def worker_grants(kustomization: str = "base") -> list[Grant]:
    objects = render(kustomization)
    worker = find(objects, "Deployment", "meshdash-worker")
    account = worker["spec"]["template"]["spec"]["serviceAccountName"]
    return grants_of(objects, account, worker["metadata"]["namespace"])


@pytest.mark.parametrize("kustomization", ["base", "overlays/production"])
def test_the_rbac_grants_every_request_of_a_collection_and_nothing_more(recorded, kustomization):
    grants = worker_grants(kustomization)
    assert recorded, "the collection made no request: the recording would prove nothing"
    assert ungranted(recorded, grants) == []
    assert unused(recorded, grants) == []
    # Lists across the cluster; reads of named objects in the Linkerd namespace only.
    assert {(r.verb, r.namespace) for r in recorded} == {("list", ""), ("get", "linkerd")}


def test_the_collection_lists_every_list_the_collector_reads_and_each_is_granted(recorded):
    """Every list of ``KubernetesClient.list_calls`` is asked for (even one the stand-in does
    not serve, say) and granted: a list added to the collector is covered by the RBAC check
    above, whatever the stand-in serves."""
    client = KubernetesClient(ApiClient())
    listed = {r.resource for r in recorded if r.verb == "list"}
    assert listed == set(client.list_calls())
    assert {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"} <= listed
    for kustomization in ("base", "overlays/production"):
        grants = worker_grants(kustomization)
        for resource in client.list_calls():
            asked = [r for r in recorded if r.verb == "list" and r.resource == resource]
            assert asked and ungranted(asked, grants) == [], (kustomization, resource)


def test_the_check_fails_for_a_list_without_rbac_and_for_rbac_without_a_list(recorded):
    grants = worker_grants()
    secrets_list = ApiRequest("list", "", "secrets", "", "")
    assert ungranted([*recorded, secrets_list], grants) == [secrets_list]
    # Another Secret of the Linkerd namespace is not granted by the issuer's name.
    other_secret = ApiRequest("get", "", "secrets", "linkerd", "linkerd-proxy-injector-k8s-tls")
    assert ungranted([*recorded, other_secret], grants) == [other_secret]
    pods_list = [r for r in recorded if r.resource == "pods"]
    without_pods = [r for r in recorded if r.resource != "pods"]
    assert pods_list
    assert unused(without_pods, grants) == [Grant("list", "", "pods", "", "")]
    # The webhook lists too: RBAC without them fails the check, and so would RBAC for them
    # that no request used.
    webhooks = ApiRequest(
        "list", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", ""
    )
    without_webhook_grants = [g for g in grants if g.group != "admissionregistration.k8s.io"]
    assert ungranted([webhooks], without_webhook_grants) == [webhooks]
    assert ungranted([webhooks], grants) == []


def test_no_other_pod_is_bound_to_any_role():
    objects = render("base")
    worker_account = find(objects, "Deployment", "meshdash-worker")["spec"]["template"]["spec"][
        "serviceAccountName"
    ]
    for obj in objects:
        if obj["kind"] in {"ClusterRoleBinding", "RoleBinding"}:
            assert [s["name"] for s in obj["subjects"]] == [worker_account]
    for obj in objects:
        template = obj.get("spec", {}).get("template")
        if template and obj["metadata"]["name"] != "meshdash-worker":
            assert template["spec"]["serviceAccountName"] != worker_account


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/namespaces?limit=7", ApiRequest("list", "", "namespaces", "", "")),
        ("GET", "/api/v1/pods?limit=7&continue=x", ApiRequest("list", "", "pods", "", "")),
        ("GET", "/apis/apps/v1/replicasets", ApiRequest("list", "apps", "replicasets", "", "")),
        (
            "GET",
            "/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer",
            ApiRequest("get", "", "secrets", "linkerd", "linkerd-identity-issuer"),
        ),
        (
            "GET",
            "/apis/batch/v1/namespaces/shop/jobs?watch=true",
            ApiRequest("watch", "batch", "jobs", "shop", ""),
        ),
        ("GET", "/api/v1/namespaces/shop", ApiRequest("get", "", "namespaces", "", "shop")),
        ("DELETE", "/api/v1/namespaces/a/pods/b", ApiRequest("delete", "", "pods", "a", "b")),
    ],
)
def test_it_reads_requests_as_rbac_does(method, path, expected):
    assert parse(method, path) == expected
