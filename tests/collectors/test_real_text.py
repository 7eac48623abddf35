"""collect() on exposition text nobody here wrote: real proxy scrapes from the Linkerd repositories.

Each fixture in ``tests/fixtures/real`` (``PROVENANCE.md`` says where it comes from) is served by
``real_text.StaticExporter`` with its counters advancing, scraped by a real Prometheus through
linkerd-viz's own relabelling, and collected by meshdash with the Kubernetes API stand-in
listing the pods and workloads the scrape came from.

The expected figures are computed here from the fixture itself, parsed by prometheus_client (a
separate, well-kept parser of the text format), in a few plain lines each; never by meshdash's
code. The exporter makes a counter's increase over any minute equal its value in the fixture,
so a figure per second over the 1m window is the fixture's value divided by the exporter's period.

The 2022 scrape is of a Job's proxy whose only inbound traffic is on the proxy's admin port:
Linkerd's own traffic, which the application numbers must leave out.
"""

import functools
import hashlib
import math
import re
import time
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshdash.collectors.collect import collect
from meshdash.collectors.prometheus import (
    PrometheusClient,
    check_inputs,
    control_plane_component,
    fill_check_inputs,
)
from meshdash.mesh.checks.inputs import CheckInputs
from meshdash.mesh.health import NO_TRAFFIC, HealthRules
from meshdash.mesh.model import WorkloadKey
from tests import servers
from tests.collectors import kube_server, real_text
from tests.collectors.conftest import kube_client, wait_for_full_window

pytestmark = pytest.mark.e2e

FIXTURE = "linkerd2-sampleMetrics-2022.txt"
NAMESPACE = "linkerd-opaque-ports-test"
JOB = "slow-cooker-opaque-pod"
POD = "slow-cooker-opaque-pod-mjqsw"
SERVER = "opaque-pod"
SERVER_POD = "opaque-pod-dcf789f5d-sfx7v"
JOB_KEY = WorkloadKey(NAMESPACE, "job", JOB)
SCRAPE_SECONDS = 1
# Room for the time between a scrape's timestamp and the exporter computing its values: a few
# milliseconds on a quiet machine (0.1 % measured), a few hundred on a loaded one, and 1 % of
# a minute is 0.6 s. Still far from confusing anything: the smallest figure checked is 0.48/s.
TOLERANCE = 1e-2
ADMIN_PORT = "4191"

# The labels of the Job's pod: the Job controller's `job-name`, the template's `app`, and what
# Linkerd's injector adds (pkg/inject/inject.go: control plane, workload namespace, owner).
POD_LABELS = {
    "app": JOB,
    "job-name": JOB,
    "linkerd.io/control-plane-ns": "linkerd",
    "linkerd.io/proxy-job": JOB,
    "linkerd.io/workload-ns": NAMESPACE,
}


# --- The expectations, from the fixture alone.


@functools.cache
def fixture_samples() -> tuple:
    text = real_text.fixture_text(FIXTURE)
    return tuple(s for family in text_string_to_metric_families(text) for s in family.samples)


def per_second(value: float) -> float:
    return value / real_text.PERIOD_SECONDS


def is_linkerds_own(labels: dict[str, str]) -> bool:
    """Served by the proxy's admin server (scrapes, kubelet probes of /live and /ready), or a
    kubelet probe of the application's port (2.18 names its route ``probe``)."""
    return (
        labels.get("target_port") == ADMIN_PORT
        or labels.get("target_addr", "").endswith(f":{ADMIN_PORT}")
        or labels.get("route_name") == "probe"
    )


def inbound(name: str, *, own: bool):
    return [
        s
        for s in fixture_samples()
        if s.name == name
        and s.labels.get("direction") == "inbound"
        and is_linkerds_own(s.labels) == own
    ]


def application_responses() -> dict[str, float]:
    """Responses per second by the proxy's own classification (which judges gRPC by its
    grpc-status, not by the HTTP status)."""
    by_class = defaultdict(float)
    for s in inbound("response_total", own=False):
        by_class[s.labels["classification"]] += per_second(s.value)
    return by_class


def application_p99_ms() -> float | None:
    """Prometheus's histogram_quantile(0.99) over the application's inbound buckets."""
    buckets = defaultdict(float)
    for s in inbound("response_latency_ms_bucket", own=False):
        buckets[float(s.labels["le"])] += s.value
    if not buckets or buckets[math.inf] == 0:
        return None
    rank = 0.99 * buckets[math.inf]
    lower, below = 0.0, 0.0
    for bound in sorted(buckets):
        if buckets[bound] >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (buckets[bound] - below)
        lower, below = bound, buckets[bound]
    return None


def application_callers() -> dict[str, float]:
    """Requests per second by caller identity; "" for callers without one (unmeshed)."""
    callers = defaultdict(float)
    for s in inbound("response_total", own=False):
        identity = s.labels.get("client_id", "") if s.labels.get("tls") == "true" else ""
        callers[identity] += per_second(s.value)
    return callers


# The destination's owner, as the destination controller labels it (pkg/k8s KindToL5DLabel).
DST_OWNERS = {
    "dst_deployment": "deployment",
    "dst_statefulset": "statefulset",
    "dst_daemonset": "daemonset",
    "dst_k8s_job": "job",
}


def destination(labels: dict[str, str]) -> tuple[str, str, str] | None:
    for label, kind in DST_OWNERS.items():
        if labels.get(label):
            return (labels.get("dst_namespace", ""), kind, labels[label])
    return None


def outbound_http() -> dict[tuple[str, str, str] | None, float]:
    edges = defaultdict(float)
    for s in fixture_samples():
        if s.name == "response_total" and s.labels.get("direction") == "outbound":
            edges[destination(s.labels)] += per_second(s.value)
    return edges


def outbound_tcp(name: str) -> dict[tuple[str, str, str] | None, list]:
    """Samples of ``name`` for the proxy's connections to each destination (``peer="dst"``)."""
    by_destination = defaultdict(list)
    for s in fixture_samples():
        to_peer = s.labels.get("direction") == "outbound" and s.labels.get("peer") == "dst"
        if s.name == name and to_peer:
            by_destination[destination(s.labels)].append(s)
    return by_destination


def inbound_tcp(name: str) -> float:
    return sum(s.value for s in inbound(name, own=False) if s.labels.get("peer") == "src")


def gauge(*names: str) -> float | None:
    """The first of ``names`` the proxy exports (2.18 renamed some)."""
    for name in names:
        for s in fixture_samples():
            if s.name == name:
                return s.value
    return None


def build_version() -> str:
    """2.18 proxies report ``version``; older ones only ``git_version``."""
    (build,) = [s.labels for s in fixture_samples() if s.name == "proxy_build_info"]
    return build.get("version") or build.get("git_version", "")


# --- The cluster the scrape came from, for the Kubernetes API stand-in.


def _pod(name, owner, labels, app_container, service_account="default"):
    """A running meshed pod. The sample does not say which Linkerd release injected it, so the
    proxy container carries neither the version annotation nor an image tag: the version
    meshdash shows can then only come from the proxy's own report."""
    containers = [app_container, {"name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy"}]
    return {
        "metadata": kube_server.meta(
            name,
            NAMESPACE,
            labels=labels,
            annotations={"linkerd.io/inject": "enabled"},
            owner=owner,
        ),
        "spec": {
            "containers": containers,
            "nodeName": "k3d",
            "serviceAccountName": service_account,
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "ready": True,
                    "restartCount": 0,
                    "image": c["image"],
                    "imageID": "",
                    "state": {"running": {}},
                }
                for c in containers
            ],
        },
    }


def opaque_ports_cluster() -> dict:
    """The opaque-ports test's namespace (linkerd2 test/integration/opaqueports/testdata): the
    Job whose proxy the sample is, and the Deployment it calls, as the sample's dst_* labels name
    it. The control plane's objects are kube_server's."""
    objects = kube_server.cluster()
    job = kube_server.workload("Job", NAMESPACE, JOB, inject="enabled")
    deployment = kube_server.workload("Deployment", NAMESPACE, SERVER, inject="enabled")
    replicaset = {
        "metadata": kube_server.meta(
            "opaque-pod-dcf789f5d", NAMESPACE, owner=("Deployment", SERVER)
        ),
        "spec": {"selector": {"matchLabels": {"app": SERVER}}},
    }
    client_container = {"name": JOB, "image": "buoyantio/slow_cooker:1.3.0"}
    server_container = {"name": "app", "image": "buoyantio/bb:v0.0.6"}
    server_labels = {"app": SERVER, "pod-template-hash": "dcf789f5d"}
    objects.update(
        {
            "namespaces": [{"metadata": kube_server.meta(name)} for name in (NAMESPACE, "linkerd")],
            "pods": [
                _pod(POD, ("Job", JOB), POD_LABELS, client_container),
                _pod(
                    SERVER_POD,
                    ("ReplicaSet", "opaque-pod-dcf789f5d"),
                    server_labels,
                    server_container,
                ),
            ],
            "services": [],
            "deployments": [deployment],
            "replicasets": [replicaset],
            "statefulsets": [],
            "daemonsets": [],
            "controllerrevisions": [],
            "jobs": [job],
            "cronjobs": [],
        }
    )
    return objects


# --- Serving, scraping and collecting it once for the module.


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    exporter = real_text.StaticExporter(real_text.fixture_text(FIXTURE))
    data_dir = tmp_path_factory.mktemp("real-text-prometheus")
    config = data_dir / "prometheus.yml"
    discovered = real_text.pod_discovery_labels(NAMESPACE, POD, POD_LABELS)
    config.write_text(real_text.prometheus_config([(exporter.address, discovered)], SCRAPE_SECONDS))
    proc, port = servers.start_prometheus(config, data_dir / "tsdb")
    try:
        server = servers.PrometheusServer(proc, f"http://127.0.0.1:{port}")
        wait_for_full_window(server, SCRAPE_SECONDS)
        # Collections look at the minute just waited through, during which the exporter (a
        # thread of this process) answered at once; later the collector's own work would delay
        # the scrapes at the window's end and inflate the last values.
        yield server, time.time()
    finally:
        servers.stop(proc)
        exporter.stop()


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    server = kube_server.start(opaque_ports_cluster())
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("real-text-kube") / "kubeconfig")
    try:
        yield kube_client(kubeconfig)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def snapshot(prometheus, kube):
    server, at = prometheus
    return collect(
        "1m", prometheus=PrometheusClient(server.url), kube=kube, now=at, rules=HealthRules()
    )


@pytest.fixture(scope="module")
def snapshot_without_cluster(prometheus):
    server, at = prometheus
    return collect(
        "1m", prometheus=PrometheusClient(server.url), kube=None, now=at, rules=HealthRules()
    )


def _key(key: WorkloadKey) -> tuple[str, str, str]:
    return (key.namespace, key.kind, key.name)


def _workloads(snapshot):
    return {w.key: w for w in snapshot.workloads}


def _pod_named(snapshot, name):
    (pod,) = [p for p in snapshot.pods if (p.namespace, p.name) == (NAMESPACE, name)]
    return pod


# --- The tests.


def test_it_keeps_each_fixture_as_its_provenance_records_it():
    provenance = (real_text.FIXTURES / "PROVENANCE.md").read_text()
    recorded = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", provenance, re.M))
    files = {path.name for path in real_text.FIXTURES.iterdir() if path.name != "PROVENANCE.md"}
    assert files == recorded.keys()
    for name, digest in recorded.items():
        assert hashlib.sha256((real_text.FIXTURES / name).read_bytes()).hexdigest() == digest


def test_it_serves_every_counter_growing_by_its_fixture_value_a_minute(prometheus):
    """The premise of every expectation below, checked on what Prometheus stored."""
    server, at = prometheus
    for name in ("response_total", "tcp_write_bytes_total", "response_latency_ms_bucket"):
        ((_, increase),) = server.query(f"sum(increase({name}[1m]))", at=at)
        fixture = sum(s.value for s in fixture_samples() if s.name == name)
        assert fixture > 0
        assert increase == pytest.approx(fixture, rel=TOLERANCE)


def test_it_counts_no_application_traffic_where_the_proxy_served_only_linkerd(snapshot):
    assert snapshot.errors == {}
    # What the proxy did serve: 29 responses a minute on its admin port.
    assert sum(per_second(s.value) for s in inbound("response_total", own=True)) > 0
    responses = application_responses()
    job = _workloads(snapshot)[JOB_KEY]
    assert job.meshed_pods == 1
    assert job.rps == pytest.approx(sum(responses.values()), rel=TOLERANCE, abs=1e-9)
    assert sum(responses.values()) == 0
    assert job.success_rate is None
    assert job.latency_ms_p99 == application_p99_ms() is None
    assert job.health == NO_TRAFFIC
    # Nor any of the other families carrying direction="inbound" (stack_*, authz, control_*).
    assert sum(w.rps for w in snapshot.workloads) == pytest.approx(sum(responses.values()))
    namespace = {n.name: n for n in snapshot.namespaces}[NAMESPACE]
    assert (namespace.rps, namespace.success_rate) == (0.0, None)


def test_it_shows_linkerds_own_traffic_on_its_own_line(snapshot):
    # A 2022 proxy names no probe route, so the fixture cannot say which of its admin-port
    # requests were probes and which scrapes: only their sum is checked.
    own = defaultdict(float)
    for s in inbound("response_total", own=True):
        own[s.labels["classification"]] += per_second(s.value)
    job = _workloads(snapshot)[JOB_KEY]
    lines = [(job.probe_rps, job.probe_success_rate), (job.scrape_rps, job.scrape_success_rate)]
    total = sum(rps for rps, _ in lines)
    assert total == pytest.approx(sum(own.values()), rel=TOLERANCE)
    successes = sum(rps * rate for rps, rate in lines if rps)
    assert successes / total == pytest.approx(own["success"] / sum(own.values()))


def test_it_shows_no_caller_that_linkerd_itself_is(snapshot):
    callers = application_callers()
    into_job = {e.client_id: e.rps for e in snapshot.edges if e.dst == JOB_KEY}
    assert into_job == pytest.approx(dict(callers))
    assert into_job == {}  # not the kubelet, not Prometheus


def test_it_counts_no_application_tcp(snapshot):
    job = _workloads(snapshot)[JOB_KEY]
    assert job.tcp_open_connections == inbound_tcp("tcp_open_connections") == 0
    for field, counter in (
        ("tcp_opened_per_second", "tcp_open_total"),
        ("tcp_closed_per_second", "tcp_close_total"),
        ("tcp_read_bytes_per_second", "tcp_read_bytes_total"),
        ("tcp_write_bytes_per_second", "tcp_write_bytes_total"),
    ):
        expected = per_second(inbound_tcp(counter))
        assert getattr(job, field) == pytest.approx(expected, rel=TOLERANCE, abs=1e-9), field
    assert job.tcp_close_error_rate is None  # no application connection closed at all


def test_it_reads_the_jobs_calls_to_an_opaque_port_as_the_tcp_they_are(snapshot):
    http = outbound_http()
    open_now = outbound_tcp("tcp_open_connections")
    opened = outbound_tcp("tcp_open_total")
    assert open_now  # slow_cooker's HTTP to opaque-pod's opaque port: TCP to the proxy
    job = _workloads(snapshot)[JOB_KEY]
    assert job.outbound_rps == pytest.approx(sum(http.values()), abs=1e-9)
    from_job = {_key(e.dst): e for e in snapshot.edges if e.src == JOB_KEY}
    assert from_job.keys() == {dst for dst in (*http, *open_now) if dst}
    for dst, edge in from_job.items():
        assert edge.rps == pytest.approx(http.get(dst, 0.0), abs=1e-9)
        assert edge.tcp_open_connections == sum(s.value for s in open_now[dst])
        assert edge.tcp_opened_per_second == pytest.approx(
            per_second(sum(s.value for s in opened[dst])), rel=TOLERANCE
        )
        assert edge.tls == all(s.labels.get("tls") == "true" for s in opened[dst])


def test_it_reads_the_proxys_memory_and_certificate_expiry(snapshot):
    pod = _pod_named(snapshot, POD)
    assert pod.has_proxy
    assert pod.proxy_memory_bytes == gauge("process_resident_memory_bytes") == 17805312
    expiry = gauge(
        "control_identity_cert_expiration_timestamp_seconds",
        "identity_cert_expiration_timestamp_seconds",
    )
    assert pod.proxy_cert_expiry == expiry == 1651053543


def test_it_reads_the_proxys_cpu_over_the_window(snapshot):
    """process_cpu_seconds_total grows by its fixture value a minute: that much a minute."""
    pod = _pod_named(snapshot, POD)
    assert pod.proxy_cpu_cores == pytest.approx(gauge("process_cpu_seconds_total") / 60, rel=0.05)


def test_it_counts_no_authorization_of_linkerds_own_admin_port(snapshot):
    """The scrape's only authz decisions are the admin port's (target_port 4191)."""
    assert all(
        s.labels.get("target_port") == "4191" for s in fixture_samples() if "_authz_" in s.name
    )
    assert snapshot.authorizations == []
    assert all(w.authz_allowed_rps == 0 == w.authz_denied_rps for w in snapshot.workloads)


def test_it_reads_the_build_a_2022_proxy_reports(snapshot, snapshot_without_cluster):
    version = build_version()
    assert version == "279b301"
    assert _pod_named(snapshot, POD).proxy_version == version
    # Without the cluster, the proxies' own reports are all there is.
    assert _pod_named(snapshot_without_cluster, POD).proxy_version == version
    assert snapshot_without_cluster.control_plane.data_plane_versions == {version: 1}


def test_it_collects_the_scrape_without_the_cluster(snapshot_without_cluster):
    assert "kubernetes/cluster" in snapshot_without_cluster.errors
    job = _workloads(snapshot_without_cluster)[JOB_KEY]
    assert (job.meshed_pods, job.rps, job.success_rate) == (1, 0.0, None)
    assert job.health == NO_TRAFFIC
    pod = _pod_named(snapshot_without_cluster, POD)
    assert (pod.workload_kind, pod.workload_name) == ("job", JOB)
    assert pod.proxy_memory_bytes == gauge("process_resident_memory_bytes")


# --- What the on-call checks read from it.


def control_clients() -> dict[str, dict]:
    """Per control-plane address: requests and responses by classification per second, and
    the latency buckets (``le`` -> count a minute), from the fixture alone."""
    clients = defaultdict(lambda: {"requests": 0.0, "responses": defaultdict(float), "le": {}})
    for s in fixture_samples():
        addr = s.labels.get("addr")
        if s.name == "control_request_total":
            clients[addr]["requests"] += per_second(s.value)
        elif s.name == "control_response_total":
            clients[addr]["responses"][s.labels["classification"]] += per_second(s.value)
        elif s.name == "control_response_latency_ms_bucket":
            le = float(s.labels["le"])
            clients[addr]["le"][le] = clients[addr]["le"].get(le, 0.0) + s.value
    return clients


def quantile_99(buckets: dict[float, float]) -> float | None:
    """histogram_quantile(0.99) over cumulative buckets, written out independently."""
    if not buckets or buckets.get(math.inf, 0) == 0:
        return None
    rank = 0.99 * buckets[math.inf]
    lower, below = 0.0, 0.0
    for bound in sorted(buckets):
        if buckets[bound] >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (buckets[bound] - below)
        lower, below = bound, buckets[bound]
    return None


@pytest.fixture(scope="module")
def inputs(prometheus):
    server, at = prometheus
    results, errors = PrometheusClient(server.url).query_many(
        {"check_inputs": [check_inputs("1m")]}, at=at
    )
    assert errors == {}
    filled = CheckInputs()
    fill_check_inputs(filled, results)
    return filled


def test_it_reads_a_2022_proxys_leaf_refreshes_by_their_old_name(inputs):
    """A 2022 proxy counts refreshes in identity_cert_refresh_count (successes only) and has
    no control_identity_cert_refreshes_total: its errors are not collected, so 0."""
    names = {s.name for s in fixture_samples()}
    assert "control_identity_cert_refreshes_total" not in names
    # prometheus_client's parser adds the _total the 2022 text left out.
    (refreshes,) = [
        s.value
        for s in fixture_samples()
        if s.name in ("identity_cert_refresh_count", "identity_cert_refresh_count_total")
    ]
    (proxy,) = inputs.proxy_identity
    assert (proxy.namespace, proxy.pod) == (NAMESPACE, POD)
    assert proxy.refresh_ok == pytest.approx(refreshes, rel=TOLERANCE)
    assert proxy.refresh_errors == 0


def test_it_reads_the_proxys_calls_to_each_control_plane_component(inputs):
    expected = control_clients()
    # The 2022 proxy calls destination, policy and identity (each once or twice a minute).
    assert {control_plane_component(addr) for addr in expected} == {
        "destination",
        "identity",
        "policy",
    }
    got = {c.component: c for c in inputs.control_plane_clients}
    assert set(got) == {control_plane_component(addr) for addr in expected}
    for addr, want in expected.items():
        client = got[control_plane_component(addr)]
        assert client.rps == pytest.approx(want["requests"], rel=TOLERANCE), addr
        total = sum(want["responses"].values())
        if total:
            assert client.success_rate == want["responses"]["success"] / total, addr
        else:  # policy's streams were still open: no response counted, no rate
            assert client.success_rate is None, addr
        p99 = quantile_99(want["le"])
        assert p99 is not None
        assert client.latency_ms_p99 == pytest.approx(p99, rel=TOLERANCE), addr
        assert client.failing_pods == (), addr


def test_it_finds_no_issuer_ttl_without_an_identity_controller(inputs):
    """The scrape is a proxy's only: identity's issuer_cert_ttl_seconds is not collected."""
    assert "issuer_cert_ttl_seconds" not in {s.name for s in fixture_samples()}
    assert inputs.identity_issuer_ttl_seconds is None
