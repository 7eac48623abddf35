"""collect() against the demo mesh served for real: its Kubernetes API stand-in read through the
official client, its proxy metrics scraped by a private Prometheus and read with PromQL.

The truth is the demo model (``meshdash.demo.model``), rebuilt from the arguments the running
mesh wrote: its configured rates, its call graph and its deliberate mistakes.
"""

import math
import time
from collections import Counter

import pytest

from meshdash.collectors.collect import collect
from meshdash.collectors.prometheus import PrometheusClient, collection_queries
from meshdash.demo import model as demo
from meshdash.demo.kubeapi import cluster_objects
from meshdash.demo.runner import load_mesh
from meshdash.mesh.health import NO_TRAFFIC, NOT_MESHED, HealthRules, classify_tcp
from meshdash.mesh.model import (
    DEFAULT_HTTP_ROUTE,
    GRPC_ROUTE,
    HTTP_ROUTE,
    INBOUND,
    OUTBOUND,
    SERVICE_PROFILE,
)
from tests.collectors.conftest import covered_instant, kube_client, wait_for_full_window

pytestmark = pytest.mark.e2e

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def mesh(demo_mesh):
    return load_mesh(demo_mesh.out_dir)


@pytest.fixture(scope="module")
def snapshot(demo_mesh, demo_prometheus):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    return collect(
        "1m",
        prometheus=PrometheusClient(demo_prometheus.url),
        kube=kube_client(demo_mesh.kubeconfig),
        now=covered_instant(demo_prometheus.url),
        rules=HealthRules(),
    )


def close(actual, expected, tolerance=TOLERANCE) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=1e-9)


def quantile(w: demo.DemoWorkload, q: float) -> float:
    """Prometheus's histogram_quantile over the workload's latency buckets, by the model."""
    return demo.histogram_quantile(q, w.latency.cumulative_fractions())


def _key(key) -> tuple[str, str, str]:
    """A snapshot's WorkloadKey as the model's (namespace, kind, name)."""
    return (key.namespace, key.kind, key.name)


def _by_key(snapshot):
    return {_key(w.key): w for w in snapshot.workloads}


def _pods(snapshot):
    return {(p.namespace, p.name): p for p in snapshot.pods}


def _wrong(rows):
    wrong = [row for row in rows if not row[-1]]
    return f"{len(wrong)} of {len(rows)} disagree, first ones: {wrong[:5]}"


def test_it_collects_every_workload_at_a_fixed_cost(snapshot, mesh):
    assert snapshot.errors == {}
    assert _by_key(snapshot).keys() == {w.key for w in mesh.all_workloads}
    queries = sum(len(shards) for shards in collection_queries("1m").values())
    assert snapshot.query_count == queries
    # Waiting on each source is counted once, however many requests overlapped.
    assert 0 < snapshot.prometheus_seconds <= snapshot.collect_seconds
    assert 0 < snapshot.kubernetes_seconds <= snapshot.collect_seconds


def test_it_counts_meshed_and_total_pods_as_the_model_says(snapshot, mesh):
    workloads = _by_key(snapshot)
    rows = []
    for w in mesh.all_workloads:
        got = workloads[w.key]
        pods = (got.meshed_pods, got.total_pods)
        want = (sum(pod.has_proxy for pod in w.pods), len(w.pods))
        rows.append((w.key, pods, want, pods == want))
    assert all(row[-1] for row in rows), _wrong(rows)


def test_it_joins_team_and_last_rollout_from_the_cluster(snapshot, mesh):
    workloads = _by_key(snapshot)
    rows = []
    for w in mesh.all_workloads:
        got = workloads[w.key]
        # The API shows times to the second.
        want = (w.team, float(int(w.rollout_at)))
        found = (got.team, got.last_rollout)
        rows.append((w.key, found, want, found == want))
    assert all(row[-1] for row in rows), _wrong(rows)
    assert {w.kind for w in mesh.workloads} == {"deployment", "statefulset", "daemonset", "job"}


def test_it_reads_inbound_golden_metrics_as_the_model_states_them(snapshot, mesh):
    workloads = _by_key(snapshot)
    rows = []
    for w in mesh.all_workloads:
        got = workloads[w.key]
        rps, success = mesh.inbound_rps(w), mesh.success_rate(w)
        quantiles = [mesh.latency_quantile(w, q) for q in (0.5, 0.95, 0.99)]
        ok = (
            close(got.rps, rps)
            and close(got.success_rate, success)
            and all(
                close(value, want, 1e-3)
                for value, want in zip(
                    (got.latency_ms_p50, got.latency_ms_p95, got.latency_ms_p99),
                    quantiles,
                    strict=True,
                )
            )
        )
        rows.append((w.key, got.rps, rps, got.success_rate, success, got.latency_ms_p99, ok))
    assert all(row[-1] for row in rows), _wrong(rows)
    # Enough of the mesh carries traffic, and some of it fails, for the check to mean something.
    assert sum(1 for w in mesh.all_workloads if mesh.inbound_rps(w) > 0) > len(rows) / 2
    assert any(mesh.success_rate(w) and mesh.success_rate(w) < 0.95 for w in mesh.workloads)
    assert any(w.incident == demo.INCIDENT_LATENCY for w in mesh.workloads)
    # gRPC servers failing behind HTTP 200 (and streams reset before any response) count.
    grpc = [w for w in mesh.workloads if w.protocol == demo.PROTOCOL_GRPC and w.meshed]
    assert any(mesh.success_rate(w) is not None and mesh.success_rate(w) < 1 for w in grpc)
    assert any(w.stream_error_share for w in mesh.workloads if mesh.success_rate(w) != 1)


def test_it_reads_outbound_totals_and_tcp(snapshot, mesh):
    workloads = _by_key(snapshot)
    rows = []
    for w in mesh.all_workloads:
        got = workloads[w.key]
        outbound = sum(mesh.outbound_rps(w).values())
        tcp = mesh.tcp(w)
        ok = (
            close(got.outbound_rps, outbound)
            and close(got.outbound_success_rate, mesh.outbound_success_rate(w))
            and close(got.tcp_read_bytes_per_second, tcp.read_bytes_per_second)
            and close(got.tcp_write_bytes_per_second, tcp.write_bytes_per_second)
        )
        rows.append((w.key, got.outbound_rps, outbound, got.tcp_read_bytes_per_second, tcp, ok))
    assert all(row[-1] for row in rows), _wrong(rows)


def test_it_follows_the_call_graph_with_identities(snapshot, mesh):
    edges = {(_key(e.src), _key(e.dst)): e for e in snapshot.edges if e.src_meshed and e.rps}
    # Calls over HTTP and gRPC; a TCP-only callee's clients have connections (below).
    expected = {(e.src.key, e.dst.key): e for e in mesh.edges if e.src.meshed and e.dst.speaks_http}
    assert edges.keys() == expected.keys()
    rows = []
    for (src, dst), edge in edges.items():
        model_edge = expected[(src, dst)]
        callee = model_edge.dst
        want = {
            "tls": callee.serves_mtls,
            "server_id": callee.identity if callee.serves_mtls else "",
            "client_id": model_edge.src.identity if callee.serves_mtls else "",
        }
        got = {"tls": edge.tls, "server_id": edge.server_id, "client_id": edge.client_id}
        ok = (
            got == want
            and close(edge.rps, model_edge.rps)
            and close(edge.success_rate, callee.success_rate)
            and close(edge.latency_ms_p99, quantile(callee, 0.99), 1e-3)
        )
        rows.append((src, dst, got, want, edge.rps, model_edge.rps, ok))
    assert all(row[-1] for row in rows), _wrong(rows)
    assert any(not e.dst.meshed for e in mesh.edges if e.src.meshed)  # plain-text edges exist


def test_it_shows_the_edges_to_tcp_only_workloads(snapshot, mesh):
    got = {(_key(e.src), _key(e.dst)): e for e in snapshot.edges if e.tcp_only}
    connections = Counter()
    for flow in mesh.flows:
        if flow.src is not None and flow.src.meshed and not flow.dst.speaks_http:
            connections[(flow.src.key, flow.dst.key)] += flow.connections
    assert connections and got.keys() == connections.keys()
    for pair, edge in got.items():
        assert edge.tcp_open_connections == connections[pair], pair
        assert (edge.rps, edge.success_rate, edge.tls) == (0.0, None, pair[1] in _meshed(mesh))


def _meshed(mesh) -> set:
    return {w.key for w in mesh.all_workloads if w.meshed}


def test_it_sees_unmeshed_clients_from_the_servers_side(snapshot, mesh):
    expected = Counter()
    for w in mesh.all_workloads:
        if w.meshed and w.speaks_http and w.unmeshed_client_rps:
            expected[w.key] += w.unmeshed_client_rps
    for e in mesh.edges:
        if e.dst.serves_mtls and e.dst.speaks_http and not e.src.meshed:
            expected[e.dst.key] += e.rps
    unmeshed = [e for e in snapshot.edges if not e.src_meshed]
    got = {(e.dst_namespace, e.dst_kind, e.dst_name): e for e in unmeshed}
    assert len(got) == len(unmeshed)
    assert got.keys() == expected.keys()
    for key, edge in got.items():
        assert (edge.src_namespace, edge.src_kind, edge.src_name, edge.tls) == ("", "", "", False)
        assert close(edge.rps, expected[key]), (key, edge.rps, expected[key])
    ingress = mesh.workloads[0]
    assert close(got[ingress.key].rps, mesh.inbound_rps(ingress))  # all its traffic is unmeshed


def test_it_recognises_unmeshed_workloads_and_pods(snapshot, mesh):
    workloads, pods = _by_key(snapshot), _pods(snapshot)
    unmeshed = [w for w in mesh.workloads if not w.meshed]
    assert unmeshed
    for w in unmeshed:
        got = workloads[w.key]
        assert (got.meshed_pods, got.health, got.rps) == (0, NOT_MESHED, 0.0), w.key
        assert got.inject_annotation == w.annotations.get("linkerd.io/inject", ""), w.key
        for pod in w.pods:
            snapshot_pod = pods[(pod.namespace, pod.name)]
            assert not snapshot_pod.has_proxy
            assert snapshot_pod.proxy_version == ""
            assert snapshot_pod.proxy_memory_bytes is None
    # Unmeshed by an explicit annotation in an injected namespace, and by an invalid one.
    assert any(workloads[w.key].inject_annotation == "disabled" for w in unmeshed)
    assert any(w.namespace == "legacy-batch" for w in unmeshed)


def test_it_reads_the_invalid_inject_annotation_of_a_namespace(snapshot, mesh):
    namespaces = {n.name: n for n in snapshot.namespaces}
    assert namespaces.keys() == {ns.name for ns in mesh.namespaces}
    for ns in mesh.namespaces:
        assert namespaces[ns.name].inject_annotation == ns.annotations.get("linkerd.io/inject", "")
    assert namespaces["legacy-batch"].inject_annotation == "true"
    legacy = [p for p in snapshot.pods if p.namespace == "legacy-batch"]
    assert legacy
    for pod in legacy:
        assert pod.namespace_inject_annotation == "true"
        assert (pod.has_proxy, pod.inject_annotation) == (False, "")
    by_pod = {(p.namespace, p.name): w for w in mesh.all_workloads for p in w.pods}
    for pod in snapshot.pods:
        w = by_pod[(pod.namespace, pod.name)]
        assert pod.inject_annotation == w.annotations.get("linkerd.io/inject", "")
        assert (pod.workload_kind, pod.workload_name) == (w.kind, w.name)


def test_it_reads_proxy_versions_old_and_current(snapshot, mesh):
    pods = _pods(snapshot)
    versions = {p.proxy_version for w in mesh.all_workloads for p in w.pods}
    assert demo.OLD_PROXY_VERSION in versions
    for w in mesh.all_workloads:
        for pod in w.pods:
            assert pods[(pod.namespace, pod.name)].proxy_version == pod.proxy_version
    data_plane = Counter(p.proxy_version for w in mesh.workloads for p in w.pods if p.has_proxy)
    assert snapshot.control_plane.data_plane_versions == dict(data_plane)
    assert set(data_plane) == {
        demo.LINKERD_VERSION,
        demo.OLD_PROXY_VERSION,
        demo.NEWER_PROXY_VERSION,
    }


def test_it_shows_the_pod_stuck_in_init(snapshot, mesh):
    (stuck,) = [p for w in mesh.all_workloads for p in w.pods if p.init_stuck]
    pod = _pods(snapshot)[(stuck.namespace, stuck.name)]
    assert (pod.status, pod.phase, pod.ready, pod.has_proxy) == ("Init:0/1", "Pending", False, True)
    assert pod.proxy_memory_bytes is None  # a proxy that never started reports nothing
    assert [p.name for p in snapshot.pods if p.status.startswith("Init:")] == [stuck.name]


def test_it_reads_proxy_memory_and_certificates(snapshot, mesh, demo_mesh):
    pods = _pods(snapshot)
    # The last scrape is at most one interval (plus scrape time) before the collection.
    earliest = snapshot.taken_at - 2 * demo_mesh.scrape_seconds - 1
    creeping = 0
    for w in mesh.all_workloads:
        for pod in w.pods:
            if not pod.exports_metrics:
                continue
            got = pods[(pod.namespace, pod.name)]
            assert got.proxy_memory_limit_bytes == pod.memory_limit
            # The leaf held at the last scrape (renewed every 70 % of its life).
            leaves = {pod.leaf(t)[1] for t in (earliest, snapshot.taken_at)}
            assert any(got.proxy_cert_expiry == pytest.approx(e, abs=0.01) for e in leaves)
            assert close(got.proxy_cpu_cores, pod.cpu_rate), (pod.name, got.proxy_cpu_cores)
            if pod.memory_slope:
                creeping += 1
                low = pod.proxy_memory(earliest)
                high = pod.proxy_memory(snapshot.taken_at + 1)
                assert low <= got.proxy_memory_bytes <= high, (pod.name, got.proxy_memory_bytes)
                assert got.proxy_memory_bytes > pod.memory_base
            else:
                assert got.proxy_memory_bytes == pytest.approx(pod.memory_base, abs=0.01)
    assert creeping


def test_it_reads_the_control_plane_and_its_certificates(snapshot, mesh):
    plane = snapshot.control_plane
    assert plane.namespace == demo.LINKERD_NAMESPACE
    assert plane.version == demo.LINKERD_VERSION
    assert plane.issuer_not_after == mesh.certificates.issuer_not_after
    assert plane.issuer_not_after == mesh.epoch + demo.ISSUER_DAYS_LEFT * 86400
    assert plane.trust_anchor_not_after == mesh.certificates.anchor_not_after
    assert {c["name"]: (c["pods"], c["ready"], c["version"]) for c in plane.components} == {
        w.control_plane_component: (1, 1, w.pods[0].proxy_version) for w in mesh.control_plane
    }


def test_it_reports_service_profile_routes(snapshot, mesh):
    routes = {
        (r.namespace, r.kind, r.name, r.route): r
        for r in snapshot.routes
        if r.route_kind == SERVICE_PROFILE
    }
    assert all(r.direction == INBOUND for r in routes.values())
    expected = {
        (*w.key, name): rps for w in mesh.all_workloads for name, rps in mesh.route_rps(w).items()
    }
    assert expected and routes.keys() == expected.keys()
    for key, rps in expected.items():
        w = mesh.workload(*key[:3])
        assert close(routes[key].rps, rps), key
        assert routes[key].service == w.authority
        assert close(routes[key].latency_ms_p99, quantile(w, 0.99), 1e-3)


def test_it_reports_http_and_grpc_routes_from_the_clients_side(snapshot, mesh):
    got = {
        (r.namespace, r.kind, r.name, r.service, r.route): r
        for r in snapshot.routes
        if r.route_kind != SERVICE_PROFILE
    }
    expected = {}
    for w in mesh.all_workloads:
        for family, rates in (("http", mesh.http_route_rps(w)), ("grpc", mesh.grpc_route_rps(w))):
            for (namespace, service, route), rps in rates.items():
                expected[(*w.key, f"{service}.{namespace}", route)] = (w, family, rps)
    assert got.keys() == expected.keys()
    rows = []
    for key, (w, family, rps) in expected.items():
        route = got[key]
        model_key = (key[3].rsplit(".", 1)[1], key[3].rsplit(".", 1)[0], key[4])
        kinds = (GRPC_ROUTE,) if family == "grpc" else (HTTP_ROUTE, DEFAULT_HTTP_ROUTE)
        ok = (
            route.direction == OUTBOUND
            and route.route_kind in kinds
            and close(route.rps, rps)
            and close(route.success_rate, mesh.policy_route_success_rate(w, model_key))
            and close(
                route.latency_ms_p99,
                mesh.policy_route_latency_quantile(w, model_key, 0.99),
                1e-3,
            )
        )
        rows.append((key, route.route_kind, route.rps, rps, route.success_rate, ok))
    assert all(row[-1] for row in rows), _wrong(rows)
    kinds = {r.route_kind for r in snapshot.routes}
    assert {SERVICE_PROFILE, HTTP_ROUTE, GRPC_ROUTE, DEFAULT_HTTP_ROUTE} <= kinds
    # gRPC failures are seen on GRPCRoute routes, by their grpc_status.
    assert any(r.success_rate < 1 for r in snapshot.routes if r.route_kind == GRPC_ROUTE)


def test_it_shows_probes_and_scrapes_apart_from_the_application(snapshot, mesh):
    workloads = _by_key(snapshot)
    rows = []
    for w in mesh.all_workloads:
        got = workloads[w.key]
        probes, scrapes = mesh.probe_rps(w), mesh.scrape_rps(w)
        ok = (
            close(got.probe_rps, probes)
            and close(got.scrape_rps, scrapes)
            and close(got.probe_success_rate, 1.0 if probes else None)
            and close(got.scrape_success_rate, 1.0 if scrapes else None)
        )
        rows.append((w.key, got.probe_rps, probes, got.scrape_rps, scrapes, ok))
    assert all(row[-1] for row in rows), _wrong(rows)
    assert any(mesh.probe_rps_by_port(w).keys() - {demo.PROXY_ADMIN_PORT} for w in mesh.workloads)
    # The application's numbers exclude them (test_it_reads_inbound_golden_metrics...), so a
    # meshed workload nobody calls has no traffic rather than the proxies' 0.3 rps.
    idle = [w for w in mesh.workloads if w.meshed and w.exporting_pods and not mesh.inbound_rps(w)]
    assert idle
    for w in idle:
        if w.speaks_http:
            assert (workloads[w.key].rps, workloads[w.key].health) == (0.0, NO_TRAFFIC), w.key


def test_it_shows_no_caller_for_probes_and_scrapes(snapshot, mesh):
    """The kubelet and Prometheus call every proxy: neither is an unmeshed caller or an edge."""
    # Requests, not a TCP-only workload's connections (test_it_shows_the_edges_to_tcp_only...).
    callers = {_key(e.dst) for e in snapshot.edges if not e.tcp_only}
    for w in mesh.all_workloads:
        # (A port that skips the proxy has callers its own proxy does not see.)
        if w.meshed and not mesh.inbound_rps(w) and not w.skip_inbound:
            assert w.key not in callers, w.key


def test_it_judges_tcp_only_workloads_on_their_connections(snapshot, mesh):
    rules = HealthRules()
    workloads = _by_key(snapshot)
    tcp_only = [w for w in mesh.workloads if not w.speaks_http and w.meshed and w.exporting_pods]
    assert tcp_only
    rows = []
    for w in tcp_only:
        got, tcp = workloads[w.key], mesh.tcp(w)
        # In a steady state as many connections close as open.
        health = classify_tcp(
            rules,
            meshed_pods=len(w.exporting_pods),
            open_connections=tcp.open_connections,
            opened_per_second=tcp.opened_per_second,
            closes_per_second=tcp.opened_per_second,
            close_error_rate=w.close_error_share if tcp.opened_per_second else None,
        )
        ok = (
            got.rps == 0.0
            and got.judged_on == "tcp"
            and got.health == health
            and close(got.tcp_open_connections, tcp.open_connections)
            and close(got.tcp_opened_per_second, tcp.opened_per_second)
            and close(got.tcp_close_errors_per_second, tcp.close_errors_per_second)
            and close(got.tcp_close_error_rate, w.close_error_share, 0.05)
        )
        rows.append((w.key, got.health, health, got.tcp_close_error_rate, w.close_error_share, ok))
    assert all(row[-1] for row in rows), _wrong(rows)
    # HTTP and gRPC workloads are judged on their requests.
    for w in mesh.workloads:
        if w.speaks_http and mesh.inbound_rps(w) * 60 >= rules.min_requests:
            assert workloads[w.key].judged_on == "http", w.key


def test_it_calls_finished_jobs_idle(snapshot, mesh):
    finished = [w for w in mesh.workloads if w.kind == "job" and w.finished and w.meshed]
    assert finished
    workloads = _by_key(snapshot)
    for w in finished:
        assert (workloads[w.key].rps, workloads[w.key].health) == (0.0, NO_TRAFFIC), w.key


def test_it_collects_the_same_with_the_heaviest_query_sharded(snapshot, demo_mesh, demo_prometheus):
    def collect_at(at: float, shards: dict[str, int]):
        return collect(
            "1m",
            prometheus=PrometheusClient(demo_prometheus.url, shards=shards),
            kube=kube_client(demo_mesh.kubeconfig),
            now=at,
            rules=HealthRules(),
        )

    at = time.time() - 1
    whole, sharded = collect_at(at, {}), collect_at(at, {"latency": 3})
    assert whole.errors == sharded.errors == {}
    assert sharded.query_count == whole.query_count + 2
    assert sharded.workloads == whole.workloads
    assert sharded.edges == whole.edges


def test_it_pages_through_the_stand_in_with_a_small_page(demo_mesh, mesh):
    small = kube_client(demo_mesh.kubeconfig, page_size=7)
    raw = small.fetch()
    assert raw.errors == {}
    objects = cluster_objects(mesh)
    lists = [name for name in raw.data if name not in ("trust_roots", "issuer", "linkerd_config")]
    served = [name for name in lists if name in objects]
    assert {"namespaces", "pods", "deployments", "replicasets"} <= set(served)
    for name in served:
        names = [(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in raw.data[name]]
        want = [(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects[name]]
        assert names == want, name
    # Kinds the stand-in does not serve answer 404 once and read as none.
    for name in set(lists) - set(served):
        assert raw.data[name] == [], name
    pages = sum(max(1, math.ceil(len(objects[name]) / 7)) for name in served)
    assert pages > 2 * len(served)
    unserved, reads = len(lists) - len(served), 3  # the trust roots, the issuer, linkerd-config
    assert small.request_count == pages + unserved + reads
    whole_client = kube_client(demo_mesh.kubeconfig, page_size=100_000)
    assert whole_client.fetch().data == raw.data
    assert whole_client.request_count == len(lists) + reads


def test_it_tells_each_pods_trouble_per_container(snapshot, mesh):
    pods = _pods(snapshot)
    truth = mesh.pod_problems()
    for problem, names in truth.items():
        got = {name for name, pod in pods.items() if problem in pod.problems}
        assert got == names, problem
    model_pods = {(p.namespace, p.name): p for w in mesh.all_workloads for p in w.pods}
    for name, pod in model_pods.items():
        got = pods[name]
        assert got.proxy_last_termination == pod.proxy_last_termination, name
        assert got.proxy_restarts == pod.proxy_restarts, name
        assert got.app_last_termination == pod.app_last_termination, name
        if pod.app_last_termination:
            assert got.app_last_termination_container not in ("", "linkerd-proxy"), name
        if pod.crash_looping:
            assert got.waiting_reason == "CrashLoopBackOff" and got.status == "CrashLoopBackOff"
        if pod.init_stuck:
            assert got.init_waiting == "linkerd-init" and got.status == "Init:0/1"
        assert got.node == pod.node
        if pod.exports_metrics:
            assert got.proxy_memory_limit_bytes == pod.memory_limit, name


def test_it_measures_each_pod_of_a_workload(snapshot, mesh):
    pods = _pods(snapshot)
    rows = []
    for w in mesh.all_workloads:
        for pod in w.pods:
            want = mesh.pod_rps(pod)
            got = pods[(pod.namespace, pod.name)]
            ok = close(got.rps, want) if want else got.rps == 0.0
            if want and w.protocol == demo.PROTOCOL_HTTP:
                ok = ok and close(got.success_rate, w.success_rate)
                ok = ok and close(got.latency_ms_p99, quantile(w, 0.99), 1e-3)
            rows.append(((pod.namespace, pod.name), got.rps, want, ok))
    assert all(row[-1] for row in rows), _wrong(rows)


def test_it_lists_services_with_their_workloads_and_callers(snapshot, mesh):
    services = {(s.namespace, s.name): s for s in snapshot.services}
    rows = []
    for w in mesh.all_workloads:
        if not w.service_name:
            continue
        got = services[(w.namespace, w.service_name)]
        want = mesh.service_rps(w)
        ok = (
            got.workloads == [f"{w.kind}/{w.name}"]
            and got.meshed == w.meshed
            and close(got.rps, want)
            and got.callers == len(mesh.service_callers(w))
        )
        if want:
            ok = ok and close(got.mtls_share, 1.0 if w.serves_mtls else 0.0)
        rows.append((got.name, got.workloads, got.rps, want, ok))
    assert all(row[-1] for row in rows), _wrong(rows)


def test_it_shows_the_mtls_posture(snapshot, mesh):
    plain = {
        (_key(e.src), _key(e.dst)) for e in snapshot.edges if e.src_meshed and not e.tls and e.rps
    }
    assert plain == mesh.plaintext_edges()
    workloads = _by_key(snapshot)
    for w in mesh.all_workloads:
        assert close(workloads[w.key].mtls_share, mesh.mtls_share(w), 1e-6), w.key
    skipped = [w for w in mesh.workloads if w.skip_inbound]
    assert skipped and all(workloads[w.key].rps == 0 for w in skipped)


def test_it_counts_authorization_decisions_per_server(snapshot, mesh):
    rows = {(a.namespace, a.kind, a.name, a.server, a.policy): a for a in snapshot.authorizations}
    workloads = _by_key(snapshot)
    for w in mesh.all_workloads:
        if not w.serves_mtls:
            continue
        got = workloads[w.key]
        assert close(got.authz_denied_rps, w.denied_rps), w.key
        assert close(got.tcp_authz_denied_per_second, w.denied_connections_per_second), w.key
        if w.server and w.speaks_http and mesh.inbound_rps(w):
            allowed = rows[(*w.key, w.server, w.authorization_policy)]
            assert allowed.server_kind == "server"
            assert allowed.policy_kind == "authorizationpolicy"
            assert close(allowed.http_allowed_rps, mesh.authz_allowed_rps(w)), w.key
        if w.denied_rps:
            denied = rows[(*w.key, w.server, "")]
            assert close(denied.http_denied_rps, w.denied_rps) and denied.policy_kind == ""
        if not w.server and w.speaks_http and mesh.inbound_rps(w):
            default = rows[(*w.key, "all-unauthenticated", "all-unauthenticated")]
            assert close(default.http_allowed_rps, mesh.authz_allowed_rps(w)), w.key


def test_it_keeps_the_recent_events_of_workloads_and_their_pods(snapshot, mesh):
    got = {(e.workload_kind, e.workload_name, e.reason, e.object_kind) for e in snapshot.events}
    want = {(e.workload[1], e.workload[2], e.reason, e.kind) for e in mesh.events}
    # The OOM killer's events are the node's: shown with each workload whose pod on that node
    # had a container OOMKilled.
    nodes = {e.name for e in mesh.events if e.kind == "Node"}
    want = {row for row in want if row[3] != "Node"} | {
        (w.kind, w.name, "OOMKilling", "Node")
        for w in mesh.all_workloads
        for p in w.pods
        if p.node in nodes and "OOMKilled" in (p.proxy_last_termination, p.app_last_termination)
    }
    assert got == want
    workloads = _by_key(snapshot)
    for e in mesh.events:
        assert workloads[e.workload].events >= 1
