import pytest

from meshdash.mesh.model import Workload
from meshdash.store import HistoryPoint
from meshdash.store.overview import attention, drop_of, drops, totals


def w(name, health="healthy", **fields):
    return Workload("shop", "deployment", name, health=health, **fields)


def test_totals_weigh_success_by_request_rate():
    got = totals(
        [
            w("a", rps=90.0, success_rate=1.0, meshed_pods=2, total_pods=2),
            w("b", rps=10.0, success_rate=0.5, meshed_pods=0, total_pods=3, health="not-meshed"),
            w("c", rps=0.0, success_rate=None, meshed_pods=1, total_pods=1, health="no-traffic"),
        ]
    )
    assert got.workloads == 3
    assert got.meshed_workloads == 2
    assert got.meshed_workload_share == pytest.approx(2 / 3)
    assert (got.meshed_pods, got.total_pods, got.meshed_pod_share) == (3, 6, 0.5)
    assert got.rps == 100.0
    assert got.success_rate == pytest.approx(0.95)
    assert got.health_counts == {"healthy": 1, "not-meshed": 1, "no-traffic": 1}


def test_totals_of_nothing():
    got = totals([])
    assert (got.workloads, got.success_rate, got.meshed_pod_share) == (0, None, None)


def test_attention_lists_the_worst_first():
    items = [
        w("fine", rps=5, success_rate=1.0),
        w("slow", "warning", rps=5, success_rate=0.999, latency_ms_p99=3000.0),
        w("slower", "warning", rps=5, success_rate=0.999, latency_ms_p99=9000.0),
        w("erroring", "warning", rps=5, success_rate=0.98),
        w("down", "critical", rps=5, success_rate=0.2),
        w("worse", "critical", rps=5, success_rate=0.1),
        w("bare", "not-meshed"),
        w("idle", "no-traffic"),
    ]
    assert [x.name for x in attention(items)] == [
        "worse",
        "down",
        "erroring",
        "slower",
        "slow",
        "bare",
    ]
    many = [w(f"c{i:02}", "critical", success_rate=i / 100) for i in range(30)]
    assert [x.name for x in attention(many)] == [f"c{i:02}" for i in range(10)]


def test_a_drop_weighs_success_ten_times_traffic():
    before = HistoryPoint(t=0, success_rate=1.0, rps=100.0, latency_ms_p99=5.0)
    assert drop_of(w("a", rps=100.0, success_rate=0.97), before) == pytest.approx(0.3)
    assert drop_of(w("a", rps=50.0, success_rate=1.0), before) == pytest.approx(0.5)
    assert drop_of(w("a", rps=150.0, success_rate=1.0), before) == 0.0
    assert drop_of(w("a", rps=0.0, success_rate=None), before) == 1.0


def test_drops_skip_workloads_without_an_older_point():
    a, b, c = w("a", rps=10.0), w("b", rps=10.0), w("c", rps=1.0)
    old = {
        a.key: HistoryPoint(t=60, success_rate=None, rps=20.0, latency_ms_p99=None),
        b.key: HistoryPoint(t=120, success_rate=None, rps=20.0, latency_ms_p99=None),
        c.key: HistoryPoint(t=60, success_rate=None, rps=10.0, latency_ms_p99=None),
    }
    got = drops([a, b, c], old, now_minute_t=120)
    assert [(d.workload.name, d.fall) for d in got] == [("c", pytest.approx(0.9)), ("a", 0.5)]
