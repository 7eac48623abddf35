import re
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshdash.demo import model
from meshdash.demo.exporter import MetricsExporter, _dst_labels, build_shards, series_count
from meshdash.demo.model import LATENCY_BOUNDS_MS, build_mesh, histogram_quantile
from meshdash.lib import processes
from tests.demo import promtext

# The application's own traffic: neither the admin port nor the kubelet's probes.
APP = {"target_port": "!4191", "route_name": "!probe"}
GROUP = ("namespace", "deployment", "statefulset", "daemonset", "k8s_job")

EPOCH = 1_772_409_600.0  # 2026-03-02T00:00:00Z


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def mesh():
    return build_mesh(120, seed=3, epoch=EPOCH)


@pytest.fixture(scope="module")
def scrapes(mesh):
    """Every shard scraped over HTTP twice, 30 s apart on the exporter's clock."""
    clock = Clock(EPOCH + 3600)
    exporter = MetricsExporter(mesh, shards=3, clock=clock)
    try:
        first = _scrape_all(exporter.targets)
        clock.now += 30
        second = _scrape_all(exporter.targets)
    finally:
        exporter.stop()
    return promtext.parse(first), promtext.parse(second)


def _scrape_all(targets: list[str]) -> str:
    texts = []
    for target in targets:
        with urllib.request.urlopen(f"http://{target}/metrics", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain"  # as linkerd2-proxy sends
            texts.append(response.read().decode())
    return "".join(texts)


def _series(samples, name: str, **match: str) -> list[dict[str, str]]:
    found = [dict(labels) for sample_name, labels in samples if sample_name == name]
    return [labels for labels in found if all(labels.get(k) == v for k, v in match.items())]


@pytest.fixture(scope="module")
def text(mesh) -> str:
    return build_shards(mesh, 1)[0].render(EPOCH + 60).decode()


def _sample_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_it_serves_text_that_promtool_and_prometheus_client_parse(text):
    promtool = processes.binary("promtool")  # Debian's prometheus package has it
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text.encode(), capture_output=True
    )
    # promtool lints Linkerd's own names (`_ms` units); a parse error would say "error".
    assert b"error" not in result.stdout + result.stderr
    families = list(text_string_to_metric_families(text))
    assert sum(len(f.samples) for f in families) == len(_sample_lines(text))


def test_it_sends_no_timestamps(text):
    # name{labels} value, and nothing after the value
    assert all(re.fullmatch(r"\S+(\{.*\})? \S+", line) for line in _sample_lines(text))


def test_it_ends_with_the_openmetrics_tail_of_the_prometheus_client_registry(text):
    lines = text.splitlines()
    assert lines[-1] == "# EOF" and text.endswith("# EOF\n")
    types = [line.split()[2:] for line in lines if line.startswith("# TYPE ")]
    names = [name for name, _ in types]
    # The legacy families come first, then the registry's; counters typed without _total.
    assert names.index("tcp_close_total") < names.index("proxy_build_info")
    assert ["control_identity_cert_refreshes", "counter"] in types
    assert ["process_cpu_seconds", "counter"] in types
    assert ["outbound_http_route_request_statuses", "counter"] in types
    assert ["request_total", "counter"] in types  # the legacy part keeps its _total
    units = {tuple(line.split()[2:]) for line in lines if line.startswith("# UNIT ")}
    assert ("control_identity_cert_expiration_timestamp_seconds", "seconds") in units
    assert ("process_resident_memory_bytes", "bytes") in units
    assert ("outbound_http_route_request_duration_seconds", "seconds") in units
    assert "# HELP proxy_build_info Proxy build info." in lines


def test_it_prints_a_family_only_once_it_has_a_series(text, mesh):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# TYPE "):
            family = line.split()[2]
            following = next(x for x in lines[i + 1 :] if not x.startswith("#"))
            assert following.startswith(family), line
    # Stream errors happen on a few workloads only: the error families exist there only.
    shards = build_shards(mesh, 40)
    with_errors = [s for s in shards if b"inbound_http_errors_total{" in s.render(EPOCH)]
    assert 0 < len(with_errors) < len(shards)
    assert all(
        b"# TYPE inbound_http_errors_total" not in s.render(EPOCH)
        for s in shards
        if s not in with_errors
    )


def test_it_prints_latency_buckets_as_integers_then_count_then_sum(text):
    lines = [x for x in _sample_lines(text) if x.startswith("response_latency_ms")]
    first = lines[:28]
    assert [x.split("{")[0] for x in first] == ["response_latency_ms_bucket"] * 26 + [
        "response_latency_ms_count",
        "response_latency_ms_sum",
    ]
    assert re.findall(r'le="([^"]+)"', "\n".join(first)) == [str(b) for b in LATENCY_BOUNDS_MS] + [
        "+Inf"
    ]
    assert (
        len({re.sub(r',le="[^"]+"', "", x.split("{", 1)[1].rsplit(" ", 1)[0]) for x in first}) == 1
    )


def test_it_splits_series_over_the_shards_without_duplicates(mesh, scrapes):
    samples, _ = scrapes
    assert len(samples) == series_count(mesh)
    shards = build_shards(mesh, 3)
    assert max(map(len, shards)) < 1.5 * min(map(len, shards))


def test_it_grows_every_counter_between_scrapes(scrapes):
    first, second = scrapes
    assert first.keys() == second.keys()
    counters = [key for key in first if key[0].endswith(("_total", "_bucket", "_sum", "_count"))]
    assert len(counters) > 1000
    traffic = ("request_total", "response_", "route_", "tcp_", "outbound_")
    for key in counters:
        assert second[key] >= first[key], key
        if first[key] > 0 and key[0].startswith(traffic):
            assert second[key] > first[key], key


def test_it_exports_the_inbound_rates_and_success_of_the_truth(mesh, scrapes):
    first, second = scrapes
    group = GROUP
    before = promtext.total(first, "response_total", group, direction="inbound", **APP)
    after = promtext.total(second, "response_total", group, direction="inbound", **APP)
    ok = {"direction": "inbound", "classification": "success", **APP}
    ok_before = promtext.total(first, "response_total", group, **ok)
    ok_after = promtext.total(second, "response_total", group, **ok)
    expected = {}
    for w in mesh.all_workloads:
        if mesh.inbound_rps(w):
            expected[_key(w)] = w
    assert set(after) == set(expected)
    for key, w in expected.items():
        rps = (after[key] - before[key]) / 30
        assert rps == pytest.approx(mesh.inbound_rps(w), rel=1e-6)
        success = (ok_after.get(key, 0) - ok_before.get(key, 0)) / 30 / rps
        assert success == pytest.approx(mesh.success_rate(w), rel=1e-6)


def _key(w) -> tuple[str, ...]:
    kind = "k8s_job" if w.kind == "job" else w.kind
    return (w.namespace, *(w.name if label == kind else "" for label in GROUP[1:]))


def test_it_exports_the_tcp_rates_of_the_truth(mesh, scrapes):
    first, second = scrapes
    match = {"direction": "inbound", "peer": "src", "target_port": "!4191"}
    rates = {}
    for name in ("tcp_read_bytes_total", "tcp_write_bytes_total", "tcp_open_total"):
        before = promtext.total(first, name, GROUP, **match)
        after = promtext.total(second, name, GROUP, **match)
        rates[name] = {key: (after[key] - before[key]) / 30 for key in after}
    resets = {
        key: (
            value
            - promtext.total(first, "tcp_close_total", GROUP, errno="ECONNRESET", **match)[key]
        )
        / 30
        for key, value in promtext.total(
            second, "tcp_close_total", GROUP, errno="ECONNRESET", **match
        ).items()
    }
    connections = promtext.total(first, "tcp_open_connections", GROUP, **match)
    checked = 0
    for w in mesh.workloads:
        tcp = mesh.tcp(w)
        if not tcp.read_bytes_per_second:
            continue
        key = _key(w)
        assert rates["tcp_read_bytes_total"][key] == pytest.approx(tcp.read_bytes_per_second)
        assert rates["tcp_write_bytes_total"][key] == pytest.approx(tcp.write_bytes_per_second)
        assert rates["tcp_open_total"][key] == pytest.approx(tcp.opened_per_second)
        assert resets.get(key, 0) == pytest.approx(tcp.close_errors_per_second)
        assert connections[key] == tcp.open_connections
        checked += 1
    assert checked > 50
    assert any(mesh.tcp(w).close_errors_per_second for w in mesh.workloads)


def test_it_exports_outbound_rates_per_callee(mesh, scrapes):
    first, second = scrapes
    group = ("namespace", "deployment", "dst_namespace", "dst_deployment")
    before = promtext.total(first, "request_total", group, direction="outbound")
    after = promtext.total(second, "request_total", group, direction="outbound")
    tcp_only = {w.key for w in mesh.all_workloads if w.protocol == model.PROTOCOL_TCP}
    assert not any((key[2], "deployment", key[3]) in tcp_only for key in after)
    checked = 0
    for w in mesh.workloads:
        if w.kind != "deployment":
            continue
        for (namespace, kind, name), rps in mesh.outbound_rps(w).items():
            if kind != "deployment":
                continue
            key = (w.namespace, w.name, namespace, name)
            assert (after[key] - before[key]) / 30 == pytest.approx(rps, rel=1e-6)
            checked += 1
    assert checked > 20


def test_it_exports_latency_buckets_with_linkerds_bounds(mesh, scrapes):
    first, second = scrapes
    bounds = {dict(labels)["le"] for name, labels in first if name == "response_latency_ms_bucket"}
    assert bounds == {str(b) for b in LATENCY_BOUNDS_MS} | {"+Inf"}
    w = next(w for w in mesh.workloads if w.incident == "latency-spike")
    rates = {}
    for (name, labels), value in second.items():
        labels = dict(labels)
        if (
            name == "response_latency_ms_bucket"
            and labels["direction"] == "inbound"
            and labels["target_port"] != "4191"
            and labels["route_name"] != "probe"
            and labels["namespace"] == w.namespace
            and labels.get(w.kind) == w.name
        ):
            le = labels["le"]
            rates[le] = rates.get(le, 0) + (value - first[(name, frozenset(labels.items()))]) / 30
    cumulative = tuple(rates[str(b)] / rates["+Inf"] for b in LATENCY_BOUNDS_MS)
    assert histogram_quantile(0.99, cumulative) == pytest.approx(
        mesh.latency_quantile(w, 0.99), rel=1e-6
    )
    assert mesh.latency_quantile(w, 0.99) > 1000


def test_it_labels_series_as_the_viz_prometheus_stores_them(mesh, scrapes):
    samples = scrapes[0]
    inbound = [labels for labels in _series(samples, "response_total", direction="inbound")]
    required = {
        "instance",
        "job",
        "namespace",
        "pod",
        "control_plane_ns",
        "workload_ns",
        "target_addr",
        "tls",
        "classification",
        "grpc_status",
        "error",
    }
    assert all(required <= labels.keys() for labels in inbound)
    assert all(("status_code" in labels) == (not labels["error"]) for labels in inbound)
    assert all(labels["job"] == "linkerd-proxy" for labels in inbound)
    assert any(labels["tls"] == "no_identity" and not labels.get("client_id") for labels in inbound)
    assert any(labels["tls"] == "true" and labels["client_id"] for labels in inbound)
    outbound = [labels for labels in _series(samples, "request_total", direction="outbound")]
    assert all(
        {"authority", "target_addr", "dst_namespace", "dst_service"} <= o.keys() for o in outbound
    )
    assert any(o.get("server_id") and o["dst_control_plane_ns"] == "linkerd" for o in outbound)
    routes = _series(samples, "route_request_total")
    assert routes and all(
        r["rt_route"] and r["dst"].endswith(".svc.cluster.local:" + r["dst"].rsplit(":")[-1])
        for r in routes
    )
    builds = _series(samples, "proxy_build_info")
    versions = {labels.get("exported_version", labels["version"]) for labels in builds}
    assert versions == {"2.294.0", "2.230.0", model.PROXY_BUILD_VERSIONS[model.NEWER_PROXY_VERSION]}
    names = {name for name, _ in samples}
    for family in (
        "tcp_open_total",
        "tcp_open_connections",
        "tcp_read_bytes_total",
        "tcp_write_bytes_total",
        "tcp_close_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_cpu_seconds_total",
        "control_identity_cert_expiration_timestamp_seconds",
    ):
        assert family in names


def test_it_exports_nothing_for_unmeshed_or_stuck_pods(mesh, scrapes):
    samples = scrapes[0]
    pods = {labels["pod"] for labels in _series(samples, "process_start_time_seconds")}
    expected = {p.name for w in mesh.all_workloads for p in w.pods if p.exports_metrics}
    assert pods == expected
    assert any(not p.exports_metrics for w in mesh.workloads for p in w.pods)


def test_it_creeps_proxy_memory_linearly(mesh, scrapes):
    first, second = scrapes
    pod = next(p for w in mesh.workloads for p in w.pods if p.memory_slope > 0)
    memory = [
        value
        for sample in (first, second)
        for (name, labels), value in sample.items()
        if name == "process_resident_memory_bytes" and ("pod", pod.name) in labels
    ]
    assert memory[1] - memory[0] == pytest.approx(30 * pod.memory_slope, rel=1e-3)
    assert memory[0] == pytest.approx(mesh.proxy_memory(pod, EPOCH + 3600), abs=0.001)


def test_it_keeps_5000_workloads_under_the_series_budget():
    # 43,642 series at 300 workloads, 148,991 at 1,000, 737,056 at 5,000 (seed 1); before the
    # proxies' own traffic, legacy families and route families: 31,420, 112,948, 568,772.
    count = series_count(build_mesh(5000, seed=1, epoch=EPOCH))
    assert count < 760_000


def _rates(scrapes, name: str, **match: str) -> list[tuple[dict[str, str], float]]:
    first, second = scrapes
    return [
        (dict(labels), (value - first[(sample, labels)]) / 30)
        for (sample, labels), value in second.items()
        if sample == name and all(dict(labels).get(k) == v for k, v in match.items())
    ]


def _per_workload(rows) -> dict[tuple, float]:
    sums: dict[tuple, float] = {}
    for labels, rate in rows:
        key = tuple(labels.get(k, "") for k in GROUP)
        sums[key] = sums.get(key, 0.0) + rate
    return sums


def test_it_counts_prometheus_scrapes_and_kubelet_probes_like_a_proxy(mesh, scrapes):
    scraped = _rates(scrapes, "request_total", direction="inbound", target_port="4191")
    scrape_rows = [(labels, r) for labels, r in scraped if labels["route_name"] == "default"]
    probe_rows = _rates(scrapes, "request_total", direction="inbound", route_name="probe")
    assert all(
        labels["target_addr"] == "0.0.0.0:4191"
        and labels["srv_port"] == "4191"
        and labels["tls"] == "true"
        and labels["client_id"]
        == "prometheus.linkerd-viz.serviceaccount.identity.linkerd.cluster.local"
        for labels, _ in scrape_rows
    )
    assert all(
        labels["tls"] == "no_identity"
        and labels["no_tls_reason"] == "no_tls_from_remote"
        and labels["authz_name"] == "probe"
        for labels, _ in probe_rows
    )
    scrape_rps, probe_rps = _per_workload(scrape_rows), _per_workload(probe_rows)
    app_probes = _per_workload(
        (labels, r) for labels, r in probe_rows if labels["target_port"] != "4191"
    )
    exporting = [w for w in mesh.all_workloads if w.exporting_pods]
    assert any(not w.finished for w in exporting if w.kind == "job")
    for w in exporting:
        assert scrape_rps[_key(w)] == pytest.approx(mesh.scrape_rps(w))
        assert probe_rps[_key(w)] == pytest.approx(mesh.probe_rps(w))
        on_app_port = mesh.probe_rps_by_port(w).get(w.port, 0.0)
        assert app_probes.get(_key(w), 0.0) == pytest.approx(on_app_port)
    assert any(mesh.probe_rps_by_port(w).get(w.port) for w in exporting)
    # ...and their connections, on the admin port.
    tcp = _rates(scrapes, "tcp_open_total", direction="inbound", target_port="4191")
    assert {labels["tls"] for labels, _ in tcp} == {"true", "no_identity"}
    assert all(labels["target_addr"] == "0.0.0.0:4191" for labels, _ in tcp)


def test_it_labels_inbound_series_as_2_18_does(scrapes):
    samples = scrapes[0]
    inbound = _series(samples, "request_total", direction="inbound")
    endpoint = {"target_addr", "target_ip", "target_port", "tls", "srv_group", "srv_kind",
                "srv_name", "srv_port", "route_group", "route_kind", "route_name", "authz_group",
                "authz_kind", "authz_name"}  # fmt: skip
    assert inbound and all(endpoint <= labels.keys() for labels in inbound)
    assert not any("authority" in labels for labels in inbound)
    assert all("authority" in labels for labels in _series(samples, "request_total", tls="true",
                                                           direction="outbound"))  # fmt: skip


def test_it_gives_every_response_its_classification_and_stream_errors_no_status(scrapes):
    samples = scrapes[0]
    responses = _series(samples, "response_total")
    assert all({"classification", "grpc_status", "error"} <= r.keys() for r in responses)
    errors = [r for r in responses if r["error"]]
    assert errors and all(
        "status_code" not in r and r["classification"] == "failure" and r["error"] == "timeout"
        for r in errors
    )
    latency = _series(samples, "response_latency_ms_bucket")
    assert not any({"classification", "grpc_status", "error"} & r.keys() for r in latency)
    assert any("status_code" not in r for r in latency)  # the streams that failed


def test_it_hides_grpc_failures_behind_http_200(mesh, scrapes):
    grpc = {w.key: w for w in mesh.workloads if w.protocol == model.PROTOCOL_GRPC and w.meshed}
    rows = _rates(scrapes, "response_total", direction="inbound", route_name="default")
    by_workload: dict[tuple, list] = {}
    for labels, rate in rows:
        if labels["target_port"] != "4191" and labels.get("deployment"):
            key = (labels["namespace"], "deployment", labels["deployment"])
            if key in grpc:
                by_workload.setdefault(key, []).append((labels, rate))
    assert by_workload
    failing = 0
    for key, series in by_workload.items():
        assert {labels["status_code"] for labels, _ in series} == {"200"}
        for labels, _ in series:
            code = int(labels["grpc_status"])
            failure = code in model.GRPC_FAILURE_CODES
            assert labels["classification"] == ("failure" if failure else "success")
        total = sum(rate for _, rate in series)
        ok = sum(rate for labels, rate in series if labels["classification"] == "success")
        assert ok / total == pytest.approx(mesh.success_rate(grpc[key]))
        failing += ok / total < 0.9
    assert failing  # at 100 % by status_code, failing by grpc_status
    assert any(labels["grpc_status"] == "5" for s in by_workload.values() for labels, _ in s)


def test_it_gives_tcp_only_workloads_connections_and_no_requests(mesh, scrapes):
    samples = scrapes[0]
    tcp_only = [w for w in mesh.workloads if w.protocol == model.PROTOCOL_TCP and w.meshed]
    assert tcp_only
    for w in tcp_only:
        pods = {p.name for p in w.pods}
        app = [(n, dict(labels)) for n, labels in samples if dict(labels).get("pod") in pods]
        app = [(n, labels) for n, labels in app if labels.get("target_port") == str(w.port)]
        assert {n for n, _ in app} >= {"tcp_open_total", "tcp_read_bytes_total"}
        assert not any(n.startswith(("request_total", "response_")) for n, _ in app)
        assert mesh.inbound_rps(w) == 0 and mesh.tcp(w).opened_per_second > 0
    resets = _series(samples, "tcp_close_total", errno="ECONNRESET")
    assert resets and all(r["target_port"] in ("5432", "6379") for r in resets)


def test_it_exports_the_legacy_families_a_collector_must_ignore(scrapes):
    samples = scrapes[0]
    for family in ("stack_create_total", "stack_drop_total", "stack_poll_total",
                   "stack_poll_total_ms"):  # fmt: skip
        assert any(r["direction"] == "inbound" for r in _series(samples, family)), family
    for family in ("control_request_total", "control_response_total",
                   "control_response_latency_ms_bucket"):  # fmt: skip
        rows = _series(samples, family)
        # destination and identity (a call per leaf refresh)
        ports = (".svc.cluster.local:8086", ".svc.cluster.local:8080")
        assert rows and all(r["addr"].endswith(ports) for r in rows)
    authz = _series(samples, "inbound_http_authz_allow_total")
    assert authz and not any("direction" in r for r in authz)
    assert {"authz_name", "route_name", "srv_name", "tls"} <= authz[0].keys()
    assert _series(samples, "inbound_tcp_authz_allow_total")
    assert _series(samples, "inbound_http_errors_total")
    assert _series(samples, "outbound_http_errors_total")
    names = {name for name, _ in samples}
    assert "identity_cert_expiration_timestamp_seconds" in names  # on older proxies
    assert {"control_identity_cert_refresh_timestamp_seconds",
            "control_identity_cert_refreshes_total", "process_virtual_memory_bytes",
            "process_open_fds", "process_max_fds", "process_threads"} <= names  # fmt: skip


def test_it_exports_the_route_families_of_httproute_grpcroute_and_the_default(mesh, scrapes):
    def by_route(name, **match):
        sums: dict[tuple, float] = {}
        for labels, rate in _rates(scrapes, name, **match):
            key = (labels["namespace"], labels.get("deployment", ""))
            route = (labels["parent_namespace"], labels["parent_name"], labels["route_name"])
            sums[(*key, *route)] = sums.get((*key, *route), 0.0) + rate
        return sums

    http = by_route("outbound_http_route_request_statuses_total")
    grpc = by_route("outbound_grpc_route_request_statuses_total")
    expected_http, expected_grpc = {}, {}
    for w in mesh.all_workloads:
        if w.kind == "deployment" and w.exporting_pods:
            for route, rps in mesh.http_route_rps(w).items():
                expected_http[(w.namespace, w.name, *route)] = rps
            for route, rps in mesh.grpc_route_rps(w).items():
                expected_grpc[(w.namespace, w.name, *route)] = rps
    http = {k: v for k, v in http.items() if k[1]}
    grpc = {k: v for k, v in grpc.items() if k[1]}
    assert http.keys() == expected_http.keys() and grpc.keys() == expected_grpc.keys()
    assert all(http[k] == pytest.approx(v) for k, v in expected_http.items())
    assert all(grpc[k] == pytest.approx(v) for k, v in expected_grpc.items())
    samples = scrapes[0]
    default = _series(samples, "outbound_http_route_request_statuses_total", route_name="http")
    assert default and all(
        (r["route_kind"], r["parent_group"], r["parent_kind"]) == ("default", "core", "Service")
        for r in default
    )
    assert _series(samples, "outbound_http_route_request_statuses_total", route_kind="HTTPRoute")
    codes = {
        r["grpc_status"] for r in _series(samples, "outbound_grpc_route_request_statuses_total")
    }
    assert codes == {"OK", "UNAVAILABLE"}
    les = {r["le"] for r in _series(samples, "outbound_http_route_request_duration_seconds_bucket")}
    assert les == {"0.05", "0.5", "1.0", "10.0", "+Inf"}
    # A Service with a ServiceProfile is routed by the profile: no policy-route series.
    profiled = {w.service_name for w in mesh.all_workloads if w.routes}
    assert profiled and not any(
        r["parent_name"] in profiled
        for r in _series(samples, "outbound_http_route_request_statuses_total")
    )


def test_it_relabels_pod_labels_as_the_viz_prometheus_does(mesh, scrapes):
    samples = scrapes[0]
    builds = {r["pod"]: r for r in _series(samples, "proxy_build_info")}
    by_pod = {p.name: w for w in mesh.all_workloads for p in w.pods}
    versioned = 0
    for pod, labels in builds.items():
        w = by_pod[pod]
        if "version" in w.labels:
            versioned += 1
            assert labels["version"] == w.labels["version"]
            assert not labels["exported_version"].startswith("v")
        else:
            assert "exported_version" not in labels and labels["version"][0].isdigit()
    assert 0 < versioned < len(builds)
    for labels in builds.values():
        w = by_pod[labels["pod"]]
        pod = next(p for p in w.pods if p.name == labels["pod"])
        assert labels["instance"] == f"{pod.ip}:4191" and labels["job"] == "linkerd-proxy"
        assert labels["control_plane_ns"] == "linkerd" and labels["workload_ns"] == w.namespace
        if w.kind == "deployment":
            assert labels["pod_template_hash"] == w.template_hash
        if w.kind == "statefulset":
            assert labels["statefulset_kubernetes_io_pod_name"] == pod.name
        if w.kind == "job":
            assert labels["k8s_job"] == labels["batch_kubernetes_io_job_name"] == w.name
        if "app.kubernetes.io/name" in w.labels:
            assert labels["app_kubernetes_io_name"] == w.name
    assert any("k8s_job" in labels for labels in builds.values())


def test_it_orders_destination_labels_as_the_controller_does(scrapes):
    outbound = [
        labels
        for (name, labels) in scrapes[0]
        if name == "request_total" and ("direction", "outbound") in labels
    ]
    assert outbound
    for labels in map(dict, outbound):
        assert labels["dst_zone"] == "" and labels["dst_zone_locality"] == "unknown"
        assert "dst_serviceaccount" in labels
        assert ("dst_pod_template_hash" in labels) == ("dst_deployment" in labels)
    text = build_shards(build_mesh(30, seed=2, epoch=EPOCH), 1)[0].render(EPOCH).decode()
    line = next(
        x
        for x in text.splitlines()
        if x.startswith('request_total{direction="outbound"') and 'tls="true"' in x
    )
    dst = re.findall(r"(dst_\w+)=", line)
    assert dst == sorted(dst) and dst[0] == "dst_control_plane_ns"


def test_it_exports_nothing_for_a_finished_job(mesh, scrapes):
    finished = [w for w in mesh.workloads if w.kind == "job" and w.finished]
    assert finished
    pods = {labels["pod"] for labels in _series(scrapes[0], "process_start_time_seconds")}
    assert not pods & {p.name for w in finished for p in w.pods}


def test_it_names_a_job_destination_dst_k8s_job(mesh):
    job = next(w for w in mesh.workloads if w.kind == "job" and w.meshed)
    labels = dict(re.findall(r'(\w+)="([^"]*)"', _dst_labels(job, job.pods[0])))
    assert labels["dst_k8s_job"] == job.name and "dst_job" not in labels
    assert labels["dst_control_plane_ns"] == "linkerd" and labels["dst_zone"] == ""
