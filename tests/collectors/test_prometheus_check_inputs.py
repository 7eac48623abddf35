"""fill_check_inputs on hand-made query results: both metric generations, families that are
not there, values no counter or gauge can take. Pure logic, no Prometheus needed (the real
Prometheus answers the query in test_real_text.py and test_demo_check_inputs.py)."""

import math

import pytest

from meshdash.collectors.prometheus import (
    Sample,
    check_inputs,
    collection_queries,
    control_plane_component,
    fill_check_inputs,
)
from meshdash.mesh.checks.inputs import CheckInputs, ControlPlaneClient, ProxyIdentity

DST = "linkerd-dst-headless.linkerd.svc.cluster.local:8086"
IDENTITY = "linkerd-identity-headless.linkerd.svc.cluster.local:8080"
POLICY = "linkerd-policy.linkerd.svc.cluster.local:8090"
NOW = 1_800_000_000.0


def sample(metric: str, value, **labels) -> Sample:
    return Sample({"metric": metric, **labels}, value)


def filled(*samples: Sample) -> CheckInputs:
    inputs = CheckInputs()
    fill_check_inputs(inputs, {"check_inputs": list(samples), "inbound": []})
    return inputs


def by_component(inputs: CheckInputs) -> dict[str, ControlPlaneClient]:
    return {c.component: c for c in inputs.control_plane_clients}


def test_it_reads_the_refreshes_of_both_metric_generations_per_proxy():
    inputs = filled(
        # A current proxy: control_identity_cert_refreshes_total{result}.
        sample("refreshes", 1.0, namespace="shop", pod="web-1", result="ok"),
        sample("refreshes", 0.0, namespace="shop", pod="web-1", result="error"),
        # A stalled one: only errors in the window.
        sample("refreshes", 0.0, namespace="shop", pod="web-2", result="ok"),
        sample("refreshes", 6.0, namespace="shop", pod="web-2", result="error"),
        # A 2022 proxy: identity_cert_refresh_count, successes only.
        sample("refreshes_legacy", 2.0, namespace="batch", pod="job-x"),
    )
    assert inputs.proxy_identity == [
        ProxyIdentity("batch", "job-x", refresh_errors=0.0, refresh_ok=2.0),
        ProxyIdentity("shop", "web-1", refresh_errors=0.0, refresh_ok=1.0),
        ProxyIdentity("shop", "web-2", refresh_errors=6.0, refresh_ok=0.0),
    ]


def test_it_leaves_everything_not_collected_when_the_query_failed():
    inputs = CheckInputs(
        identity_issuer_ttl_seconds=5.0,
        proxy_identity=[ProxyIdentity("a", "b", 1.0)],
        control_plane_clients=[ControlPlaneClient("identity")],
    )
    before = CheckInputs(**vars(inputs))
    fill_check_inputs(inputs, {"inbound": []})  # no "check_inputs": it failed
    assert inputs == before


def test_a_missing_family_reads_as_not_collected_never_as_zero():
    # Only the evaluation time: no proxy exports a refresh counter or a control client, and
    # no identity controller is scraped.
    inputs = filled(sample("evaluated_at", NOW))
    assert inputs.proxy_identity == []
    assert inputs.identity_issuer_ttl_seconds is None
    assert inputs.control_plane_clients == []
    # A pod without any refresh series is absent, not a proxy with 0 refreshes.
    inputs = filled(sample("refreshes", 1.0, namespace="shop", pod="web-1", result="ok"))
    assert [(p.namespace, p.pod) for p in inputs.proxy_identity] == [("shop", "web-1")]
    # Requests but no responses: a success rate of None, not 0 %; no buckets: no p99.
    (client,) = filled(sample("control_requests", 0.5, addr=POLICY)).control_plane_clients
    assert (client.component, client.rps) == ("policy", 0.5)
    assert client.success_rate is None and client.latency_ms_p99 is None
    assert client.failing_pods == ()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0, "abc", None, "1e999"])
def test_it_skips_values_no_counter_or_gauge_can_take(bad):
    inputs = filled(
        sample("refreshes", bad, namespace="shop", pod="web-1", result="error"),
        sample("refreshes", 1.0, namespace="shop", pod="web-2", result="ok"),
        sample("control_requests", bad, addr=DST),
        sample(
            "control_responses",
            bad,
            namespace="shop",
            pod="web-1",
            addr=DST,
            classification="failure",
        ),  # fmt: skip
        sample(
            "control_responses",
            0.2,
            namespace="shop",
            pod="web-2",
            addr=DST,
            classification="success",
        ),  # fmt: skip
        sample("issuer_not_after", bad),
        sample("evaluated_at", NOW),
    )
    assert inputs.proxy_identity == [ProxyIdentity("shop", "web-2", 0.0, 1.0)]
    assert inputs.identity_issuer_ttl_seconds is None
    (client,) = inputs.control_plane_clients
    assert (client.success_rate, client.failing_pods) == (1.0, ())
    assert client.rps == pytest.approx(0.2)  # from the responses: no usable request series


def test_it_skips_samples_with_labels_missing_or_unknown():
    inputs = filled(
        sample("refreshes", 3.0, pod="web-1", result="error"),  # no namespace
        sample("refreshes", 3.0, namespace="shop", pod="", result="error"),
        sample("refreshes", 3.0, namespace="shop", pod="web-3", result="weird"),
        sample("control_requests", 1.0),  # no addr
        sample("control_requests", 1.0, addr="linkerd-collector.linkerd-jaeger.svc:55678"),
        sample("control_responses", 1.0, addr=DST, namespace="a", pod="b", classification=""),
        sample("control_latency", 1.0, addr=DST, le="not-a-bound"),
        sample("something_else", 1.0),
    )
    # The unknown result counts neither as ok nor as an error.
    assert inputs.proxy_identity == [ProxyIdentity("shop", "web-3", 0.0, 0.0)]
    (client,) = inputs.control_plane_clients
    assert client.component == "destination"
    assert (client.rps, client.success_rate, client.latency_ms_p99) == (0.0, None, None)


def test_it_reads_identitys_issuer_ttl_even_once_expired():
    inputs = filled(sample("issuer_not_after", NOW + 20 * 86400), sample("evaluated_at", NOW))
    assert inputs.identity_issuer_ttl_seconds == pytest.approx(20 * 86400)
    # Expired an hour ago: a negative TTL, as identity's gauge reads (it goes negative).
    inputs = filled(sample("evaluated_at", NOW), sample("issuer_not_after", NOW - 3600))
    assert inputs.identity_issuer_ttl_seconds == pytest.approx(-3600)
    # Two answers (identity replicas, or two scrape jobs): the sooner one.
    inputs = filled(
        sample("issuer_not_after", NOW + 900),
        sample("issuer_not_after", NOW + 100),
        sample("evaluated_at", NOW),
    )
    assert inputs.identity_issuer_ttl_seconds == pytest.approx(100)


def test_it_reads_each_components_calls_and_the_proxies_failing_every_one():
    inputs = filled(
        sample("control_requests", 0.5, addr=DST),
        sample(
            "control_requests", 0.25, addr="linkerd-dst-headless.linkerd.svc.cluster.local.:8086"
        ),
        sample("control_requests", 0.1, addr=IDENTITY),
        # destination: web-1 fine, web-2 fails every call, web-3 fails some.
        sample(
            "control_responses",
            0.6,
            namespace="shop",
            pod="web-1",
            addr=DST,
            classification="success",
        ),  # fmt: skip
        sample(
            "control_responses",
            0.1,
            namespace="shop",
            pod="web-2",
            addr=DST,
            classification="failure",
        ),  # fmt: skip
        sample(
            "control_responses",
            0.2,
            namespace="shop",
            pod="web-3",
            addr=DST,
            classification="success",
        ),  # fmt: skip
        sample(
            "control_responses",
            0.1,
            namespace="shop",
            pod="web-3",
            addr=DST,
            classification="failure",
        ),  # fmt: skip
        # identity: the destination controller's own proxy calls it on localhost.
        sample(
            "control_responses",
            0.05,
            namespace="linkerd",
            pod="linkerd-destination-x",
            addr="localhost.:8080",
            classification="failure",
        ),  # fmt: skip
        sample(
            "control_responses",
            0.15,
            namespace="shop",
            pod="web-1",
            addr=IDENTITY,
            classification="success",
        ),  # fmt: skip
        # destination latency: 90 % under 10 ms, all under 100 ms.
        sample("control_latency", 0.9, addr=DST, le="10"),
        sample("control_latency", 1.0, addr=DST, le="100"),
        sample("control_latency", 1.0, addr=DST, le="+Inf"),
    )
    clients = by_component(inputs)
    assert set(clients) == {"destination", "identity"}
    dst = clients["destination"]
    assert dst.rps == pytest.approx(0.75)
    assert dst.success_rate == pytest.approx(0.8 / 1.0)
    assert dst.latency_ms_p99 == pytest.approx(10 + 90 * (0.99 - 0.9) / 0.1)
    assert dst.failing_pods == (("shop", "web-2"),)
    identity = clients["identity"]
    assert identity.rps == pytest.approx(0.1)
    assert identity.success_rate == pytest.approx(0.75)
    assert identity.latency_ms_p99 is None
    assert identity.failing_pods == (("linkerd", "linkerd-destination-x"),)


def test_it_names_the_component_from_the_clients_address():
    assert control_plane_component(DST) == "destination"
    assert control_plane_component("linkerd-dst-headless.linkerd.svc.cluster.local.:8086") == (
        "destination"
    )
    assert control_plane_component(IDENTITY) == "identity"
    assert control_plane_component(POLICY) == "policy"
    # Another control-plane namespace and cluster domain.
    assert control_plane_component("linkerd-policy.mesh.svc.corp.example.:8090") == "policy"
    # The control plane's own proxies call their component on localhost.
    assert control_plane_component("localhost.:8086") == "destination"
    assert control_plane_component("localhost:8090") == "policy"
    assert control_plane_component("localhost.:9999") == ""
    assert control_plane_component("linkerd-collector.linkerd-jaeger.svc.cluster.local:55678") == ""
    assert control_plane_component("") == ""


def test_its_query_is_one_grouped_query_over_both_generations():
    promql = check_inputs("5m")
    assert collection_queries("5m")["check_inputs"] == [promql]
    for family in (
        "control_identity_cert_refreshes_total",
        "identity_cert_refresh_count",
        "control_request_total",
        "control_response_total",
        "control_response_latency_ms_bucket",
        "issuer_cert_ttl_seconds",
    ):
        assert family in promql, family
    assert "[5m]" in promql
    # Grouped by pod at most: its size grows with the mesh, its count does not.
    assert promql.count("sum by (") == 5 and "min(issuer_cert_ttl_seconds)" in promql
    # Only proxies' series (they carry control_plane_ns); a shard's matcher reaches them.
    sharded = check_inputs("1m", 'namespace=~"[a].*"')
    assert sharded.count('namespace=~"[a].*"') == 5
