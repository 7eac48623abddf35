"""The check inputs a real Prometheus gives from the demo mesh's proxies, and the checks they
make fire: the pods the demo seeded (``DemoMesh.check_seed_pods``) are the ones found.

The demo is served for real (its exporter scraped by a private Prometheus, its Kubernetes API
stand-in read through the official client); the truth is the demo model.
"""

import pytest

from meshdash.collectors.collect import collect
from meshdash.collectors.prometheus import PrometheusClient, check_inputs, fill_check_inputs
from meshdash.demo import model as demo
from meshdash.demo.runner import load_mesh
from meshdash.mesh.checks import (
    CRITICAL,
    CheckInputs,
    Context,
    certificates,
    control_plane,
    versions,
)
from meshdash.mesh.health import HealthRules
from tests.collectors.conftest import covered_instant, kube_client, wait_for_full_window

pytestmark = pytest.mark.e2e

WINDOW_SECONDS = 60


@pytest.fixture(scope="module")
def mesh(demo_mesh):
    return load_mesh(demo_mesh.out_dir)


@pytest.fixture(scope="module")
def at(demo_mesh, demo_prometheus):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    return covered_instant(demo_prometheus.url)


@pytest.fixture(scope="module")
def inputs(demo_prometheus, at):
    results, errors = PrometheusClient(demo_prometheus.url).query_many(
        {"check_inputs": [check_inputs("1m")]}, at=at
    )
    assert errors == {}
    filled = CheckInputs()
    fill_check_inputs(filled, results)
    return filled


@pytest.fixture(scope="module")
def context(demo_mesh, demo_prometheus, at, inputs):
    snapshot = collect(
        "1m",
        prometheus=PrometheusClient(demo_prometheus.url),
        kube=kube_client(demo_mesh.kubeconfig),
        now=at,
        rules=HealthRules(),
    )
    return Context(snapshot, inputs=inputs)


def exporting(mesh) -> list[demo.DemoPod]:
    return [p for w in mesh.all_workloads for p in w.pods if p.exports_metrics]


def subject_pods(findings) -> set[tuple[str, str]]:
    return {(r.namespace, r.name) for f in findings for r in f.subject if r.kind == "pod"}


def test_the_demo_seeds_each_check_input(mesh):
    seeds = mesh.check_seed_pods()
    assert all(len(pods) >= 1 for pods in seeds.values()), seeds
    assert len(seeds["stalled-rotation"]) == 1


def test_it_reads_every_proxys_leaf_refreshes_and_the_stalled_one(inputs, mesh):
    seeds = mesh.check_seed_pods()
    got = {(p.namespace, p.pod): p for p in inputs.proxy_identity}
    # Every running proxy exports a refresh counter, of one generation or the other.
    assert set(got) == {(p.namespace, p.name) for p in exporting(mesh)}
    errors = {name for name, p in got.items() if p.refresh_errors > 0}
    assert errors == seeds["stalled-rotation"]
    for pod in exporting(mesh):
        if pod.cert_refresh_errors_per_second:
            expected = pod.cert_refresh_errors_per_second * WINDOW_SECONDS
            assert got[(pod.namespace, pod.name)].refresh_errors == pytest.approx(
                expected, rel=0.05
            )
    legacy = [p for p in exporting(mesh) if p.proxy_version in demo.LEGACY_CERT_METRIC_VERSIONS]
    assert legacy and all(got[(p.namespace, p.name)].refresh_errors == 0 for p in legacy)


def test_it_reads_identitys_issuer_ttl(inputs, mesh, at, demo_mesh):
    ttl = inputs.identity_issuer_ttl_seconds
    assert ttl is not None
    # The gauge was read at the last scrape before ``at``: up to an interval (and the scrape's
    # own time) longer than at ``at``.
    left = mesh.certificates.issuer_not_after - at
    assert left <= ttl <= left + 2 * demo_mesh.scrape_seconds + 1
    assert 0 < ttl < demo.ISSUER_DAYS_LEFT * 86400


def test_it_reads_the_proxies_calls_to_destination_and_identity(inputs, mesh):
    seeds = mesh.check_seed_pods()
    clients = {c.component: c for c in inputs.control_plane_clients}
    assert set(clients) == {"destination", "identity"}
    assert set(clients["destination"].failing_pods) == seeds["failing-destination"]
    assert set(clients["identity"].failing_pods) == seeds["failing-identity"]
    # Every proxy calls destination at the same pace: one of them failing every call.
    proxies = len(exporting(mesh))
    failing = len(seeds["failing-destination"])
    assert clients["destination"].success_rate == pytest.approx(1 - failing / proxies, rel=1e-3)
    assert clients["destination"].rps > 0
    assert 1 < clients["destination"].latency_ms_p99 < 100
    # Identity is called once a leaf refresh; the failing proxy retries far more often.
    assert clients["identity"].success_rate < 0.9
    assert clients["identity"].latency_ms_p99 is None  # no histogram kept for identity


def test_the_checks_find_the_seeded_pods(context, mesh):
    seeds = mesh.check_seed_pods()
    rotation = certificates.check_rotation(context)
    # The stalled proxy is past its renewal point and its refreshes fail; every other leaf
    # is renewed on time.
    (stalled,) = seeds["stalled-rotation"]
    assert len(rotation) == 1
    (finding,) = rotation
    sources = " ".join(e.source for e in finding.evidence)
    assert f"pod {stalled[0]}/{stalled[1]}" in sources
    assert "refresh errors in the window" in {e.label for e in finding.evidence}
    calls = control_plane.check_control_plane_calls(context)
    failing = seeds["failing-destination"] | seeds["failing-identity"]
    assert subject_pods(calls) == failing
    assert all(f.severity == CRITICAL for f in calls if subject_pods([f]))
    issuer = certificates.check_issuer(context)
    assert issuer and "identity's issuer_cert_ttl_seconds" in {e.label for e in issuer[0].evidence}


def test_the_checks_find_proxies_newer_and_older_than_the_control_plane(context, mesh):
    seeds = mesh.check_seed_pods()
    found = versions.check_proxy_versions(context)
    newer = [f for f in found if f.severity == CRITICAL]
    owners = {
        (w.namespace, w.name)
        for w in mesh.all_workloads
        for p in w.pods
        if (p.namespace, p.name) in seeds["newer-proxy"]
    }
    assert {(f.subject[0].namespace, f.subject[0].name) for f in newer} == owners
    assert all(demo.NEWER_PROXY_VERSION in f.summary for f in newer)
    older = [f for f in found if f.severity != CRITICAL]
    assert older and all(demo.OLD_PROXY_VERSION in f.summary for f in older)
