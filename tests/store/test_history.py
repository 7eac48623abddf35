import dataclasses

import pytest

from meshdash.mesh.model import Workload
from meshdash.store import HistoryPoint
from meshdash.store.store import HISTORY_MINUTES
from tests.store import synthetic

T0 = 1_700_000_040.0  # a minute boundary


def one(rps, success_rate=1.0, p99=12.5, name="web"):
    return Workload(
        "shop",
        "deployment",
        name,
        meshed_pods=1,
        total_pods=1,
        rps=rps,
        success_rate=success_rate,
        latency_ms_p99=p99,
        health="healthy",
    )


def snap(workloads, taken_at, window="1m"):
    from meshdash.mesh.model import Snapshot

    return Snapshot(window=window, taken_at=taken_at, workloads=workloads)


def test_it_records_one_point_per_minute_and_replaces_within_the_minute(store):
    store.write(snap([one(10.0)], T0 + 5))
    store.write(snap([one(20.0, success_rate=0.5)], T0 + 50))  # same minute: replaces
    store.write(snap([one(30.0, success_rate=None, p99=None)], T0 + 61))  # next minute
    assert store.history("shop", "deployment", "web") == [
        HistoryPoint(t=int(T0), success_rate=0.5, rps=20.0, latency_ms_p99=12.5),
        HistoryPoint(t=int(T0) + 60, success_rate=None, rps=30.0, latency_ms_p99=None),
    ]


def test_it_keeps_the_last_sixty_minutes(store):
    for minute in range(75):
        store.record_history([one(float(minute))], T0 + minute * 60 + 7)
    points = store.history("shop", "deployment", "web")
    assert len(points) == HISTORY_MINUTES == 60
    assert [p.t for p in points] == [int(T0) + m * 60 for m in range(15, 75)]
    assert [p.rps for p in points] == [float(m) for m in range(15, 75)]


def test_a_gap_longer_than_the_hour_forgets_everything_before(store):
    store.record_history([one(1.0)], T0)
    store.record_history([one(2.0)], T0 + 60)
    store.record_history([one(3.0)], T0 + 60 * 60)  # minute 60 keeps minutes 1..60
    assert [p.rps for p in store.history("shop", "deployment", "web")] == [2.0, 3.0]
    store.record_history([one(4.0)], T0 + 200 * 60)
    assert [p.rps for p in store.history("shop", "deployment", "web")] == [4.0]


def test_it_keeps_six_significant_digits(store):
    store.record_history([one(1234.56789, success_rate=0.987654321, p99=0.000123456789)], T0)
    (point,) = store.history("shop", "deployment", "web")
    assert point.rps == pytest.approx(1234.57, abs=1e-9)
    assert point.success_rate == pytest.approx(0.987654, abs=1e-12)
    assert point.latency_ms_p99 == pytest.approx(0.000123457, rel=1e-9)


def test_only_the_one_minute_window_records_history(store):
    store.write(snap([one(10.0)], T0, window="10m"))
    store.write(snap([one(10.0)], T0, window="1h"))
    assert store.history("shop", "deployment", "web") == []


def test_it_reads_many_histories_at_once(store, redis_client):
    mesh = synthetic.snapshot(40, seed=5)
    for minute in range(3):
        store.write(dataclasses.replace(mesh, taken_at=T0 + minute * 60))
    keys = [w.key for w in mesh.workloads] + [one(1.0, name="never-seen").key]
    before = redis_client.info("stats")["total_commands_processed"]
    got = store.histories(keys)
    assert redis_client.info("stats")["total_commands_processed"] - before == 2  # INFO + MGET
    assert set(got) == set(keys)
    assert got[keys[-1]] == []
    for workload in mesh.workloads:
        assert [p.t for p in got[workload.key]] == [int(T0), int(T0) + 60, int(T0) + 120]
        assert got[workload.key] == store.history(workload.namespace, workload.kind, workload.name)
    assert store.histories([]) == {}


def test_history_expires_for_workloads_that_went_away(store, redis_client):
    store.record_history([one(1.0)], T0)
    (key,) = redis_client.keys("test:h:*")
    assert 60 * 60 * 1000 < redis_client.pttl(key) <= 61 * 60 * 1000


def test_the_overview_shows_drops_against_an_hour_ago(store):
    steady = one(100.0, success_rate=1.0, name="steady")
    failing = one(100.0, success_rate=1.0, name="failing")
    quieter = one(100.0, success_rate=1.0, name="quieter")
    store.write(snap([steady, failing, quieter], T0))
    for minute in range(1, 59):
        store.write(snap([steady, failing, quieter], T0 + minute * 60))
    later = [
        steady,
        dataclasses.replace(failing, success_rate=0.9, health="critical"),
        dataclasses.replace(quieter, rps=40.0),
    ]
    store.write(snap(later, T0 + 59 * 60))
    drops = store.overview("1m").drops
    assert [(d.workload.name, d.since) for d in drops] == [
        ("failing", int(T0)),
        ("quieter", int(T0)),
    ]
    assert drops[0].success_rate_before == 1.0
    assert drops[1].rps_before == 100.0
    assert drops[0].fall == pytest.approx(1.0)
    assert drops[1].fall == pytest.approx(0.6)
    # Other windows compare against the same 1m history.
    store.write(snap(later, T0 + 59 * 60, window="10m"))
    assert [d.workload.name for d in store.overview("10m").drops] == ["failing", "quieter"]
