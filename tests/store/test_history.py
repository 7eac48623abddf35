import dataclasses

import pytest

from meshdash.dashboard.charts import SPARK_POINTS, sparkline_svg
from meshdash.mesh.model import Workload
from meshdash.store import HistoryPoint, SparkPoint, codec
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


def test_it_keeps_values_exactly_and_none_as_none(store):
    store.record_history([one(1234.56789, success_rate=0.987654321, p99=0.000123456789)], T0)
    store.record_history([one(0.0, success_rate=None, p99=float("nan"))], T0 + 60)
    assert store.history("shop", "deployment", "web") == [
        HistoryPoint(
            t=int(T0), success_rate=0.987654321, rps=1234.56789, latency_ms_p99=0.000123456789
        ),
        HistoryPoint(t=int(T0) + 60, success_rate=None, rps=0.0, latency_ms_p99=None),
    ]


def test_a_history_is_a_ring_of_sixty_points_made_whole(store, redis_client):
    store.record_history([one(1.0)], T0)
    (key,) = redis_client.keys("test:hist:*")
    assert redis_client.strlen(key) == HISTORY_MINUTES * codec.HISTORY_POINT.size
    for minute in range(1, 130):
        store.record_history([one(float(minute))], T0 + minute * 60)
    assert redis_client.strlen(key) == HISTORY_MINUTES * codec.HISTORY_POINT.size
    assert [p.rps for p in store.history("shop", "deployment", "web")] == [
        float(m) for m in range(70, 130)
    ]


def test_drops_compare_a_young_workload_with_its_first_point(store):
    web = one(100.0, success_rate=1.0)
    for minute in range(10):
        store.write(snap([web], T0 + minute * 60))
    store.write(snap([dataclasses.replace(web, rps=10.0)], T0 + 10 * 60))
    (drop,) = store.overview("1m").drops
    assert (drop.since, drop.rps_before, drop.fall) == (int(T0), 100.0, pytest.approx(0.9))


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
    (key,) = redis_client.keys("test:hist:*")
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


def test_it_reads_sparklines_as_light_tuples_in_one_round_trip(store, redis_client):
    mesh = synthetic.snapshot(40, seed=5)
    for minute in range(3):
        store.write(dataclasses.replace(mesh, taken_at=T0 + minute * 60))
    keys = [w.key for w in mesh.workloads] + [one(1.0, name="never-seen").key]
    before = redis_client.info("stats")["total_commands_processed"]
    got = store.sparklines(keys)
    assert redis_client.info("stats")["total_commands_processed"] - before == 2  # INFO + MGET
    full = store.histories(keys)
    assert set(got) == set(keys)
    for key in keys:
        assert all(type(point) is SparkPoint for point in got[key])
        assert got[key] == [tuple(vars(point).values()) for point in full[key]]
    assert store.sparklines([]) == {}


@pytest.mark.parametrize("minutes", [1, 15, 16, 17, 31, 32, 33, 60])
def test_sparklines_sample_as_the_sparkline_does(store, minutes):
    for minute in range(minutes):
        rate = None if minute % 7 == 3 else 1 - minute / 100
        store.record_history([one(float(minute), success_rate=rate)], T0 + minute * 60)
    key = one(1.0).key
    (full,) = store.histories([key]).values()
    (sampled,) = store.sparklines([key], SPARK_POINTS).values()
    step = -(-len(full) // SPARK_POINTS)
    assert [p.t for p in sampled] == [p.t for p in full[len(full) - 1 :: -step][::-1]]
    assert len(sampled) <= SPARK_POINTS and sampled[-1].t == full[-1].t
    assert sparkline_svg(sampled) == sparkline_svg(full) != ""
