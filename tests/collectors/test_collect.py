"""collect() against a real Prometheus holding known series and a real API server."""

import pytest

from meshdash.collectors.collect import CollectionFailed, collect
from meshdash.collectors.prometheus import WINDOW_QUERIES, PrometheusClient
from meshdash.mesh import metrics
from meshdash.mesh.health import CRITICAL, HEALTHY, NO_TRAFFIC, NOT_MESHED, WARNING, HealthRules
from meshdash.mesh.model import MAX_TEXT, WorkloadKey
from tests import servers
from tests.collectors import fixture_data as data
from tests.collectors import kube_server

KIND = {"deployment": "deployment", "statefulset": "statefulset", "k8s_job": "job"}


def _cumulative(rates):
    return [(float(le), count) for le, count in data._cumulative(rates)]


@pytest.fixture
def snapshot(backfilled_prometheus, kube):
    url, at = backfilled_prometheus
    return collect("1m", prometheus=PrometheusClient(url), kube=kube, now=at, rules=HealthRules())


def _workloads(snapshot):
    return {(w.namespace, w.kind, w.name): w for w in snapshot.workloads}


def test_it_reports_inbound_golden_metrics_as_the_data_states_them(snapshot):
    assert snapshot.errors == {}
    workloads = _workloads(snapshot)
    for (ns, label, name), (ok, bad) in data.INBOUND.items():
        if label == "k8s_job":
            continue  # shown as its CronJob, below
        workload = workloads[
            (ns, KIND[label], name[: MAX_TEXT - 1] + "…" if len(name) > MAX_TEXT else name)
        ]
        assert workload.rps == pytest.approx(ok + bad)
        assert workload.success_rate == pytest.approx(ok / (ok + bad))


def test_it_leaves_linkerds_own_traffic_out_of_the_application_numbers(snapshot):
    workloads = _workloads(snapshot)
    for key in data.OWN_TRAFFIC:
        ns, label, name = key
        workload = workloads[(ns, KIND[label], name)]
        ok, bad = data.INBOUND.get(key, (0.0, 0.0))
        # Not the scrapes, not the kubelet's probes of the admin port or of the application's.
        assert workload.rps == pytest.approx(ok + bad)
        if ok + bad:
            assert workload.success_rate == pytest.approx(ok / (ok + bad))
        # Connections to the admin port are not the application's either.
        open_ = data.TCP.get(key, (0.0, 0, 0))[0]
        assert workload.tcp_open_connections == open_


def test_it_counts_series_without_the_port_and_route_labels(snapshot):
    """``target_port!=...`` and ``route_name!=...`` keep series that lack the label."""
    workloads = _workloads(snapshot)
    older = [key for key in data.INBOUND if key not in data.LABELLED_AS_2_18]
    assert ("shop", "deployment", "web") in older
    for ns, label, name in older:
        if label == "deployment" and len(name) < MAX_TEXT:
            assert workloads[(ns, "deployment", name)].rps > 0


def test_it_calls_a_workload_only_linkerd_talks_to_idle(snapshot):
    quiet = _workloads(snapshot)[("shop", "deployment", "quiet")]
    assert (quiet.meshed_pods, quiet.rps, quiet.success_rate) == (1, 0.0, None)
    assert quiet.latency_ms_p99 is None
    assert quiet.health == NO_TRAFFIC


def test_it_shows_no_caller_for_probes_and_scrapes(snapshot):
    callers = [(e.src, e.dst) for e in snapshot.edges]
    # The kubelet is no unmeshed caller, and Prometheus scraping a proxy no meshed one.
    assert [e.dst_name for e in snapshot.edges if not e.src_meshed] == ["web"]
    scraper = ("linkerd-viz", "deployment", "prometheus")
    assert not [
        pair for pair in callers if (pair[0].namespace, "deployment", pair[0].name) == scraper
    ]


def test_it_derives_quantiles_from_the_stated_latency_distribution(snapshot):
    workloads = _workloads(snapshot)
    for (ns, label, name), rates in data.LATENCY.items():
        workload = workloads[(ns, KIND[label], name)]
        buckets = _cumulative(rates)
        assert workload.latency_ms_p50 == pytest.approx(metrics.histogram_quantile(0.5, buckets))
        assert workload.latency_ms_p95 == pytest.approx(metrics.histogram_quantile(0.95, buckets))
        assert workload.latency_ms_p99 == pytest.approx(metrics.histogram_quantile(0.99, buckets))
    # web: 10 req/s, 4 up to 10 ms, 4 more up to 50 ms: the median is half-way into (10, 50].
    assert workloads[("shop", "deployment", "web")].latency_ms_p50 == pytest.approx(42.5)


def test_it_agrees_with_prometheus_histogram_quantile(backfilled_prometheus, snapshot):
    url, at = backfilled_prometheus
    client = PrometheusClient(url)
    workloads = _workloads(snapshot)
    for q, field in ((0.5, "latency_ms_p50"), (0.95, "latency_ms_p95"), (0.99, "latency_ms_p99")):
        answer = client.query(
            f"histogram_quantile({q}, sum by (le, namespace, deployment, statefulset) "
            '(increase(response_latency_ms_bucket{direction="inbound",'
            ' target_port!="4191", route_name!="probe"}[1m])))',
            at=at,
        )
        assert answer
        for sample in answer:
            label = "deployment" if sample.labels.get("deployment") else "statefulset"
            key = (sample.labels["namespace"], label, sample.labels[label])
            assert getattr(workloads[key], field) == pytest.approx(sample.value)


def test_it_joins_pod_counts_team_and_rollout_from_the_cluster(snapshot):
    workloads = _workloads(snapshot)
    web = workloads[("shop", "deployment", "web")]
    assert (web.meshed_pods, web.total_pods, web.team) == (1, 2, "storefront")
    assert web.last_rollout == pytest.approx(1772600767.0)  # the newest ReplicaSet
    assert web.inject_annotation == "enabled"
    db = workloads[("shop", "statefulset", "db")]
    assert db.last_rollout == pytest.approx(1770091506.0)  # the newest ControllerRevision
    # The failed pod is not counted; the workload exists without traffic.
    idle = workloads[("shop", "deployment", "idle")]
    assert (idle.meshed_pods, idle.total_pods, idle.health) == (0, 0, NOT_MESHED)


def test_it_shows_a_cronjobs_job_as_the_cronjob(snapshot):
    workloads = _workloads(snapshot)
    assert ("batch", "job", "report") not in workloads
    nightly = workloads[("batch", "cronjob", "nightly")]
    assert nightly.rps == pytest.approx(0.5)
    assert nightly.meshed_pods == 1


def test_it_lists_workloads_only_the_metrics_know_as_meshed(snapshot):
    workloads = _workloads(snapshot)
    hostile = workloads[("shop", "deployment", data.HOSTILE)]
    assert hostile.meshed_pods == 1
    assert hostile.health == HEALTHY
    long_names = [w.name for w in snapshot.workloads if w.name.startswith("lll")]
    assert len(long_names) == 1 and len(long_names[0]) == MAX_TEXT


def test_it_applies_the_health_rules(snapshot):
    workloads = _workloads(snapshot)
    assert workloads[("shop", "deployment", "web")].health == CRITICAL  # 90 %
    assert workloads[("shop", "deployment", "api")].health == WARNING  # 97.5 %
    assert workloads[("shop", "statefulset", "db")].health == HEALTHY
    assert workloads[("legacy", "deployment", "mainframe")].health == NOT_MESHED


def test_it_judges_edges_by_the_health_rules(snapshot):
    edges = {(e.src_name, e.dst_name): e for e in snapshot.edges}
    assert edges[("web", "api")].health == WARNING  # 96 %
    assert edges[("api", "db")].health == HEALTHY
    assert edges[("api", "mainframe")].health == CRITICAL  # 50 %
    assert edges[("api", "cache")].health == HEALTHY  # connections only: nothing to judge
    assert all(edge.health for edge in snapshot.edges)


def test_it_refuses_a_window_meshdash_does_not_offer():
    dead = PrometheusClient(f"http://127.0.0.1:{servers.free_port()}")
    with pytest.raises(ValueError, match="unknown window '5m'"):
        collect("5m", prometheus=dead, kube=None, rules=HealthRules())
    assert dead.query_count == 0


def test_it_reports_outbound_totals_and_tcp(snapshot):
    api = _workloads(snapshot)[("shop", "deployment", "api")]
    # api calls db (4/s, all fine) and the unmeshed mainframe (2/s fine, 2/s failing).
    assert api.outbound_rps == pytest.approx(8.0)
    assert api.outbound_success_rate == pytest.approx(6 / 8)
    open_, read, write = data.TCP[("shop", "deployment", "api")]
    assert api.tcp_open_connections == open_  # peer="dst" connections are not counted
    assert api.tcp_read_bytes_per_second == pytest.approx(read)
    assert api.tcp_write_bytes_per_second == pytest.approx(write)


def test_it_builds_edges_with_identities_and_tls(snapshot):
    edges = {(e.src_name, e.dst_name): e for e in snapshot.edges}
    web_api = edges[("web", "api")]
    assert web_api.rps == pytest.approx(12.5)
    assert web_api.success_rate == pytest.approx(12 / 12.5)
    assert web_api.tls is True
    assert web_api.server_id == data.ID.format(sa="api", ns="shop")
    assert web_api.client_id == data.ID.format(sa="web", ns="shop")
    # mTLS: the p99 the server measured for this client's identity, not the client's own.
    web_buckets = data.CLIENT_LATENCY[("shop", "deployment", "api", web_api.client_id)]
    assert web_api.latency_ms_p99 == pytest.approx(
        metrics.histogram_quantile(0.99, _cumulative(web_buckets))
    )
    assert web_api.latency_ms_p99 == pytest.approx(475.0)
    # The client identity comes from the pods' service account, not the workload's name.
    api_db = edges[("api", "db")]
    assert api_db.client_id == data.ID.format(sa="api-sa", ns="shop")
    assert api_db.latency_ms_p99 == pytest.approx(
        metrics.histogram_quantile(0.99, _cumulative({3: 4.0}))
    )


def test_it_includes_unmeshed_destinations_and_clients(snapshot):
    edges = {(e.src_name, e.dst_name): e for e in snapshot.edges}
    mainframe = edges[("api", "mainframe")]
    assert (mainframe.tls, mainframe.server_id, mainframe.dst_namespace) == (False, "", "legacy")
    assert mainframe.success_rate == pytest.approx(0.5)
    # No proxy on the server: the p99 is the client's.
    assert mainframe.latency_ms_p99 == pytest.approx(
        metrics.histogram_quantile(0.99, _cumulative({100: 4.0}))
    )
    unmeshed = [e for e in snapshot.edges if not e.src_meshed]
    assert [(e.dst_name, e.rps, e.tls) for e in unmeshed] == [("web", pytest.approx(10.0), False)]
    # No identity on the client: the p99 the server measured for clients without one.
    assert unmeshed[0].latency_ms_p99 == pytest.approx(
        metrics.histogram_quantile(
            0.99, _cumulative(data.CLIENT_LATENCY[("shop", "deployment", "web", "")])
        )
    )


def test_it_reports_routes_of_every_kind_with_the_side_that_measured_them(snapshot):
    routes = {(r.route_kind, r.route): r for r in snapshot.routes}
    assert set(routes) == {
        ("ServiceProfile", "GET /items"),
        ("HTTPRoute", "items"),
        ("default HTTP route", "http"),
        ("GRPCRoute", "items-grpc"),
    }
    profile = routes[("ServiceProfile", "GET /items")]
    assert (profile.name, profile.service) == ("api", "api.shop.svc.cluster.local:8080")
    assert (profile.direction, profile.measured_by) == ("inbound", "server")
    assert profile.rps == pytest.approx(4.0)
    assert profile.success_rate == pytest.approx(0.75)

    http = routes[("HTTPRoute", "items")]
    # Measured by the client, web, calling the Service api.
    assert (http.name, http.service, http.direction, http.measured_by) == (
        "web",
        "api.shop",
        "outbound",
        "client",
    )
    assert http.rps == pytest.approx(3.0)
    assert http.success_rate == pytest.approx(2.0 / 3.0)  # 503 and FAIL_FAST are failures
    buckets = [(b, c) for b, c in _route_buckets()]
    assert http.latency_ms_p99 == pytest.approx(1000 * metrics.histogram_quantile(0.99, buckets))

    default = routes[("default HTTP route", "http")]
    assert (default.name, default.service, default.success_rate) == ("api", "mainframe.legacy", 1)

    grpc = routes[("GRPCRoute", "items-grpc")]
    assert (grpc.name, grpc.service, grpc.direction) == ("web", "grpc-api.shop", "outbound")
    assert grpc.rps == pytest.approx(5.5)
    # UNAVAILABLE and a stream error are failures; NOT_FOUND is not.
    assert grpc.success_rate == pytest.approx(4.0 / 5.5)


def _route_buckets():
    running = 0.0
    for bound in [*data.HTTP_ROUTE_BOUNDS, float("inf")]:
        running += data.HTTP_ROUTE_LATENCY.get(bound, 0.0)
        yield bound, running


def _grpc_inbound() -> tuple[float, float]:
    ok = sum(r for (_, _, _, c), r in data.GRPC_INBOUND.items() if c == "success")
    bad = sum(r for (_, _, _, c), r in data.GRPC_INBOUND.items() if c == "failure")
    return ok, bad


def test_it_counts_grpc_failures_behind_http_200_and_stream_errors(snapshot):
    ns, _, name = data.GRPC_SERVER
    server = _workloads(snapshot)[(ns, "deployment", name)]
    ok, bad = _grpc_inbound()
    assert (ok, bad) == (4.0, 2.0)
    assert server.rps == pytest.approx(ok + bad)  # stream errors have no status_code
    assert server.success_rate == pytest.approx(ok / (ok + bad))
    assert server.health == CRITICAL


def test_it_judges_a_workload_serving_tcp_only_on_its_connections(snapshot):
    ((key, (open_, opened, closed, errors)),) = data.TCP_ONLY.items()
    cache = _workloads(snapshot)[(key[0], "statefulset", key[2])]
    assert cache.meshed_pods == 1  # its proxy is a native sidecar
    assert cache.rps == 0.0 and cache.success_rate is None
    assert cache.tcp_open_connections == open_
    # Not the admin port's connections, nor their errors.
    assert cache.tcp_opened_per_second == pytest.approx(opened)
    assert cache.tcp_closed_per_second == pytest.approx(closed)
    assert cache.tcp_close_errors_per_second == pytest.approx(errors)
    assert cache.tcp_close_error_rate == pytest.approx(errors / closed)
    assert (cache.health, cache.judged_on) == (CRITICAL, "tcp")  # 10 % closed with an error


def test_it_shows_edges_that_carry_tcp_only(snapshot):
    edges = {(e.src, e.dst): e for e in snapshot.edges}
    for (sns, sl, sn, dns, dl, dn), (open_, opened) in data.TCP_EDGES.items():
        edge = edges[(WorkloadKey(sns, KIND[sl], sn), WorkloadKey(dns, KIND[dl], dn))]
        assert edge.tcp_open_connections == open_
        assert edge.tcp_opened_per_second == pytest.approx(opened)
    cache = edges[
        (WorkloadKey("shop", "deployment", "api"), WorkloadKey("shop", "statefulset", "cache"))
    ]
    assert (cache.rps, cache.success_rate, cache.tls, cache.tcp_only) == (0.0, None, True, True)
    assert not edges[
        (WorkloadKey("shop", "deployment", "web"), WorkloadKey("shop", "deployment", "api"))
    ].tcp_only


def test_it_calls_a_finished_job_idle(snapshot):
    ns, _, name = data.FINISHED_JOB
    job = _workloads(snapshot)[(ns, "job", name)]
    # Its pod ran to completion: the Job stays meshed, with its pod, and is idle.
    assert (job.meshed_pods, job.total_pods) == (1, 1)
    assert (job.rps, job.health) == (0.0, NO_TRAFFIC)
    assert job.scrape_rps == pytest.approx(0.1)


def test_it_shows_probes_and_scrapes_on_their_own_line(snapshot):
    workloads = _workloads(snapshot)
    for (ns, label, name), series_of in data.OWN_TRAFFIC.items():
        workload = workloads[(ns, KIND[label], name)]
        probes = [(ok, bad) for _, route, *_, ok, bad in series_of if route == "probe"]
        scrapes = [(ok, bad) for _, route, *_, ok, bad in series_of if route != "probe"]
        assert workload.probe_rps == pytest.approx(sum(ok + bad for ok, bad in probes))
        assert workload.scrape_rps == pytest.approx(sum(ok + bad for ok, bad in scrapes))
        assert workload.scrape_success_rate == pytest.approx(1.0)
    # api's readiness probe fails half the time: 0.2/s of /live and /ready fine, 0.05/s of 0.1/s.
    api = workloads[("shop", "deployment", "api")]
    assert api.probe_success_rate == pytest.approx(0.25 / 0.3)
    # Never in health: api is in warning for its application's 97.5 %, not for its probes.
    assert api.health == WARNING


def test_it_joins_proxy_metrics_to_pods(snapshot):
    pods = {(p.namespace, p.name): p for p in snapshot.pods}
    for (ns, pod, _, _), (memory, expiry, _) in data.PROXIES.items():
        assert pods[(ns, pod)].proxy_memory_bytes == memory  # not the control plane's 5 GB
        assert pods[(ns, pod)].proxy_cert_expiry == expiry
    assert pods[("shop", "db-0")].proxy_version == "stable-2.13.0"  # the annotation wins
    assert pods[("shop", "cache-0")].has_proxy  # a native sidecar
    assert pods[("shop", "api-def34-y3")].status == "Init:0/1"


def test_it_rolls_up_namespaces(snapshot):
    namespaces = {n.name: n for n in snapshot.namespaces}
    shop = namespaces["shop"]
    inbound = [v for k, v in data.INBOUND.items() if k[0] == "shop"]
    inbound.append(_grpc_inbound())
    assert shop.rps == pytest.approx(sum(ok + bad for ok, bad in inbound))
    assert shop.success_rate == pytest.approx(
        sum(ok for ok, _ in inbound) / sum(ok + bad for ok, bad in inbound)
    )
    assert shop.inject_annotation == "enabled"
    assert namespaces["batch"].inject_annotation == "true"
    assert "empty" in namespaces
    assert sum(shop.health_counts.values()) == shop.workloads


def test_it_reads_the_control_plane(snapshot):
    plane = snapshot.control_plane
    assert plane.version == "stable-2.14.10"
    assert plane.trust_anchor_not_after == kube_server.ANCHOR_NOT_AFTER.timestamp()
    assert plane.issuer_not_after == kube_server.ISSUER_NOT_AFTER.timestamp()
    assert {c["name"]: (c["pods"], c["ready"]) for c in plane.components} == {
        "destination": (1, 0),
        "identity": (1, 1),
    }
    assert plane.data_plane_versions == {"stable-2.14.10": 8, "stable-2.13.0": 1}


def test_it_costs_a_fixed_number_of_queries(snapshot):
    assert snapshot.query_count == len(WINDOW_QUERIES) + 1
    assert snapshot.prometheus_seconds > 0 and snapshot.kubernetes_seconds > 0


def test_it_keeps_the_metrics_when_the_cluster_answers_500(backfilled_prometheus, kube_api, kube):
    url, at = backfilled_prometheus
    kube_api.faults["*"] = 500
    snapshot = collect(
        "1m", prometheus=PrometheusClient(url), kube=kube, now=at, rules=HealthRules()
    )
    assert snapshot.errors["kubernetes/pods"] == "Kubernetes API answered HTTP 500"
    web = _workloads(snapshot)[("shop", "deployment", "web")]
    assert web.rps == pytest.approx(10.0)
    # Without the cluster, pods and meshed counts come from the proxies' own metrics.
    assert web.meshed_pods == 1
    assert {p.name for p in snapshot.pods} == {pod for _, pod, _, _ in data.PROXIES}
    # The build's version, the proxy's own where the pod's "version" label took its name.
    assert {p.name: p.proxy_version for p in snapshot.pods} == data.PROXY_BUILDS
    assert snapshot.control_plane.data_plane_versions == {
        "2.294.0": 2,
        "2.300.0": 1,
        "279b301": 1,
    }


def test_it_keeps_the_cluster_when_prometheus_is_down(kube):
    dead = PrometheusClient(f"http://127.0.0.1:{servers.free_port()}")
    snapshot = collect("1m", prometheus=dead, kube=kube, rules=HealthRules())
    assert set(snapshot.errors) == {*WINDOW_QUERIES, "proxies"}
    assert "unreachable" in snapshot.errors["inbound"]
    assert _workloads(snapshot)[("shop", "deployment", "web")].total_pods == 2


def test_it_fails_when_neither_metrics_nor_workloads_can_be_read(kube_api, kube):
    kube_api.faults["*"] = "garbage"
    dead = PrometheusClient(f"http://127.0.0.1:{servers.free_port()}")
    with pytest.raises(CollectionFailed, match="not JSON"):
        collect("1m", prometheus=dead, kube=kube, rules=HealthRules())


def test_it_rejects_an_unknown_window(kube):
    with pytest.raises(ValueError):
        collect("5m", prometheus=PrometheusClient("http://127.0.0.1:1"), kube=kube)
