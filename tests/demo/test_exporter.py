import shutil
import subprocess
import urllib.request

import pytest

from meshdash.demo.exporter import MetricsExporter, build_shards, series_count
from meshdash.demo.model import LATENCY_BOUNDS_MS, build_mesh, histogram_quantile
from tests.demo import promtext

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
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            texts.append(response.read().decode())
    return "".join(texts)


def _series(samples, name: str, **match: str) -> list[dict[str, str]]:
    found = [dict(labels) for sample_name, labels in samples if sample_name == name]
    return [labels for labels in found if all(labels.get(k) == v for k, v in match.items())]


def test_it_serves_text_that_promtool_parses(mesh):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is missing: run `make bootstrap`")
    text = build_shards(mesh, 1)[0].render(EPOCH + 60)
    assert text.endswith(b" %d\n" % ((EPOCH + 60) * 1000))
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
    # promtool lints Linkerd's own names (`_ms` units); a parse error would say "error".
    assert b"error" not in result.stdout + result.stderr


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
    for key in counters:
        assert second[key] >= first[key], key
        if first[key] > 0:
            assert second[key] > first[key], key


def test_it_exports_the_inbound_rates_and_success_of_the_truth(mesh, scrapes):
    first, second = scrapes
    group = ("namespace", "deployment", "statefulset", "daemonset")
    before = promtext.total(first, "response_total", group, direction="inbound")
    after = promtext.total(second, "response_total", group, direction="inbound")
    ok_before = promtext.total(
        first, "response_total", group, direction="inbound", classification="success"
    )
    ok_after = promtext.total(
        second, "response_total", group, direction="inbound", classification="success"
    )
    expected = {}
    for w in mesh.all_workloads:
        if mesh.inbound_rps(w):
            owner = tuple(w.name if kind == w.kind else "" for kind in group[1:])
            expected[(w.namespace, *owner)] = w
    assert set(after) == set(expected)
    for key, w in expected.items():
        rps = (after[key] - before[key]) / 30
        assert rps == pytest.approx(mesh.inbound_rps(w), rel=1e-6)
        success = (ok_after.get(key, 0) - ok_before.get(key, 0)) / 30 / rps
        assert success == pytest.approx(mesh.success_rate(w), rel=1e-6)


def test_it_exports_the_tcp_rates_of_the_truth(mesh, scrapes):
    first, second = scrapes
    group = ("namespace", "deployment", "statefulset", "daemonset")
    match = {"direction": "inbound", "peer": "src"}
    rates = {}
    for name in ("tcp_read_bytes_total", "tcp_write_bytes_total"):
        before = promtext.total(first, name, group, **match)
        after = promtext.total(second, name, group, **match)
        rates[name] = {key: (after[key] - before[key]) / 30 for key in after}
    connections = promtext.total(first, "tcp_open_connections", group, direction="inbound")
    checked = 0
    for w in mesh.workloads:
        tcp = mesh.tcp(w)
        if not tcp.read_bytes_per_second:
            continue
        key = (w.namespace, *(w.name if kind == w.kind else "" for kind in group[1:]))
        assert rates["tcp_read_bytes_total"][key] == pytest.approx(tcp.read_bytes_per_second)
        assert rates["tcp_write_bytes_total"][key] == pytest.approx(tcp.write_bytes_per_second)
        assert connections[key] == tcp.open_connections
        checked += 1
    assert checked > 50


def test_it_exports_outbound_rates_per_callee(mesh, scrapes):
    first, second = scrapes
    group = ("namespace", "deployment", "dst_namespace", "dst_deployment")
    before = promtext.total(first, "request_total", group, direction="outbound")
    after = promtext.total(second, "request_total", group, direction="outbound")
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
        "status_code",
        "classification",
        "grpc_status",
        "error",
    }
    assert all(required <= labels.keys() for labels in inbound)
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
    versions = {labels["version"] for labels in _series(samples, "proxy_build_info")}
    assert len(versions) == 2
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
    count = series_count(build_mesh(5000, seed=1, epoch=EPOCH))
    assert count < 600_000
