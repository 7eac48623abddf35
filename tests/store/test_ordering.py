import math

from meshdash.mesh.model import Workload
from meshdash.mesh.query import SORT_KEYS
from meshdash.store.ordering import order, sort_value, sort_values


def w(name, namespace="a", kind="deployment", **fields):
    return Workload(namespace, kind, name, **fields)


def test_it_puts_missing_values_last_both_ways():
    items = [
        w("x", success_rate=None),
        w("y", success_rate=0.5),
        w("z", success_rate=float("nan")),
        w("v", success_rate=0.9),
    ]
    assert order(items, "success_rate", False) == [1, 3, 0, 2]
    assert order(items, "success_rate", True) == [3, 1, 0, 2]


def test_it_breaks_ties_by_namespace_kind_and_name_in_both_directions():
    items = [
        w("b", rps=1.0),
        w("a", namespace="b", rps=1.0),
        w("a", kind="daemonset", rps=1.0),
        w("a", rps=1.0),
        w("c", rps=2.0),
    ]
    assert order(items, "rps", False) == [2, 3, 0, 1, 4]
    assert order(items, "rps", True) == [4, 2, 3, 0, 1]


def test_health_sorts_worst_first_ascending_and_unknown_last():
    items = [
        w("a", health="healthy"),
        w("b", health="critical"),
        w("c", health=""),
        w("d", health="warning"),
    ]
    assert order(items, "health", False) == [1, 3, 0, 2]
    assert order(items, "health", True) == [0, 3, 1, 2]
    assert sort_value(items[2], "health") is None


def test_it_reads_the_attribute_behind_each_key():
    item = w("a", meshed_pods=3, latency_ms_p95=7.0, tcp_open_connections=4.0)
    assert (sort_value(item, "meshed"), sort_value(item, "p95"), sort_value(item, "tcp")) == (
        3,
        7.0,
        4.0,
    )
    assert sort_value(w("a", latency_ms_p50=math.nan), "p50") is None


def test_sort_values_read_what_sort_value_reads(mesh):
    items = [*mesh.workloads, w("n", latency_ms_p99=math.nan, success_rate=math.nan)]
    for key in SORT_KEYS:
        assert sort_values(items, key) == [sort_value(item, key) for item in items], key
    assert sort_values(items, "p99")[-1] is None
