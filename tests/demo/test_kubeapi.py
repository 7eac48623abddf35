import base64
import json
import urllib.error
import urllib.request

import kubernetes_validate
import pytest
from kubernetes import client, config

from meshdash.demo.kubeapi import RESOURCES, KubeApiServer
from meshdash.demo.model import HOSTILE_STATUS_MESSAGE, build_mesh
from meshdash.demo.runner import write_kubeconfig
from tests.collectors import kube_server

EPOCH = 1_772_409_600.0  # 2026-03-02T00:00:00Z
TOKEN = "test-token"


@pytest.fixture(scope="module")
def mesh():
    return build_mesh(60, seed=5, epoch=EPOCH)


@pytest.fixture(scope="module")
def server(mesh):
    server = KubeApiServer(mesh, token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server, tmp_path_factory):
    kubeconfig = tmp_path_factory.mktemp("kube") / "kubeconfig"
    write_kubeconfig(kubeconfig, server.url, TOKEN)
    return config.new_client_from_config(str(kubeconfig))


def _get(server, path: str, token: str = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.url + path, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _list_path(resource: str) -> str:
    return f"{RESOURCES[resource][0]}/{resource}"


def test_it_serves_objects_that_validate_against_the_kubernetes_schemas(server):
    _assert_valid(server, RESOURCES, may_be_empty={"jobs", "cronjobs"})


def test_it_serves_the_collector_tests_fixed_cluster_valid_as_well():
    fixed = kube_server.start()
    try:
        _assert_valid(fixed, fixed.objects, may_be_empty={"daemonsets"})
    finally:
        fixed.stop()


def _assert_valid(server, resources, may_be_empty: set[str]) -> None:
    """Every list of ``resources`` and its last item, validated as the API would serve them."""
    version = kubernetes_validate.latest_version()
    for resource in resources:
        kind = RESOURCES[resource][1]
        status, body = _get(server, _list_path(resource))
        assert status == 200
        assert body["kind"] == f"{kind}List", resource
        # The list schema checks every item, strictly (no unknown fields).
        kubernetes_validate.validate(body, version, strict=True)
        if not body["items"]:
            assert resource in may_be_empty
            continue
        meta = body["items"][-1]["metadata"]
        namespace = f"/namespaces/{meta['namespace']}" if "namespace" in meta else ""
        single_path = f"{RESOURCES[resource][0]}{namespace}/{resource}/{meta['name']}"
        status, single = _get(server, single_path)
        assert status == 200 and single["kind"] == kind
        kubernetes_validate.validate(single, version, strict=True)


def test_it_fails_validation_of_a_broken_object(server):
    status, body = _get(server, "/api/v1/pods")
    body["items"][0]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, kubernetes_validate.latest_version(), strict=True)


def test_it_serves_single_objects_with_kind(server, mesh):
    w = next(w for w in mesh.workloads if w.kind == "statefulset")
    status, body = _get(server, f"/apis/apps/v1/namespaces/{w.namespace}/statefulsets/{w.name}")
    assert status == 200 and body["kind"] == "StatefulSet" and body["apiVersion"] == "apps/v1"
    status, body = _get(server, "/api/v1/namespaces/linkerd")
    assert status == 200 and body["kind"] == "Namespace"
    status, body = _get(server, f"/api/v1/namespaces/{w.namespace}/pods/{w.pods[0].name}")
    assert status == 200 and body["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"


def test_it_answers_404_status_for_unknown_objects_and_paths(server):
    for path in (
        "/api/v1/namespaces/nope",
        "/api/v1/namespaces/linkerd/pods/nope",
        "/api/v1/nodes",
        "/apis/apps/v1/pods",
        "/api/v1/namespaces/linkerd/namespaces",
        "/apis/batch/v1/replicasets",
        "/apis/batch/v1/namespaces/linkerd/jobs/nope",
        "/apis/apps/v2/pods",
        "/",
    ):
        status, body = _get(server, path)
        assert status == 404, path
        assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404


def test_it_does_not_pretend_to_watch(server):
    status, body = _get(server, "/api/v1/pods?watch=true")
    assert status == 405 and body["kind"] == "Status"


def test_it_refuses_requests_without_the_token(server):
    status, body = _get(server, "/api/v1/pods", token="wrong")
    assert status == 401 and body["kind"] == "Status"


def test_it_pages_cluster_wide_lists_through_the_official_client(api, mesh):
    core = client.CoreV1Api(api)
    everything = core.list_pod_for_all_namespaces()
    assert len(everything.items) == sum(len(w.pods) for w in mesh.all_workloads)
    names, token, pages = [], None, 0
    while True:
        page = core.list_pod_for_all_namespaces(limit=7, _continue=token)
        names += [(p.metadata.namespace, p.metadata.name) for p in page.items]
        pages += 1
        assert page.metadata.resource_version == everything.metadata.resource_version
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
        assert page.metadata.remaining_item_count == len(everything.items) - len(names)
    assert pages == -(-len(everything.items) // 7)
    assert names == [(p.metadata.namespace, p.metadata.name) for p in everything.items]
    assert names == sorted(names)


def test_it_pages_namespaced_lists_through_the_official_client(api, mesh):
    apps = client.AppsV1Api(api)
    namespace = max(
        {w.namespace for w in mesh.workloads},
        key=lambda ns: sum(w.namespace == ns for w in mesh.workloads),
    )
    expected = sorted(
        w.name for w in mesh.workloads if w.namespace == namespace and w.kind == "deployment"
    )
    names, token = [], None
    while True:
        page = apps.list_namespaced_deployment(namespace, limit=2, _continue=token)
        names += [d.metadata.name for d in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == expected and len(names) > 2


def test_it_rejects_bad_and_stale_continue_tokens(api, server):
    core = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as bad:
        core.list_pod_for_all_namespaces(limit=5, _continue="not-a-token")
    assert bad.value.status == 400
    assert json.loads(bad.value.body)["kind"] == "Status"
    token = core.list_service_for_all_namespaces(limit=5).metadata._continue
    with pytest.raises(client.ApiException) as other_list:
        core.list_pod_for_all_namespaces(limit=5, _continue=token)
    assert other_list.value.status == 400
    other = KubeApiServer(build_mesh(61, seed=5, epoch=EPOCH)).start()
    try:
        status, body = _get_stale(other, token)
    finally:
        other.stop()
    assert status == 410 and body["reason"] == "Expired"


def _get_stale(server, token):
    request = urllib.request.Request(f"{server.url}/api/v1/services?limit=5&continue={token}")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    raise AssertionError("a stale token was accepted")


def test_it_filters_by_label_selector(api, mesh):
    core = client.CoreV1Api(api)
    meshed = core.list_pod_for_all_namespaces(label_selector="linkerd.io/control-plane-ns=linkerd")
    expected = [p for w in mesh.all_workloads for p in w.pods if p.has_proxy]
    assert len(meshed.items) == len(expected)
    control = core.list_namespaced_pod(
        "linkerd", label_selector="linkerd.io/control-plane-component"
    )
    assert len(control.items) == len(mesh.control_plane) == 3
    apps = core.list_pod_for_all_namespaces(label_selector="!linkerd.io/control-plane-component")
    assert len(apps.items) == sum(len(w.pods) for w in mesh.workloads)
    unmeshed = core.list_pod_for_all_namespaces(
        label_selector="linkerd.io/control-plane-ns!=linkerd"
    )
    assert {p.metadata.name for p in unmeshed.items} == {
        p.name for w in mesh.workloads for p in w.pods if not p.has_proxy
    }
    with pytest.raises(client.ApiException) as bad:
        core.list_pod_for_all_namespaces(label_selector="app in (a, b)")
    assert bad.value.status == 400


def test_it_shapes_pods_like_linkerd_injected_pods(api, mesh):
    core = client.CoreV1Api(api)
    pods = {
        (p.metadata.namespace, p.metadata.name): p for p in core.list_pod_for_all_namespaces().items
    }
    for w in mesh.workloads:
        for demo_pod in w.pods:
            pod = pods[(w.namespace, demo_pod.name)]
            containers = [c.name for c in pod.spec.containers]
            sidecars = [
                c.name for c in pod.spec.init_containers or [] if c.restart_policy == "Always"
            ]
            assert ("linkerd-proxy" in containers + sidecars) == demo_pod.has_proxy
            assert ("linkerd-proxy" in sidecars) == demo_pod.native_sidecar
            annotations = pod.metadata.annotations or {}
            assert annotations.get("linkerd.io/proxy-version", "") == demo_pod.proxy_version
            assert pod.status.pod_ip == demo_pod.ip and pod.spec.node_name == demo_pod.node
            assert pod.spec.service_account_name == w.service_account
            if demo_pod.has_proxy:
                every = pod.spec.containers + (pod.spec.init_containers or [])
                proxy = next(c for c in every if c.name == "linkerd-proxy")
                assert proxy.resources.limits["memory"].endswith("Mi")
                # The injected probes, which the proxy counts as inbound requests on 4191.
                assert proxy.liveness_probe.http_get.path == "/live"
                assert proxy.readiness_probe.http_get.path == "/ready"
                assert proxy.readiness_probe.http_get.port == 4191
    stuck = next(p for p in pods.values() if p.status.phase == "Pending")
    init = stuck.status.init_container_statuses[0]
    assert init.state.waiting.reason == "PodInitializing"
    assert init.state.waiting.message == HOSTILE_STATUS_MESSAGE
    assert len(stuck.spec.init_containers) == 1  # kubectl shows Init:0/1


def test_it_links_replicasets_to_deployments_with_the_last_rollout(api, mesh):
    apps = client.AppsV1Api(api)
    deployments = {d.metadata.uid: d for d in apps.list_deployment_for_all_namespaces().items}
    replicasets = apps.list_replica_set_for_all_namespaces().items
    for rs in replicasets:
        owner = rs.metadata.owner_references[0]
        assert owner.kind == "Deployment" and owner.uid in deployments
    w = next(w for w in mesh.workloads if w.kind == "deployment" and w.revision > 1)
    mine = [
        rs
        for rs in replicasets
        if rs.metadata.namespace == w.namespace and rs.metadata.owner_references[0].name == w.name
    ]
    newest = max(
        mine, key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"])
    )
    assert newest.metadata.creation_timestamp.timestamp() == int(w.rollout_at)
    assert newest.metadata.name == f"{w.name}-{w.template_hash}"


def test_it_gives_statefulsets_and_daemonsets_their_controller_revision(api, mesh):
    apps = client.AppsV1Api(api)
    revisions = apps.list_controller_revision_for_all_namespaces().items
    for kind in ("statefulset", "daemonset"):
        w = next(w for w in mesh.workloads if w.kind == kind)
        mine = [
            r for r in revisions
            if r.metadata.namespace == w.namespace and r.metadata.owner_references[0].name == w.name
        ]  # fmt: skip
        assert len(mine) == 1 and mine[0].revision == w.revision
        assert mine[0].metadata.owner_references[0].kind.lower() == kind
        assert mine[0].metadata.creation_timestamp.timestamp() == int(w.rollout_at)
    batch = client.BatchV1Api(api)
    assert batch.list_cron_job_for_all_namespaces().items == []


def test_it_runs_jobs_with_a_native_sidecar_proxy_one_of_them_finished(api, mesh):
    jobs = {j.metadata.name: j for j in client.BatchV1Api(api).list_job_for_all_namespaces().items}
    expected = {w.name: w for w in mesh.workloads if w.kind == "job"}
    assert jobs.keys() == expected.keys()
    assert any(w.finished for w in expected.values()) and not all(
        w.finished for w in expected.values()
    )
    pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
    for name, w in expected.items():
        job = jobs[name]
        assert (job.status.succeeded == 1) == w.finished
        assert (job.status.active == 1) == (not w.finished)
        (pod,) = [p for p in pods if p.metadata.owner_references[0].uid == job.metadata.uid]
        assert pod.metadata.owner_references[0].kind == "Job"
        assert pod.metadata.labels["batch.kubernetes.io/job-name"] == name
        assert pod.status.phase == ("Succeeded" if w.finished else "Running")
        if w.meshed:
            assert pod.metadata.labels["linkerd.io/proxy-job"] == name
            proxy = next(c for c in pod.spec.init_containers if c.name == "linkerd-proxy")
            assert proxy.restart_policy == "Always"
            sidecar = next(
                s for s in pod.status.init_container_statuses if s.name == "linkerd-proxy"
            )
            assert (sidecar.state.terminated is not None) == w.finished
            assert [c.name for c in pod.spec.containers] == ["app"]


def test_it_gives_http_probes_to_the_workloads_the_model_says(api, mesh):
    pods = {p.metadata.name: p for p in client.CoreV1Api(api).list_pod_for_all_namespaces().items}
    probed = 0
    for w in mesh.workloads:
        for demo_pod in w.pods:
            app = next(c for c in pods[demo_pod.name].spec.containers if c.name == "app")
            probes = [p for p in (app.readiness_probe, app.liveness_probe) if p and p.http_get]
            assert len(probes) == w.http_probes, w.key
            assert all(p.http_get.port == w.port for p in probes)
            probed += bool(probes)
    assert probed


def test_it_serves_the_control_plane_identity_objects(api, mesh):
    core = client.CoreV1Api(api)
    roots = core.read_namespaced_config_map("linkerd-identity-trust-roots", "linkerd")
    assert roots.data["ca-bundle.crt"] == mesh.certificates.anchor_pem
    issuer = core.read_namespaced_secret("linkerd-identity-issuer", "linkerd")
    assert base64.b64decode(issuer.data["crt.pem"]).decode() == mesh.certificates.issuer_pem
    values = core.read_namespaced_config_map("linkerd-config", "linkerd").data["values"]
    assert f"linkerdVersion: {mesh.linkerd_version}" in values
    assert core.list_namespaced_secret("payments").items == []


def test_it_serves_version(api):
    info = client.VersionApi(api).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")


def test_it_serves_the_meshs_events_as_a_paged_list(api, mesh):
    core = client.CoreV1Api(api)
    everything = core.list_event_for_all_namespaces()
    assert len(everything.items) == len(mesh.events) > 0
    got = {(e.involved_object.kind, e.involved_object.name, e.reason) for e in everything.items}
    assert got == {(e.kind, e.name, e.reason) for e in mesh.events}
    names, token = [], None
    while True:
        page = core.list_event_for_all_namespaces(limit=2, _continue=token)
        names += [e.metadata.name for e in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [e.metadata.name for e in everything.items]
    node = next(e for e in everything.items if e.involved_object.kind == "Node")
    assert node.metadata.namespace == "default" and node.involved_object.namespace is None
    namespaced = core.list_namespaced_event(mesh.workloads[1].namespace).items
    assert all(e.metadata.namespace == mesh.workloads[1].namespace for e in namespaced)
