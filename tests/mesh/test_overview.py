import dataclasses

import pytest

from meshdash.mesh.model import ControlPlane, HistoryPoint, Namespace, Snapshot, Workload
from meshdash.mesh.overview import (
    OVERVIEW_NAMESPACES,
    Overview,
    drop_of,
    drops,
    summarise,
    totals,
    worst_namespaces,
)


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


def test_drops_leave_out_workloads_below_the_traffic_floor_at_their_baseline():
    a, b = w("a", rps=0.0), w("b", rps=0.0, success_rate=None)
    old = {
        a.key: HistoryPoint(t=60, success_rate=1.0, rps=0.2, latency_ms_p99=None),
        b.key: HistoryPoint(t=60, success_rate=1.0, rps=5.0, latency_ms_p99=None),
    }
    assert [d.workload.name for d in drops([a, b], old, 120)] == ["a", "b"]
    assert [d.workload.name for d in drops([a, b], old, 120, min_rps=0.5)] == ["b"]


def test_the_summary_names_its_baseline_or_why_it_has_none():
    snapshot = Snapshot("1m", taken_at=600.0, workloads=[w("a", rps=1.0)])
    got = summarise(snapshot, {}, 600, baseline="the same hour yesterday", note="not enough")
    assert (got.drops, got.drops_baseline, got.drops_note) == (
        [],
        "the same hour yesterday",
        "not enough",
    )
    assert summarise(snapshot, {}, 600).drops_note == ""


def ns(name, inject="", **fields):
    return Namespace(name, inject, **fields)


def test_namespaces_worst_first_count_critical_then_warning_then_unmeshed_then_traffic():
    namespaces = [
        ns("quiet"),
        ns("busy", rps=50.0),
        ns("unmeshed", health_counts={"not-meshed": 3}),
        ns("warned", health_counts={"warning": 1, "not-meshed": 9}),
        ns("b-down", health_counts={"critical": 1}),
        ns("a-down", health_counts={"critical": 1}),
        ns("worst", health_counts={"critical": 2}, rps=1.0),
    ]
    assert [n.name for n in worst_namespaces(namespaces)] == [
        "worst",
        "a-down",
        "b-down",
        "warned",
        "unmeshed",
        "busy",
        "quiet",
    ]


def test_the_summary_is_bounded_and_counts_everything():
    namespaces = [ns(f"on-{i:03d}", "enabled") for i in range(150)]
    namespaces += [ns(f"bad-{i:02d}", "true") for i in range(12)]
    workloads = [w(f"app-{i:03d}", "critical", success_rate=0.5, rps=1.0) for i in range(20)] + [
        Workload(f"on-{i:03d}", "deployment", "app", health="not-meshed") for i in range(150)
    ]
    snapshot = Snapshot("1m", taken_at=600.0, workloads=workloads, namespaces=namespaces)
    snapshot.control_plane = ControlPlane(version="edge-25.1.1")
    oldest = {x.key: HistoryPoint(60, 1.0, 1.0, None) for x in workloads[:15]}
    got = summarise(snapshot, oldest, now_minute_t=600)
    assert got.totals.workloads == 170
    assert got.totals.health_counts == {"critical": 20, "not-meshed": 150}
    assert len(got.drops) == 10 and got.drops[0].fall == pytest.approx(5.0)
    assert got.namespace_count == 162
    assert len(got.namespaces) == OVERVIEW_NAMESPACES
    assert got.control_plane.version == "edge-25.1.1"
    assert summarise(snapshot, {}, now_minute_t=600).drops == []


def test_the_summary_leaves_what_needs_attention_to_the_checks():
    """Invalid inject values, unmeshed workloads and version skew are the checks' findings,
    stored with the snapshot: the overview blob holds none of them."""
    names = {f.name for f in dataclasses.fields(Overview)}
    assert names == {
        "totals",
        "drops",
        "namespaces",
        "control_plane",
        "namespace_count",
        "drops_baseline",
        "drops_note",
    }
