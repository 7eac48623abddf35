"""What the collector derives for browsing in depth, on hand-made data: the cluster's Services,
events and containers (from the collector tests' fixed cluster) and the snapshot builder's
Services, pods, mTLS shares and authorization decisions (from hand-made samples)."""

import pytest

from meshdash.collectors.kubernetes import (
    ClusterState,
    RawCluster,
    WorkloadInfo,
    build_cluster_state,
    go_duration_seconds,
)
from meshdash.collectors.prometheus import Sample
from meshdash.collectors.snapshot_builder import SnapshotBuilder
from meshdash.mesh.health import HealthRules
from meshdash.mesh.model import Event, Pod, Service, Snapshot, WorkloadKey
from tests.collectors.kube_server import cluster

WEB = WorkloadKey("shop", "deployment", "web")
API = WorkloadKey("shop", "deployment", "api")


@pytest.fixture(scope="module")
def state() -> ClusterState:
    return build_cluster_state(RawCluster(data=cluster()), events_per_object=1)


def test_it_finds_each_services_workloads_by_its_selector(state):
    (api,) = state.services
    assert (api.namespace, api.name, api.workloads) == ("shop", "api", ["deployment/api"])


def test_it_keeps_the_newest_events_of_each_object_with_their_workload(state):
    got = {(e.reason, e.object_kind, e.workload_kind, e.workload_name) for e in state.events}
    assert got == {
        # Two events of one pod, one kept: the newest.
        ("Unhealthy", "Pod", "deployment", "web"),
        ("FailedCreate", "ReplicaSet", "deployment", "api"),
        ("InjectionSkipped", "Deployment", "deployment", "web"),
        # The OOM killer's, on the node: shown with the pod there whose container it killed.
        ("OOMKilling", "Node", "deployment", "web"),
    }
    oom = next(e for e in state.events if e.reason == "OOMKilling")
    assert oom.namespace == "shop" and oom.count == 2 and oom.source == "controller"


def test_it_reads_each_containers_termination_and_the_init_container_waited_for(state):
    pods = {p.name: p for p in state.pods}
    restarted = pods["web-abc12-x2"]
    assert (restarted.app_last_termination, restarted.app_last_termination_container) == (
        "OOMKilled",
        "app",
    )
    assert restarted.problems == ["oomkilled"]
    stuck = pods["api-def34-y3"]
    assert (stuck.init_waiting, stuck.status, stuck.problems) == (
        "linkerd-init",
        "Init:0/1",
        ["init", "not-ready"],
    )
    assert pods["web-abc12-x1"].problems == [] and pods["web-abc12-x1"].proxy_last_termination == ""


def test_it_keeps_workload_and_pod_labels_for_the_label_filter(state):
    assert state.workloads[WEB].labels["team"] == "storefront"
    assert "linkerd.io/control-plane-ns" not in next(p for p in state.pods if p.has_proxy).labels


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h0m0s", 86400.0), ("1h30m", 5400.0), ("90s", 90.0), ("", None), ("1d", None)],
)
def test_it_reads_the_leaf_lifetime_as_go_writes_durations(text, seconds):
    assert go_duration_seconds(text) == seconds


def _labels(**labels) -> dict[str, str]:
    return {"namespace": "shop", **labels}


def _build(results: dict[str, list[Sample]], cluster_state: ClusterState) -> Snapshot:
    snapshot = Snapshot(window="1m", taken_at=0.0)
    SnapshotBuilder(snapshot, cluster_state, results, HealthRules(), False).build()
    return snapshot


@pytest.fixture
def built() -> Snapshot:
    state = ClusterState(
        namespaces={"shop": "enabled"},
        workloads={WEB: WorkloadInfo(WEB), API: WorkloadInfo(API)},
        pods=[
            Pod("shop", "api-1", "deployment", "api", phase="Running", has_proxy=True),
            Pod("shop", "web-1", "deployment", "web", phase="Running", has_proxy=True),
        ],
        services=[Service("shop", "api", workloads=["deployment/api"])],
        events=[
            Event(
                "shop",
                "Pod",
                "api-1",
                reason="BackOff",
                workload_kind="deployment",
                workload_name="api",
            ),
            Event(
                "gone", "Pod", "x", reason="BackOff", workload_kind="deployment", workload_name="x"
            ),
        ],  # fmt: skip
    )
    api, web = {"deployment": "api"}, {"deployment": "web"}
    results = {
        "inbound": [
            Sample(_labels(**api, classification="success"), 570.0),
            Sample(_labels(**api, classification="failure"), 30.0),
            # Five successes and a failure in a minute: too few requests to judge.
            Sample(_labels(**web, classification="success"), 5.0),
            Sample(_labels(**web, classification="failure"), 1.0),
        ],
        "clients": [
            Sample(
                _labels(
                    **api,
                    tls="true",
                    client_id="web.shop.serviceaccount.identity.linkerd.cluster.local",
                    classification="success",
                ),
                450.0,
            ),  # noqa: E501
            Sample(
                _labels(**api, tls="no_identity", client_id="", classification="success"), 150.0
            ),  # noqa: E501
        ],
        "edges": [
            Sample(
                _labels(
                    **web,
                    dst_namespace="shop",
                    dst_deployment="api",
                    dst_service="api",
                    tls="true",
                    server_id="api",
                    classification="success",
                ),
                420.0,
            ),  # noqa: E501
            Sample(
                _labels(
                    **web,
                    dst_namespace="shop",
                    dst_deployment="api",
                    dst_service="api",
                    tls="true",
                    server_id="api",
                    classification="failure",
                ),
                30.0,
            ),  # noqa: E501
        ],
        "latency": [
            Sample(_labels(**api, client_id="", le=le), count)
            for le, count in (("10", 300.0), ("100", 594.0), ("+Inf", 600.0))
        ],
        "pods": [
            Sample(_labels(pod="api-1", metric="responses", classification="success"), 570.0),
            Sample(_labels(pod="api-1", metric="responses", classification="failure"), 30.0),
            # Prometheus's histogram_quantile(0.99) of the workload's buckets, its one pod's.
            Sample(_labels(pod="api-1", metric="p99"), 100.0),
        ],
        "authz": [
            Sample(
                _labels(
                    **api,
                    metric="http_allow",
                    srv_kind="server",
                    srv_name="api-http",
                    authz_kind="authorizationpolicy",
                    authz_name="callers",
                ),
                600.0,
            ),  # noqa: E501
            Sample(
                _labels(**api, metric="http_deny", srv_kind="server", srv_name="api-http"), 120.0
            ),  # noqa: E501
            Sample(_labels(**api, metric="tcp_deny", srv_kind="server", srv_name="api-http"), 6.0),  # noqa: E501
        ],
    }
    return _build(results, state)


def _workloads(snapshot):
    return {w.key: w for w in snapshot.workloads}


def test_it_judges_on_the_requests_in_the_window_and_says_why(built):
    workloads = _workloads(built)
    assert (workloads[WEB].health, workloads[WEB].health_reason) == (
        "no-traffic",
        "6 requests in the window, fewer than 20: not judged",
    )
    assert (workloads[API].health, workloads[API].health_reason) == (
        "warning",
        "success 95 % is below 99 %",
    )
    edge, unmeshed = sorted(built.edges, key=lambda e: not e.src_meshed)
    assert (unmeshed.src_meshed, unmeshed.health) == (False, "healthy")
    assert (edge.dst_service, edge.health, edge.health_reason) == (
        "api",
        "critical",
        "success 93.33 % is below 95 %",
    )
    assert built.health_rules["min_requests"] == 20.0


def test_it_measures_services_from_their_callers(built):
    (service,) = built.services
    assert service.rps == pytest.approx(7.5)
    assert service.success_rate == pytest.approx(420 / 450)
    assert (service.mtls_share, service.callers, service.meshed) == (1.0, 1, True)
    assert service.latency_ms_p99 == pytest.approx(_workloads(built)[API].latency_ms_p99)


def test_it_measures_each_pod(built):
    pods = {p.name: p for p in built.pods}
    assert (pods["api-1"].rps, pods["api-1"].success_rate) == (10.0, 0.95)
    assert pods["api-1"].latency_ms_p99 == pytest.approx(_workloads(built)[API].latency_ms_p99)
    assert (pods["web-1"].rps, pods["web-1"].success_rate) == (0.0, None)


def test_it_shares_mtls_per_workload_and_namespace(built):
    assert _workloads(built)[API].mtls_share == 0.75
    (shop,) = built.namespaces
    assert shop.mtls_share == 0.75 and shop.authz_denied_rps == 2.0


def test_it_counts_authorization_per_server_and_policy(built):
    rows = {(a.server, a.policy): a for a in built.authorizations}
    assert rows[("api-http", "callers")].http_allowed_rps == 10.0
    assert rows[("api-http", "")].http_denied_rps == 2.0
    assert rows[("api-http", "")].tcp_denied_per_second == 0.1
    api = _workloads(built)[API]
    assert (api.authz_allowed_rps, api.authz_denied_rps, api.tcp_authz_denied_per_second) == (
        10.0,
        2.0,
        0.1,
    )


def test_it_keeps_the_events_of_the_snapshots_workloads(built):
    assert [(e.reason, e.workload_name) for e in built.events] == [("BackOff", "api")]
    assert _workloads(built)[API].events == 1


JOB_1, JOB_2 = (WorkloadKey("shop", "job", f"report-{n}") for n in (1, 2))
CRON = WorkloadKey("shop", "cronjob", "report")


def _routes(results: dict[str, list[Sample]]) -> dict[tuple, float | None]:
    """(workload name, route kind, route, service) -> the route's p99, built with api's route
    and a CronJob's two Jobs calling it."""
    state = ClusterState(
        workloads={WEB: WorkloadInfo(WEB), API: WorkloadInfo(API), CRON: WorkloadInfo(CRON)},
        aliases={JOB_1: CRON, JOB_2: CRON},
    )
    return {
        (r.name, r.route_kind, r.route, r.service): r.latency_ms_p99
        for r in _build(results, state).routes
    }


def test_a_routes_p99_is_the_one_prometheus_computed():
    api = {"deployment": "api", "rt_route": "GET /items", "dst": "api.shop.svc.cluster.local"}
    web = {"deployment": "web", "parent_namespace": "shop", "parent_name": "api"}
    http = {**web, "route_kind": "HTTPRoute", "route_name": "items"}
    grpc = {**web, "route_kind": "GRPCRoute", "route_name": "rpc"}
    routes = _routes(
        {
            "routes": [Sample(_labels(**api, classification="success"), 10.0)],
            "route_latency": [Sample(_labels(**api), 12.5)],  # ms
            "policy_routes": [
                Sample(_labels(**http, metric="http", http_status="200", error=""), 5.0),
                Sample(_labels(**grpc, metric="grpc", grpc_status="OK", error=""), 5.0),
            ],
            # Seconds, as the proxies' route histograms count them.
            "policy_route_latency": [
                Sample(_labels(**http, metric="http"), 0.25),
                Sample(_labels(**grpc, metric="grpc"), 0.004),
                # A route without requests in the window: no route, no p99.
                Sample(_labels(**{**http, "route_name": "idle"}, metric="http"), 1.0),
            ],
        }
    )
    assert routes == {
        ("api", "ServiceProfile", "GET /items", "api.shop.svc.cluster.local"): 12.5,
        ("web", "HTTPRoute", "items", "api.shop"): 250.0,
        ("web", "GRPCRoute", "rpc", "api.shop"): 4.0,
    }


def test_the_route_of_a_cronjobs_jobs_shows_their_highest_p99():
    route = {"parent_namespace": "shop", "parent_name": "api", "route_kind": "HTTPRoute"}
    route |= {"route_name": "items", "metric": "http"}
    jobs = [{"k8s_job": "report-1", **route}, {"k8s_job": "report-2", **route}]
    ok = {"http_status": "200", "error": ""}
    routes = _routes(
        {
            "policy_routes": [Sample(_labels(**job, **ok), 5.0) for job in jobs],
            "policy_route_latency": [
                Sample(_labels(**jobs[0]), 0.04),
                Sample(_labels(**jobs[1]), 0.055),
            ],
        }
    )
    # Never below the p99 of both Jobs' requests together; without one, no p99.
    assert routes == {("report", "HTTPRoute", "items", "api.shop"): 55.0}
    routes = _routes({"policy_routes": [Sample(_labels(**jobs[0], **ok), 5.0)]})
    assert routes == {("report", "HTTPRoute", "items", "api.shop"): None}
