"""The history in the database: collections write points, roll-ups make the coarse ones,
packing and expiry keep it small, reads give charts, baselines and on-call figures."""

import pytest

from meshdash.history import maintain, read, write
from meshdash.history.models import Chunk, Deploy, Series
from meshdash.mesh.history import DAY
from meshdash.mesh.model import Pod, Snapshot, Workload, WorkloadKey

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000 - 1_800_000_000 % 86400  # midnight UTC
KEY = WorkloadKey("shop", "deployment", "web")


@pytest.fixture(autouse=True)
def fresh_caches():
    write._ids.clear()
    write._rollouts.clear()
    read._drop_cache.clear()


def snapshot(t, *, rps=10.0, success=0.99, p99=100.0, memory=50e6, window="1m", rollout=None):
    workload = Workload(
        "shop",
        "deployment",
        "web",
        meshed_pods=2,
        total_pods=2,
        success_rate=success,
        rps=rps,
        latency_ms_p50=5.0,
        latency_ms_p95=50.0,
        latency_ms_p99=p99,
        tcp_open_connections=4.0,
        last_rollout=rollout,
        health="healthy",
    )
    pods = [
        Pod(
            "shop",
            f"web-abc-{i}",
            workload_kind="deployment",
            workload_name="web",
            has_proxy=True,
            restarts=i,
            proxy_memory_bytes=memory + 1024 * i,
            proxy_cpu_cores=0.01 * (i + 1),
            proxy_cert_expiry=float(T0 + DAY),
        )
        for i in range(2)
    ]
    return Snapshot(window=window, taken_at=float(t), workloads=[workload], pods=pods)


def fill(start, minutes, **kwargs):
    for m in range(minutes):
        write.record(snapshot(start + 60 * m + 5, **kwargs))


def test_it_writes_one_point_per_minute_and_window():
    assert write.record(snapshot(T0 + 5)) == 4  # workload, 2 pods, mesh
    assert write.record(snapshot(T0 + 15)) == 0  # same minute: already written
    assert write.record(snapshot(T0 + 15, window="10m")) == 2  # its own workload and mesh
    series = read.workload_history(KEY, T0, T0 + 60, now=T0 + 70)
    assert series.step == 60
    assert [p.t for p in series.points] == [T0]
    point = series.points[0]
    assert point.rps == pytest.approx(10.0)
    assert point.success_rate == pytest.approx(0.99, abs=2e-5)
    assert point.p99 == pytest.approx(100.0, rel=1e-3)
    assert point.tcp_connections == 4.0


def test_it_reads_gaps_as_missing_points():
    write.record(snapshot(T0 + 5))
    write.record(snapshot(T0 + 185))
    series = read.workload_history(KEY, T0, T0 + 300, now=T0 + 300)
    assert [p.t for p in series.points] == [T0, T0 + 180]


def test_it_rolls_up_weighting_success_by_requests_and_taking_the_largest_p99():
    write.record(snapshot(T0 + 5, rps=90.0, success=1.0, p99=100.0))
    write.record(snapshot(T0 + 65, rps=10.0, success=0.5, p99=900.0))
    maintain.maintain(now=T0 + 400)
    five = read._points(read.WORKLOAD, [_id(KEY)], 1, T0, T0 + 300)[_id(KEY)]
    assert len(five) == 1
    t, success, rps, _p50, _p95, p99, _tcp = five[0]
    assert t == T0
    assert rps == pytest.approx(50.0)
    assert success == pytest.approx((90 * 1.0 + 10 * 0.5) / 100, abs=1e-4)
    assert p99 == pytest.approx(900.0, rel=1e-3)


def _id(key):
    return Series.objects.get(scope="w", window="1m", key=key.id).pk


def test_the_10m_window_keeps_its_own_points():
    write.record(snapshot(T0 + 5, rps=1.0))
    write.record(snapshot(T0 + 5, rps=7.0, window="10m"))
    own = read.workload_history(KEY, T0, T0 + 60, window="10m", now=T0 + 60)
    base = read.workload_history(KEY, T0, T0 + 60, now=T0 + 60)
    assert own.points[0].rps == 7.0
    assert base.points[0].rps == 1.0


def test_packing_keeps_the_points_and_shrinks_them():
    fill(T0, 60, memory=60e6)
    before = {c.pk: len(c.data) for c in Chunk.objects.filter(tier=0)}
    expected = read.workload_history(KEY, T0, T0 + 3600, now=T0 + 3600).points
    maintain.pack(now=T0 + 2 * 3600)
    packed = Chunk.objects.filter(tier=0, packed=True)
    assert packed.count() == len(before)
    pods = read.workload_pods_history(KEY, T0, T0 + 3600, now=T0 + 3600)
    pod_chunk = Chunk.objects.get(tier=0, series__key="shop/web-abc-0")
    assert len(pod_chunk.data) < before[pod_chunk.pk] / 3
    assert read.workload_history(KEY, T0, T0 + 3600, now=T0 + 3600).points == expected
    assert sorted(pods) == ["web-abc-0", "web-abc-1"]
    assert pods["web-abc-1"].points[0].memory_bytes == pytest.approx(60e6 + 1024, abs=512)
    assert pods["web-abc-1"].points[0].restarts == 1
    assert pods["web-abc-1"].points[0].cpu_cores == pytest.approx(0.02, rel=1e-3)


def test_old_points_expire_unless_held():
    fill(T0, 3)
    maintain.expire(now=T0 + 30 * DAY)
    assert not Chunk.objects.filter(tier=0).exists()
    write._ids.clear()  # as a worker's does within the hour
    fill(T0 + 31 * DAY, 3)
    hold = read.hold_range(T0 + 31 * DAY, T0 + 31 * DAY + 600, until=T0 + 90 * DAY)
    maintain.expire(now=T0 + 32 * DAY)
    assert Chunk.objects.filter(tier=0).exists()
    series = read.workload_history(KEY, T0 + 31 * DAY, T0 + 31 * DAY + 600, now=T0 + 32 * DAY)
    assert len(series.points) == 3 and series.step == 60
    read.release_hold(hold)
    maintain.expire(now=T0 + 32 * DAY)
    assert not Chunk.objects.filter(tier=0).exists()


def test_series_without_points_go():
    fill(T0, 1)
    maintain.expire(now=T0 + 60 * DAY)
    assert not Series.objects.exists()


def test_deploy_markers_come_with_the_workloads_points():
    write.record(snapshot(T0 + 5, rollout=T0 - 100.0))
    write.record(snapshot(T0 + 65, rollout=T0 - 100.0))
    write.record(snapshot(T0 + 125, rollout=T0 + 110.0))
    assert Deploy.objects.count() == 2
    series = read.workload_history(KEY, T0 - 600, T0 + 600, now=T0 + 600)
    assert series.deploys == [T0 - 100, T0 + 110]


def test_baselines_compare_with_yesterday_and_a_week_ago():
    now = T0 + 8 * DAY + 12 * 3600
    fill(now - 1200, 20, rps=9.0)
    sid = _id(KEY)
    yesterday = [
        (sid, "w", t, (0.9, 5.0, 1.0, 2.0, 30.0, 1.0))
        for t in range(now - DAY - 1800, now - DAY + 1800, 300)
    ]
    write.append(1, write.tiers()[1], yesterday)
    write.append(
        2,
        write.tiers()[2],
        [(sid, "w", (now - 7 * DAY) // 3600 * 3600, (0.8, 3.0, 1.0, 2.0, 40.0, 1.0))],
    )
    found = read.baselines(KEY, now=now)
    assert found.now.rps == pytest.approx(9.0)
    assert found.yesterday.rps == pytest.approx(5.0)
    assert found.yesterday.p99 == pytest.approx(30.0)
    assert found.week_ago.rps == pytest.approx(3.0)
    assert found.week_ago.success_rate == pytest.approx(0.8, abs=1e-4)
    assert read.baselines(WorkloadKey("shop", "deployment", "nope"), now=now).now is None


def test_roll_ups_catch_up_tier_by_tier():
    fill(T0, 120, rps=4.0)
    for _ in range(30):
        maintain.roll_up(T0 + 3 * 3600)
    sid = _id(KEY)
    five = read._points(read.WORKLOAD, [sid], 1, T0, T0 + 7200)[sid]
    hours = read._points(read.WORKLOAD, [sid], 2, T0, T0 + 7200)[sid]
    assert [p[0] for p in five] == list(range(T0, T0 + 7200, 300))
    assert [p[0] for p in hours] == [T0, T0 + 3600]
    assert hours[0][2] == pytest.approx(4.0)


def test_drop_baselines_say_when_history_is_too_short():
    fill(T0, 5)
    baseline, ready = read.drop_baselines(now=T0 + 600)
    assert (baseline, ready) == ({}, False)


def test_memory_growth_per_pod_and_workload():
    now = T0 + 7 * DAY
    rows = []
    for hour in range(7 * 24):
        t = T0 + hour * 3600
        rows.append(t)
    ids = write.series_ids([("p", "", f"shop/web-abc-{i}", KEY.id) for i in range(2)], T0)
    points = [
        (
            ids["p", "", f"shop/web-abc-{i}"],
            "p",
            t,
            (50e6 + i * 1e6 + (t - T0) / 3600 * 1e4, None, None, 0),
        )
        for i in range(2)
        for t in rows
    ]
    write.append(2, write.tiers()[2], points)
    assert read.memory_growth("shop", "web-abc-0", now=now) == pytest.approx(168 * 1e4, rel=1e-3)
    assert read.workload_memory_growth(KEY, now=now) == pytest.approx(168 * 1e4, rel=1e-3)


def test_cert_expiry_history_lists_renewals():
    write.record(snapshot(T0 + 5))
    later = snapshot(T0 + 65)
    for pod in later.pods:
        pod.proxy_cert_expiry = float(T0 + 2 * DAY)
    write.record(later)
    assert read.cert_expiry_history("shop", "web-abc-0", T0, T0 + 120, now=T0 + 120) == [
        (T0, T0 + DAY),
        (T0 + 60, T0 + 2 * DAY),
    ]


def test_the_overviews_drops_compare_with_the_same_hour_yesterday(settings):
    from meshdash.history import collection

    now = T0 + 3 * DAY + 1800
    sid = write.series_ids([("w", "1m", KEY.id, "")], T0)["w", "1m", KEY.id]
    yesterday = (now - DAY) // 3600 * 3600
    write.append(2, write.tiers()[2], [(sid, "w", yesterday, (1.0, 10.0, 1.0, 2.0, 3.0, 1.0))])
    overview = collection.overview(snapshot(now, rps=10.0, success=0.5))
    assert [(d.workload.name, d.since, d.success_rate_before) for d in overview.drops] == [
        ("web", yesterday, 1.0)
    ]
    assert overview.drops_note == ""
    assert overview.drops_baseline == collection.BASELINE
    settings.MESHDASH_HISTORY_DROP_MIN_RPS = 20.0
    read._drop_cache.clear()
    assert collection.overview(snapshot(now, rps=10.0, success=0.5)).drops == []
