"""The collector's cheaper paths give what the plain ones gave: bucket series (one ``le`` parse
per bound, the labels but ``le`` by list.remove), the precomputed filter orders (each value's
text once per filter), Prometheus's samples (tuple's own constructor, one range test of each
value), the p99s of pods and routes computed by Prometheus (not from their buckets here) and
the Kubernetes API's bodies decoded by orjson."""

import itertools
import json
import math
import random

import pytest

from meshdash.collectors import kubernetes, prometheus
from meshdash.collectors.prometheus import (
    PrometheusClient,
    PrometheusError,
    Sample,
    pod_traffic,
    policy_route_latency_buckets,
    service_profile_route_latency_buckets,
)
from meshdash.collectors.snapshot_builder import _series, owner_key
from meshdash.mesh import metrics
from meshdash.mesh.kinds import KIND_BY_PROM_LABEL
from meshdash.mesh.model import Workload, WorkloadKey
from meshdash.store import layout, ordering
from tests.collectors.conftest import covered_instant, wait_for_full_window


def reference_series(samples):
    """The previous reading: every sample's ``le`` parsed, its other labels filtered."""
    series = {}
    for labels, value in samples:
        try:
            bound = metrics.parse_le(labels.get("le", ""))
        except ValueError:
            continue
        rest = tuple(item for item in labels.items() if item[0] != "le")
        entry = series.get(rest)
        if entry is None:
            entry = series[rest] = (labels, [])
        entry[1].append((bound, value))
    return list(series.values())


def bucket_samples(seed: int) -> list[Sample]:
    rng = random.Random(seed)
    bounds = ["0.005", "1", "10", "+Inf", "2.5e1", "NaN", "bogus", ""]
    samples = []
    for _ in range(400):
        labels = {"namespace": rng.choice(["a", "b"]), "deployment": rng.choice(["x", "y", "z"])}
        if rng.random() < 0.3:
            labels = {"statefulset": labels.pop("deployment"), **labels}  # another order
        if rng.random() < 0.95:
            labels["le"] = rng.choice(bounds)
        if rng.random() < 0.5:
            labels["client_id"] = rng.choice(["c1", "c2"])
        samples.append(Sample(labels, rng.random() * 10))
    return samples


def test_bucket_series_are_those_of_the_plain_reading():
    for seed in range(5):
        samples = bucket_samples(seed)
        got = _series(samples)
        assert got == reference_series(samples)
        assert got  # the case exercises something
        # Series without a bound, or with NaN or bogus ones, are left out.
        bounds = {bound for _, buckets in got for bound, _ in buckets}
        assert all(bound == bound for bound in bounds)  # no NaN
        assert float("inf") in bounds


def reference_parse_result(result):
    """The previous reading of an answer: each value's checks one by one, Sample's own
    constructor."""
    if not isinstance(result, list):
        raise PrometheusError("Prometheus answered nonsense (not a vector)")
    samples = []
    for item in result:
        if not isinstance(item, dict):
            raise PrometheusError("Prometheus answered nonsense (not a vector)")
        metric, value = item.get("metric"), item.get("value")
        if not isinstance(metric, dict) or not isinstance(value, list) or len(value) != 2:
            raise PrometheusError("Prometheus answered nonsense (not a vector)")
        try:
            number = float(value[1])
        except (TypeError, ValueError):
            raise PrometheusError("Prometheus answered nonsense (not a number)") from None
        if math.isnan(number) or math.isinf(number) or number < 0:
            raise PrometheusError(f"Prometheus answered nonsense ({value[1]})")
        samples.append(Sample(prometheus._bounded_labels(metric), number))
    return samples


def _outcome(parse, result):
    try:
        return parse(result)
    except PrometheusError as exc:
        return str(exc)


def test_samples_are_those_of_the_plain_reading():
    rng = random.Random(5)
    values = ["0", "1.5", "-0", "1e-300", "1e308", "NaN", "+Inf", "-Inf", "-1", "1e999", "x"]
    values += [None, 3, [], "0x10"]
    long = "n" * 300
    errors = 0
    for _ in range(3000):
        result = []
        for _ in range(rng.randint(0, 3)):
            metric = {"namespace": rng.choice(["a", long]), rng.choice(["pod", long]): "p"}
            item = {"metric": metric, "value": [1.0, rng.choice(values)]}
            damage = rng.random()
            if damage < 0.03:
                item = rng.choice([[], "x", None, {"metric": metric}, {"metric": [], "value": []}])
            elif damage < 0.06:
                item["value"] = item["value"][:1]
            result.append(item)
        if rng.random() < 0.01:
            result = {"not": "a vector"}
        got, expected = (
            _outcome(prometheus._parse_result, result),
            _outcome(reference_parse_result, result),
        )
        assert got == expected
        if isinstance(got, list):
            assert all(type(sample) is Sample for sample in got)
        else:
            errors += 1
    assert 300 < errors < 2700  # good answers and every kind of damage


def reference_precomputed(workloads, orders):
    values_of = {
        "health": [w.health or None for w in workloads],
        "kind": [w.kind for w in workloads],
        "meshed": [1 if w.meshed_pods > 0 else 0 for w in workloads],
    }
    values = {}
    for name, of in values_of.items():
        for (sort, descending), in_order in orders.items():
            grouped = sorted(in_order, key=lambda number, of=of: str(of[number]))
            for value, numbers in itertools.groupby(grouped, key=of.__getitem__):
                if value is not None:
                    key = layout.WORKLOADS.precomputed(layout.filter_set(name, value)).sorted(
                        sort, descending
                    )
                    values[key] = ("string", layout.codec.pack_numbers(list(numbers)))
    return values


def test_precomputed_orders_are_those_of_the_plain_sort():
    rng = random.Random(3)
    workloads = [
        Workload(
            namespace=rng.choice(["a", "b", "c"]),
            kind=rng.choice(["Deployment", "StatefulSet", "DaemonSet"]),
            name=f"w{i}",
            rps=rng.random() * 100,
            health=rng.choice(["", "healthy", "warning", "critical"]),
            meshed_pods=rng.choice([0, 1, 3]),
        )
        for i in range(300)
    ]
    orders = ordering.orders(workloads)
    got = layout.precomputed_values(workloads, orders)
    assert got == reference_precomputed(workloads, orders)
    assert len(got) > len(orders)


def reference_owner_key(labels, prefix=""):
    namespace = labels.get(f"{prefix}namespace", "")
    if not namespace:
        return None
    for label, kind in KIND_BY_PROM_LABEL.items():
        name = labels.get(f"{prefix}{label}", "")
        if name:
            return WorkloadKey(namespace, kind, name)
    return None


def test_owner_keys_are_those_of_the_plain_reading():
    rng = random.Random(11)
    names = ["namespace", *KIND_BY_PROM_LABEL]
    found = 0
    for _ in range(2000):
        prefix = rng.choice(["", "dst_"])
        labels = {
            rng.choice(["", "dst_"]) + rng.choice(names): rng.choice(["", "a", "b"])
            for _ in range(rng.randint(0, 5))
        }
        key = owner_key(labels, prefix)
        assert key == reference_owner_key(labels, prefix)
        found += key is not None
    assert found > 50


def reference_pod_latency(window: str) -> str:
    """The previous per-pod latency: every pod's buckets, its p99 interpolated here."""
    sel = '{direction="inbound", target_port!="4191", route_name!="probe"}'
    return f"sum by (le, namespace, pod) (increase(response_latency_ms_bucket{sel}[{window}]))"


@pytest.mark.e2e
def test_pod_p99s_from_prometheus_are_those_of_the_buckets(demo_mesh, demo_prometheus):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    at = covered_instant(demo_prometheus.url)
    client = PrometheusClient(demo_prometheus.url)
    buckets = {}
    for labels, series in _series(client.query(reference_pod_latency("1m"), at=at)):
        buckets.setdefault((labels["namespace"], labels["pod"]), []).extend(series)
    expected = {pod: metrics.histogram_quantile(0.99, b) for pod, b in buckets.items()}
    expected = {pod: p99 for pod, p99 in expected.items() if p99 is not None}
    got = {
        (s.labels["namespace"], s.labels["pod"]): s.value
        for s in client.query(pod_traffic("1m"), at=at)
        if s.labels["metric"] == "p99"
    }
    assert got == expected
    assert len(got) >= 10  # the demo's pods with traffic, each with a p99


def reference_route_buckets(window: str) -> dict[str, str]:
    """The previous route latency: every route's buckets, its p99 interpolated here."""
    owners = ", ".join(KIND_BY_PROM_LABEL)
    by = f"le, namespace, {owners}, parent_namespace, parent_name, route_kind, route_name"
    return {
        "route_latency": f"sum by (le, rt_route, dst, namespace, {owners}) "
        f'(increase(route_response_latency_ms_bucket{{direction="inbound"}}[{window}]))',
        **{
            family: f"sum by ({by}) "
            f"(increase(outbound_{family}_route_request_duration_seconds_bucket[{window}]))"
            for family in ("http", "grpc")
        },
    }


@pytest.mark.e2e
def test_route_p99s_from_prometheus_are_those_of_the_buckets(demo_mesh, demo_prometheus):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    at = covered_instant(demo_prometheus.url)
    client = PrometheusClient(demo_prometheus.url)
    expected, got = {}, {}
    for name, promql in reference_route_buckets("1m").items():
        for labels, buckets in _series(client.query(promql, at=at)):
            p99 = metrics.histogram_quantile(0.99, buckets)
            if p99 is not None:
                rest = {k: v for k, v in labels.items() if k != "le"}
                if name != "route_latency":
                    rest["metric"] = name
                expected[tuple(sorted(rest.items()))] = p99
    for build in (service_profile_route_latency_buckets, policy_route_latency_buckets):
        for sample in client.query(build("1m"), at=at):
            got[tuple(sorted(sample.labels.items()))] = sample.value
    assert got == expected
    # The demo's ServiceProfile, HTTPRoute and GRPCRoute routes with requests in the window.
    families = {dict(key).get("metric", "profile") for key in got}
    assert families == {"profile", "http", "grpc"} and len(got) >= 10


def test_kubernetes_bodies_decode_as_json_decoded_them():
    bodies = [
        b'{"kind":"PodList","items":[{"metadata":{"name":"w\\u00e9b-0","labels":{}}}]}',
        # The API (Go's int64) sends no integer past 64 bits, which orjson would read as a float.
        b'{"items":[{"spec":{"replicas":3,"ratio":0.25,"big":9223372036854775807}}]}',
        b'{"a":1e-7,"b":[true,false,null],"c":"\xc3\xa9\\n"}',
    ]
    for body in bodies:
        assert kubernetes._decoded(body) == json.loads(body)
    for garbage in (b"not json", b"\xff\xfe", b""):
        with pytest.raises(ValueError):
            kubernetes._decoded(garbage)
