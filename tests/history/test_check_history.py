"""What the on-call checks read of the history: every pod's week in two queries
(``read.recent_pods``), kept per process for MESHDASH_CHECKS_HISTORY_MINUTES
(``collection.check_history``), and the demo's seeded weeks that make memory.growth fire."""

import statistics

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meshdash.demo import history as demo_history
from meshdash.demo.model import LEAF_LIFETIME_SECONDS, build_mesh
from meshdash.history import collection, read, write
from meshdash.history.models import Chunk
from meshdash.mesh.checks import CheckThresholds, run_checks
from meshdash.mesh.history import DAY, WEEK, changes
from meshdash.mesh.model import Snapshot, WorkloadKey

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000 - 1_800_000_000 % 86400  # midnight UTC
NOW = T0 + 8 * DAY
MIB = 2**20


def hourly_pods(
    count: int, *, hours: int = 8 * 24, slope_per_hour=None, owner="shop/deployment/web"
):
    """``count`` pods of ``owner`` with a point an hour at the coarsest tier up to NOW, pod i's
    memory growing ``slope_per_hour(i)`` bytes an hour from 20 MiB; leaves renewed daily."""
    slope_per_hour = slope_per_hour or (lambda i: 0.0)
    namespace = owner.split("/")[0]
    keys = [("p", "", f"{namespace}/pod-{i}", owner) for i in range(count)]
    ids = write.series_ids(keys, T0)
    index = len(write.tiers()) - 1
    tier = write.tiers()[index]
    points = []
    for i in range(count):
        for hour in range(hours):
            t = NOW - (hours - hour) * 3600
            memory = 20 * MIB + slope_per_hour(i) * hour
            expiry = (t // DAY + 1) * DAY + DAY  # renewed once a day
            points.append((ids["p", "", f"{namespace}/pod-{i}"], "p", t, (memory, 0.01, expiry, i)))
    write.append(index, tier, points)
    return ids


def test_recent_pods_reads_every_pods_week_in_two_queries():
    hourly_pods(30, slope_per_hour=lambda i: 1000.0 * i)
    with CaptureQueriesContext(connection) as queries:
        found = list(read.recent_pods(7, max_pods=1000, now=NOW))
    assert len(queries) == 2
    assert len(found) == 30
    by_pod = {s.pod: s for s in found}
    pod = by_pod["pod-7"]
    assert pod.namespace == "shop"
    assert pod.owner == WorkloadKey("shop", "deployment", "web")
    points = [read.PodPoint(*p) for p in pod.points]
    times = [p.t for p in points]
    assert times == sorted(times)
    # The week before NOW, hour by hour, and nothing older.
    assert times[0] >= NOW - 7 * DAY and times[-1] == NOW - 3600
    assert len(times) == 7 * 24
    first, last = points[0], points[-1]
    hours = (last.t - first.t) / 3600
    assert last.memory_bytes - first.memory_bytes == pytest.approx(7000.0 * hours, abs=2048)
    assert last.restarts == 7


def test_recent_pods_keeps_the_newest_pods_within_its_bound():
    hourly_pods(12)
    found = list(read.recent_pods(7, max_pods=5, now=NOW))
    assert {s.pod for s in found} == {f"pod-{i}" for i in range(7, 12)}
    assert list(read.recent_pods(7, max_pods=0, now=NOW)) == []


def test_recent_pods_leaves_out_pods_without_points_in_the_week():
    hourly_pods(3, hours=24)  # the last day only
    write.series_ids([("p", "", "shop/gone", "")], T0)
    old = write.series_ids([("p", "", "shop/old", "")], T0)
    tier = write.tiers()[-1]
    write.append(
        len(write.tiers()) - 1, tier, [(old["p", "", "shop/old"], "p", T0, (1e6, 0, 0, 0))]
    )
    found = {s.pod: s for s in read.recent_pods(7, max_pods=100, now=NOW)}
    assert sorted(found) == ["pod-0", "pod-1", "pod-2"]
    assert len(found["pod-0"].points) == 24


def test_check_history_is_read_once_per_interval(settings):
    settings.MESHDASH_CHECKS_HISTORY_MINUTES = 10
    hourly_pods(4, slope_per_hour=lambda i: 2 * MIB / 168)  # 2 MiB a week each
    collection.forget_check_history()
    with CaptureQueriesContext(connection) as queries:
        first = collection.check_history(NOW)
        again = collection.check_history(NOW + 10)
    assert len(queries) == 2 and again is first
    assert sorted(p.pod for p in first.pods) == [f"pod-{i}" for i in range(4)]
    pod = first.pods[0]
    assert (pod.workload_kind, pod.workload_name) == ("deployment", "web")
    assert len(pod.memory) == 7 * 24
    # Of the leaf's expiry only its renewals are kept: one a day.
    assert len(pod.cert_expiry) in (7, 8)
    assert [e for _, e in pod.cert_expiry] == sorted(e for _, e in pod.cert_expiry)

    settings.MESHDASH_CHECKS_HISTORY_MINUTES = 0  # rebuilt at each collection
    with CaptureQueriesContext(connection) as queries:
        rebuilt = collection.check_history(NOW)
    assert len(queries) == 2 and rebuilt is not first

    # What the checks make of it: every pod grows 2 MiB a week.
    snapshot = Snapshot(window="1m", taken_at=float(NOW))
    finding = next(
        f for f in run_checks(snapshot, CheckThresholds(), rebuilt) if f.check == "memory.growth"
    )
    assert finding.subject[0].name == "web"
    assert "2.0 MiB a week" in finding.summary


def test_check_history_is_none_when_the_history_cannot_be_read(monkeypatch):
    collection.forget_check_history()

    def broken(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(read, "recent_pods", broken)
    assert collection.check_history(NOW) is None


def test_renewals_are_the_changes_of_points_in_order():
    points = [(0, None), (60, 1e9), (120, 1e9 + 0.3), (180, None), (240, 1e9 + 60480), (300, 1e9)]
    assert collection.renewals(points) == changes(points)
    assert collection.renewals(points) == [(60, 1e9), (240, 1e9 + 60480), (300, 1e9)]


def test_pairs_keep_missing_values_as_none():
    pairs = collection.Pairs([1.0, 2.0, 3.0], [5.0, None, 7.5])
    assert list(pairs) == [(1.0, 5.0), (2.0, None), (3.0, 7.5)]
    assert len(pairs) == 3 and pairs[-1] == (3.0, 7.5) and pairs[1] == (2.0, None)
    assert pairs[:2] == [(1.0, 5.0), (2.0, None)]


# --- The demo's seeded history.


@pytest.fixture(scope="module")
def mesh():
    return build_mesh(150, seed=1, epoch=float(T0))


def test_the_demo_seeds_its_pods_weeks_and_memory_growth_fires(mesh):
    now = T0 + 6 * 3600
    written = demo_history.seed_history(mesh, days=14, now=now)
    assert written > 0
    proxied = [(w, p) for w in mesh.all_workloads for p in w.pods if p.exports_metrics]
    history = collection.CheckHistory(
        [collection.pod_history(s) for s in read.recent_pods(7, max_pods=10_000, now=now)]
    )
    seeded_pods = {(h.namespace, h.pod) for h in history.pods}
    assert seeded_pods <= {(p.namespace, p.name) for _, p in proxied}
    assert seeded_pods >= {(p.namespace, p.name) for _, p in proxied if p.started_at < now - 7200}
    by_pod = {(h.namespace, h.pod): h for h in history.pods}
    # The model's memory, at each bucket's middle; nothing before the pod started.
    w, pod = next((w, p) for w, p in proxied if p.memory_slope and p.started_at < now - 2 * DAY)
    seeded = by_pod[pod.namespace, pod.name]
    assert (seeded.workload_kind, seeded.workload_name) == (w.kind, w.name)
    for t, memory in seeded.memory:
        assert t >= pod.started_at - 3600
        assert memory == pytest.approx(pod.proxy_memory(t + 1800), abs=1024)
    # Leaves renewed every 16.8 h, up to the one the model has at the epoch and after it.
    renewals = [e for _, e in seeded.cert_expiry]
    assert any(abs(e - pod.cert_expiry) <= 1 for e in renewals)
    assert renewals[-1] == pytest.approx(pod.leaf(seeded.cert_expiry[-1][0] + 1800)[1], abs=1)
    assert all(b - a == pytest.approx(0.7 * DAY, abs=1) for a, b in zip(renewals, renewals[1:]))

    # The workloads whose pods (those with a day of points) grow a MiB a week or more, by the
    # median of their pods' slopes in the model.
    slopes: dict[tuple[str, str], list[float]] = {}
    for w, p in proxied:
        if (
            len(by_pod.get((p.namespace, p.name), collection.PodHistory("", "", "", "")).memory)
            >= 24
        ):
            slopes.setdefault((w.kind, w.name), []).append(p.memory_slope * WEEK)
    creeping = {key for key, values in slopes.items() if statistics.median(values) >= MIB}
    assert creeping
    snapshot = Snapshot(window="1m", taken_at=float(now))
    grown = {
        (f.subject[0].kind, f.subject[0].name)
        for f in run_checks(snapshot, CheckThresholds(), history)
        if f.check == "memory.growth"
    }
    assert creeping <= grown
    flat = {(w.kind, w.name) for w, p in proxied} - {
        (w.kind, w.name) for w, p in proxied if p.memory_slope
    }
    assert not grown & flat


def test_seeding_again_writes_only_what_came_since(mesh):
    now = T0 + 6 * 3600
    first = demo_history.seed_history(mesh, days=3, now=now)
    rows = Chunk.objects.count()
    sizes = sum(len(c.data) for c in Chunk.objects.all())
    assert demo_history.seed_history(mesh, days=3, now=now) == 0
    assert sum(len(c.data) for c in Chunk.objects.all()) == sizes
    later = demo_history.seed_history(mesh, days=3, now=now + 2 * 3600)
    assert 0 < later < first / 10
    assert Chunk.objects.count() >= rows


def test_the_leaf_held_before_the_current_one():
    pod = build_mesh(8, seed=1, epoch=float(T0)).workloads[0].pods[0]
    issued = pod.cert_expiry - LEAF_LIFETIME_SECONDS
    assert demo_history.leaf_expiry(pod, issued + 1) == pod.cert_expiry
    assert demo_history.leaf_expiry(pod, issued - 1) == pod.cert_expiry - 0.7 * DAY
    assert demo_history.leaf_expiry(pod, issued - 0.7 * DAY - 1) == pod.cert_expiry - 1.4 * DAY


def test_the_coarsest_tier_alone_when_asked(mesh):
    now = T0 + 6 * 3600
    demo_history.seed_history(mesh, days=3, now=now, coarsest_only=True)
    coarsest = len(write.tiers()) - 1
    assert set(Chunk.objects.values_list("tier", flat=True)) == {coarsest}


def test_the_command_seeds_the_running_demos_mesh(tmp_path):
    from django.core.management import CommandError, call_command

    from meshdash.demo.runner import write_mesh_arguments

    mesh = build_mesh(20, seed=1)  # built around today, as a running demo's

    with pytest.raises(CommandError, match="no mesh.json"):
        call_command("demo_history", mesh_dir=str(tmp_path))
    write_mesh_arguments(tmp_path / "mesh.json", mesh)
    with pytest.raises(CommandError, match="--days"):
        call_command("demo_history", mesh_dir=str(tmp_path), days=0)
    call_command("demo_history", mesh_dir=str(tmp_path), days=2)
    assert Chunk.objects.filter(tier__gt=0).exists()
    assert not Chunk.objects.filter(tier=0).exists()  # the collections' own
