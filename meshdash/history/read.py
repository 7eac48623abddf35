"""Reading the history: what charts, baselines and on-call checks ask, as plain values.

Every time is unix seconds. A read picks one tier, the finest that still covers the start of
the range (``Series.step``); buckets without a point are simply absent, so a chart draws them
as gaps. A chart's read costs two small queries and the decoding of its chunks: about 30 for
30 days of one workload.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from meshdash.history.models import Chunk, Hold, State
from meshdash.history.models import Series as SeriesRow
from meshdash.history.packing import LAYOUTS
from meshdash.history.write import BASE_WINDOW, tiers
from meshdash.mesh import history as maths
from meshdash.mesh.history import DAY, MESH, POD, WEEK, WORKLOAD, Scope, Tier
from meshdash.mesh.model import HistoryPoint, WorkloadKey

MAX_PODS = 50
# Baselines aggregate the hour around their time.
BASELINE_HALF_WIDTH = 1800


@dataclass(frozen=True)
class WorkloadPoint:
    t: int
    success_rate: float | None
    rps: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    tcp_connections: float | None


@dataclass(frozen=True)
class PodPoint:
    t: int
    memory_bytes: float | None
    cpu_cores: float | None
    cert_expiry: float | None
    restarts: float | None


@dataclass(frozen=True)
class MeshPoint:
    t: int
    workloads: float | None
    meshed_pods: float | None
    total_pods: float | None
    rps: float | None
    success_rate: float | None
    critical: float | None
    warning: float | None


_POINT = {WORKLOAD.code: WorkloadPoint, POD.code: PodPoint, MESH.code: MeshPoint}


@dataclass
class Series:
    start: int
    end: int
    step: int  # seconds between points: the resolution read
    points: list = field(default_factory=list)  # oldest first; a missing bucket is a gap
    deploys: list[float] = field(default_factory=list)  # rollouts within the range


@dataclass(frozen=True)
class Baselines:
    now: WorkloadPoint | None
    yesterday: WorkloadPoint | None
    week_ago: WorkloadPoint | None


@dataclass(frozen=True)
class BackfillStatus:
    state: str = "none"  # none, queued, running, done, failed
    done: int = 0
    total: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    message: str = ""


# --- Series lookups.


# A chart's read is a few small queries: in plain SQL, the ORM's compiling them would cost more
# than running them. Double quotes name a column in SQLite and PostgreSQL alike.
_SERIES_SQL = 'SELECT id FROM history_series WHERE scope = %s AND "window" = %s AND "key" = %s'
_FIRSTS_SQL = "SELECT tier, MIN(start) FROM history_chunk WHERE series_id IN ({ids}) GROUP BY tier"
_CHUNKS_SQL = (
    "SELECT series_id, start, packed, data FROM history_chunk "
    "WHERE series_id IN ({ids}) AND tier = %s AND start > %s AND start <= %s"
)
_DEPLOYS_SQL = (
    "SELECT at FROM history_deploy WHERE workload = %s AND at >= %s AND at <= %s ORDER BY at"
)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _series_id(scope: str, window: str, key: str) -> int | None:
    found = _rows(_SERIES_SQL, [scope, window, key])
    return found[0][0] if found else None


def _chunks(series_ids, index: int, tier: Tier, start: int, end: int) -> list[tuple]:
    ids = [i for i in series_ids if i is not None]
    if not ids:
        return []
    sql = _CHUNKS_SQL.format(ids=", ".join(["%s"] * len(ids)))
    return _rows(sql, [*ids, index, start - tier.chunk, end])


def _points(scope: Scope, series_ids, index: int, start: int, end: int) -> dict[int, list]:
    """series id -> its points ``(t, values...)`` of tier ``index`` in [start, end]."""
    tier = tiers()[index]
    layout = LAYOUTS[scope.code]
    found: dict[int, list] = {}
    for series_id, chunk_start, packed, data in _chunks(series_ids, index, tier, start, end):
        bucket = found.setdefault(series_id, [])
        for slot, values in layout.decode(data, packed, tier.slots).items():
            t = chunk_start + slot * tier.step
            if start <= t <= end:
                bucket.append((t, *values))
    for points in found.values():
        points.sort(key=lambda p: p[0])
    return found


def _tier_index(series_ids: list[int], start: int, now: float, levels=None) -> int:
    """The finest tier that keeps points as old as ``start`` and has some that old; else the
    one holding the oldest points (a fresh install's backfilled coarse tiers, a held range)."""
    levels = levels or tiers()
    sql = _FIRSTS_SQL.format(ids=", ".join(["%s"] * len(series_ids)))
    firsts = dict(_rows(sql, list(series_ids)))
    for index, tier in enumerate(levels):
        if now - start <= tier.keep and index in firsts and firsts[index] <= start:
            return index
    if not firsts:
        return maths.tier_index(levels, start, now)
    return min(firsts, key=lambda index: (firsts[index], index))


def _read(scope: Scope, series_id: int | None, start: int, end: int, now: float) -> Series:
    if series_id is None:
        index = maths.tier_index(tiers(), start, now)
        return Series(start, end, tiers()[index].step)
    index = _tier_index([series_id], start, now)
    points = _points(scope, [series_id], index, start, end).get(series_id, [])
    make = _POINT[scope.code]
    return Series(start, end, tiers()[index].step, [make(*p) for p in points])


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _own_window_covers(window: str, start: int, now: float) -> bool:
    return window != BASE_WINDOW and now - start <= tiers()[0].keep


# --- What pages read.


def workload_history(
    key: WorkloadKey, start: int, end: int, *, window: str = BASE_WINDOW, now: float | None = None
) -> Series:
    """A workload's points in [start, end], with its rollouts. The 10m and 1h windows read
    their own points while the finest tier covers the range, the base window's otherwise."""
    now = _now(now)
    if _own_window_covers(window, start, now):
        series_id = _series_id(WORKLOAD.code, window, key.id)
        found = _points(WORKLOAD, [series_id], 0, start, end).get(series_id, [])
        step = max(tiers()[0].step, settings.MESHDASH_WINDOWS.get(window, 0))
        series = Series(start, end, step, [WorkloadPoint(*p) for p in found])
    else:
        series = _read(WORKLOAD, _series_id(WORKLOAD.code, BASE_WINDOW, key.id), start, end, now)
    series.deploys = deploys(key, start, end)
    return series


def pod_history(
    namespace: str, pod: str, start: int, end: int, *, now: float | None = None
) -> Series:
    return _read(POD, _series_id(POD.code, "", f"{namespace}/{pod}"), start, end, _now(now))


def workload_pods_history(
    key: WorkloadKey, start: int, end: int, *, now: float | None = None
) -> dict[str, Series]:
    """Pod name -> its series, for the workload's pods with points in the range (the newest
    MAX_PODS of them)."""
    now = _now(now)
    rows = list(
        SeriesRow.objects.filter(scope=POD.code, owner=key.id)
        .order_by("-id")
        .values_list("id", "key")[: MAX_PODS * 4]
    )
    if not rows:
        return {}
    index = _tier_index([pk for pk, _ in rows], start, now)
    found = _points(POD, [pk for pk, _ in rows], index, start, end)
    step = tiers()[index].step
    result = {}
    for pk, name in rows:
        if found.get(pk) and len(result) < MAX_PODS:
            result[name.split("/", 1)[1]] = Series(
                start, end, step, [PodPoint(*p) for p in found[pk]]
            )
    return dict(sorted(result.items()))


def mesh_history(
    start: int, end: int, *, window: str = BASE_WINDOW, now: float | None = None
) -> Series:
    now = _now(now)
    if _own_window_covers(window, start, now):
        series_id = _series_id(MESH.code, window, "")
        found = _points(MESH, [series_id], 0, start, end).get(series_id, [])
        step = max(tiers()[0].step, settings.MESHDASH_WINDOWS.get(window, 0))
        return Series(start, end, step, [MeshPoint(*p) for p in found])
    return _read(MESH, _series_id(MESH.code, BASE_WINDOW, ""), start, end, now)


def deploys(key: WorkloadKey, start: int, end: int) -> list[float]:
    """The workload's rollout times in [start, end], oldest first."""
    return [at for (at,) in _rows(_DEPLOYS_SQL, [key.id, start, end])]


# --- Baselines.


def _around(series_id: int, at: float, now: float) -> WorkloadPoint | None:
    """The request-weighted aggregate of the hour around ``at``, from the finest tier that
    has points there."""
    start, end = int(at - BASELINE_HALF_WIDTH), int(at + BASELINE_HALF_WIDTH)
    for index, tier in enumerate(tiers()):
        if now - start > tier.keep + tier.chunk:
            continue
        points = _points(WORKLOAD, [series_id], index, start, end).get(series_id)
        if points:
            return WorkloadPoint(*maths.aggregate(WORKLOAD, int(at), points))
    return None


def baselines(
    key: WorkloadKey, now: float | None = None, *, window: str = BASE_WINDOW
) -> Baselines:
    """The workload now (the last hour), the same time yesterday and a week ago: each the
    request-weighted aggregate of an hour (``meshdash.mesh.history.aggregate``), None where
    the history has nothing. Every window compares against the base window's points: over an
    hour the rate is the same rate whichever window sampled it."""
    now = _now(now)
    series_id = _series_id(WORKLOAD.code, BASE_WINDOW, key.id)
    if series_id is None:
        return Baselines(None, None, None)
    recent = _points(WORKLOAD, [series_id], 0, int(now - 3600), int(now)).get(series_id)
    return Baselines(
        now=WorkloadPoint(*maths.aggregate(WORKLOAD, int(now), recent)) if recent else None,
        yesterday=_around(series_id, now - DAY, now),
        week_ago=_around(series_id, now - WEEK, now),
    )


# The drops' baselines per (hour bucket), per process: they change once an hour.
_drop_cache: dict[int, tuple[dict[WorkloadKey, HistoryPoint], bool]] = {}


def drop_baselines(now: float | None = None) -> tuple[dict[WorkloadKey, HistoryPoint], bool]:
    """Every workload's point of the same hour yesterday (from the coarsest tier), and whether
    the history reaches back that far at all (False: "not enough history yet")."""
    now = _now(now)
    levels = tiers()
    index = len(levels) - 1
    tier = levels[index]
    t = tier.bucket(now - DAY)
    cached = _drop_cache.get(t)
    if cached is not None:
        return cached
    ready = Chunk.objects.filter(
        tier=index, start__lte=t, series__scope=WORKLOAD.code, series__window=BASE_WINDOW
    ).exists()
    found: dict[WorkloadKey, HistoryPoint] = {}
    if ready:
        rows = Chunk.objects.filter(
            tier=index,
            start=tier.chunk_start(t),
            series__scope=WORKLOAD.code,
            series__window=BASE_WINDOW,
        ).values_list("series__key", "packed", "data")
        slot = (t - tier.chunk_start(t)) // tier.step
        layout = LAYOUTS[WORKLOAD.code]
        for key, packed, data in rows.iterator(chunk_size=1000):
            values = layout.decode(data, packed, tier.slots).get(slot)
            if values is not None:
                namespace, kind, name = key.split("/", 2)
                found[WorkloadKey(namespace, kind, name)] = HistoryPoint(
                    t, values[0], values[1], values[4]
                )
    _drop_cache.clear()
    _drop_cache[t] = (found, ready)
    return found, ready


# --- On-call checks.


def memory_growth(
    namespace: str, pod: str, *, days: int = 7, now: float | None = None
) -> float | None:
    """A pod's proxy memory growth, bytes per week, from the coarsest tier's points of the
    last ``days`` days (None with fewer than two)."""
    now = _now(now)
    series_id = _series_id(POD.code, "", f"{namespace}/{pod}")
    if series_id is None:
        return None
    index = len(tiers()) - 1
    points = _points(POD, [series_id], index, int(now - days * DAY), int(now)).get(series_id, [])
    return maths.growth_per_week((p[0], p[1]) for p in points)


def workload_memory_growth(
    key: WorkloadKey, *, days: int = 7, now: float | None = None, min_points: int = 24
) -> float | None:
    """A workload's proxy memory growth, bytes per week: the median of its pods' slopes
    (``meshdash.mesh.history.workload_growth_per_week``)."""
    now = _now(now)
    ids = list(SeriesRow.objects.filter(scope=POD.code, owner=key.id).values_list("id", flat=True))
    if not ids:
        return None
    index = len(tiers()) - 1
    found = _points(POD, ids, index, int(now - days * DAY), int(now))
    return maths.workload_growth_per_week(
        [[(p[0], p[1]) for p in points] for points in found.values()], min_points
    )


def cert_expiry_history(
    namespace: str, pod: str, start: int, end: int, *, now: float | None = None
) -> list[tuple[float, float]]:
    """``(t, expiry)`` for the pod's leaf certificate: its first expiry in the range and each
    renewal after it."""
    series = pod_history(namespace, pod, start, end, now=now)
    return maths.changes((p.t, p.cert_expiry) for p in series.points)


# --- Holds and the backfill's progress.


def hold_range(start: int, end: int, until: int) -> int:
    """Keep every point in [start, end] (all tiers) until ``until``, past their retention."""
    return Hold.objects.create(start=int(start), end=int(end), until=int(until)).pk


def release_hold(hold_id: int) -> None:
    Hold.objects.filter(pk=hold_id).delete()


BACKFILL_STATE = "backfill"


def backfill_status() -> BackfillStatus:
    raw = State.objects.filter(name=BACKFILL_STATE).values_list("value", flat=True).first()
    return BackfillStatus(**json.loads(raw)) if raw else BackfillStatus()


# --- Every pod at once, for the on-call checks.


@dataclass(frozen=True)
class PodSeries:
    """One pod's points from ``recent_pods``: its workload (None for a bare pod) and its
    points, oldest first, as plain tuples ``(t, memory_bytes, cpu_cores, cert_expiry,
    restarts)`` (the POD scope's fields: millions of them are read at once, and a tuple costs
    a fifth of a PodPoint to make)."""

    namespace: str
    pod: str
    owner: WorkloadKey | None
    points: list[tuple]


# The newest pod series (the highest ids: made last) with points in the range, then their
# chunks, series by series, in one query: two queries however many pods, each bounded.
_RECENT_PODS_SQL = (
    "SELECT DISTINCT c.series_id FROM history_chunk c JOIN history_series s ON s.id = c.series_id "
    "WHERE s.scope = %s AND c.tier = %s AND c.start > %s AND c.start <= %s "
    "ORDER BY c.series_id DESC LIMIT %s"
)
_RECENT_CHUNKS_SQL = (
    'SELECT c.series_id, s."key", s.owner, c.start, c.packed, c.data FROM history_chunk c '
    "JOIN history_series s ON s.id = c.series_id "
    "WHERE s.scope = %s AND c.tier = %s AND c.start > %s AND c.start <= %s AND c.series_id >= %s "
    "ORDER BY c.series_id DESC, c.start"
)


def recent_pods(
    days: float = 7, *, max_pods: int, tier: int | None = None, now: float | None = None
) -> Iterator[PodSeries]:
    """Every pod's points of the last ``days`` days at one tier (default: the coarsest, which
    keeps weeks), for at most ``max_pods`` pods: those whose series are newest, newest first.
    Two queries and the decoding of the chunks, whatever the number of pods; one pod's points
    in memory at a time (a week of 10,000 pods is millions of points); pods without a point
    in the range are left out."""
    now = _now(now)
    levels = tiers()
    index = len(levels) - 1 if tier is None else tier
    level = levels[index]
    start, end = int(now - days * DAY), int(now)
    if max_pods <= 0:
        return
    params = [POD.code, index, start - level.chunk, end]
    ids = [pk for (pk,) in _rows(_RECENT_PODS_SQL, [*params, max_pods])]
    if not ids:
        return
    layout = LAYOUTS[POD.code]
    current: tuple[int, str, str] | None = None
    points: dict[int, tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_CHUNKS_SQL, [*params, min(ids)])
        while rows := cursor.fetchmany(2000):
            for series_id, key, owner, chunk_start, packed, data in rows:
                if current is None or current[0] != series_id:
                    if current is not None and (series := _pod_series(current, points)):
                        yield series
                    current, points = (series_id, key, owner), {}
                for slot, values in layout.decode(data, packed, level.slots).items():
                    t = chunk_start + slot * level.step
                    if start <= t <= end:
                        points[t] = (t, *values)
    if current is not None and (series := _pod_series(current, points)):
        yield series


def _pod_series(row: tuple[int, str, str], points: dict[int, tuple]) -> PodSeries | None:
    _, key, owner = row
    namespace, _, pod = key.partition("/")
    if not points or not namespace or not pod:
        return None
    parts = owner.split("/", 2)
    workload = WorkloadKey(*parts) if len(parts) == 3 and all(parts) else None
    return PodSeries(namespace, pod, workload, [points[t] for t in sorted(points)])
