"""What the demo exporter serves for the on-call checks, as a proxy (and identity) would: leaf
refreshes of each metric generation on the proxies that export it, the stalled rotation, the
control-plane clients and identity's issuer TTL. Pure: rendered shards, parsed as text."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshdash.demo import model
from meshdash.demo.exporter import build_shards

EPOCH = 1_772_409_600.0  # 2026-03-02T00:00:00Z


@pytest.fixture(scope="module")
def mesh():
    return model.build_mesh(120, seed=3, epoch=EPOCH)


def scrape(mesh, t: float) -> list:
    """Every sample of every shard at ``t``, as (name, labels, value)."""
    samples = []
    for shard in build_shards(mesh, 2):
        text = shard.render(t).decode()
        for family in text_string_to_metric_families(text.replace("# EOF\n", "")):
            samples.extend((s.name, s.labels, s.value) for s in family.samples)
    return samples


def by_pod(samples, name: str) -> dict[str, list[tuple[dict, float]]]:
    found: dict[str, list] = {}
    for sample_name, labels, value in samples:
        if sample_name == name:
            found.setdefault(labels.get("pod", ""), []).append((labels, value))
    return found


def exporting(mesh):
    return [p for w in mesh.all_workloads for p in w.pods if p.exports_metrics]


def test_each_proxy_exports_the_refresh_counter_of_its_generation(mesh):
    samples = scrape(mesh, EPOCH + 3600)
    current = by_pod(samples, "control_identity_cert_refreshes_total")
    # prometheus_client's parser adds _total to the 2022-style counter.
    legacy = by_pod(samples, "identity_cert_refresh_count_total")
    refreshed = by_pod(samples, "control_identity_cert_refresh_timestamp_seconds")
    for pod in exporting(mesh):
        if pod.proxy_version in model.LEGACY_CERT_METRIC_VERSIONS:
            assert pod.name in legacy and pod.name not in current and pod.name not in refreshed
        else:
            assert {labels["result"] for labels, _ in current[pod.name]} == {"ok", "error"}
            assert pod.name not in legacy and pod.name in refreshed
    assert legacy and current


def test_the_stalled_proxy_keeps_its_leaf_and_counts_errors_while_the_others_renew(mesh):
    (stalled,) = mesh.check_seed_pods()["stalled-rotation"]
    pods = {(p.namespace, p.name): p for p in exporting(mesh)}
    day = 86400.0
    first, later = scrape(mesh, EPOCH + 60), scrape(mesh, EPOCH + day + 60)
    for name in ("control_identity_cert_expiration_timestamp_seconds",):
        before, after = by_pod(first, name), by_pod(later, name)
        for (namespace, pod_name), pod in pods.items():
            if pod.proxy_version in model.LEGACY_CERT_METRIC_VERSIONS:
                continue
            ((_, expiry_before),) = before[pod_name]
            ((_, expiry_after),) = after[pod_name]
            assert expiry_before == pod.leaf(EPOCH + 60)[1] == pod.cert_expiry
            assert expiry_after == pod.leaf(EPOCH + day + 60)[1]
            if (namespace, pod_name) == stalled:
                assert expiry_after == expiry_before < EPOCH + day  # expired, never renewed
            else:
                # Renewed at 70 % of its life: never within 30 % of its end.
                assert expiry_after - (EPOCH + day + 60) > 0.3 * model.LEAF_LIFETIME_SECONDS - 60
    errors = {
        pod: value
        for pod, rows in by_pod(later, "control_identity_cert_refreshes_total").items()
        for labels, value in rows
        if labels["result"] == "error" and value > 0
    }
    assert set(errors) == {stalled[1]}


def test_it_serves_the_proxies_calls_to_destination_and_identity(mesh):
    seeds = mesh.check_seed_pods()
    samples = scrape(mesh, EPOCH + 3600)
    responses = by_pod(samples, "control_response_total")
    failing = {"destination": seeds["failing-destination"], "identity": seeds["failing-identity"]}
    for pod in exporting(mesh):
        rows = responses[pod.name]
        by_component = {labels["addr"].split(".")[0]: labels for labels, _ in rows}
        assert set(by_component) == {"linkerd-dst-headless", "linkerd-identity-headless"}
        for component, addr in (
            ("destination", "linkerd-dst-headless"),
            ("identity", "linkerd-identity-headless"),
        ):
            labels = by_component[addr]
            if (pod.namespace, pod.name) in failing[component]:
                # Failed before any response: no status_code.
                assert labels["classification"] == "failure" and "status_code" not in labels
            else:
                assert labels["classification"] == "success" and labels["status_code"] == "200"


def test_it_serves_identitys_issuer_ttl_as_the_viz_controller_job_stores_it(mesh):
    at = EPOCH + 7200.0
    ((name, labels, value),) = [s for s in scrape(mesh, at) if s[0] == "issuer_cert_ttl_seconds"]
    assert value == pytest.approx(mesh.certificates.issuer_not_after - at)
    (identity,) = [w for w in mesh.control_plane if w.control_plane_component == "identity"]
    assert labels == {
        "component": "identity",
        "instance": f"{identity.pods[0].ip}:9990",
        "job": "linkerd-controller",
    }
    # Negative once the issuer has expired, as identity's gauge goes.
    after = mesh.certificates.issuer_not_after + 60
    (ttl,) = [s[2] for s in scrape(mesh, after) if s[0] == "issuer_cert_ttl_seconds"]
    assert ttl == pytest.approx(-60)


def test_newer_proxies_report_their_own_build(mesh):
    newer = mesh.check_seed_pods()["newer-proxy"]
    assert newer
    builds = by_pod(scrape(mesh, EPOCH + 60), "proxy_build_info")
    expected = model.PROXY_BUILD_VERSIONS[model.NEWER_PROXY_VERSION]
    for _, pod in newer:
        ((labels, _),) = builds[pod]
        assert labels.get("exported_version", labels.get("version")) == expected
