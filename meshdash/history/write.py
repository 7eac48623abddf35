"""Writing the history: one point per series and minute after each successful collection.

Cost, bounded: a window writes at most once per finest bucket (the first collection of a
minute claims it: ``_claim``), a few multi-row upserts of 500 rows that append a record to
each series' open chunk without reading it (``append``), and series ids from a per-process
cache. What the 1m window writes is kept at every tier (the roll-ups in
``meshdash.history.maintain`` make the coarser points); the 10m and 1h windows keep their own
points at the finest tier only: over a coarse bucket every window's rate is the same rate.
"""

import logging
import time
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction

from meshdash.history.models import Chunk, Deploy, Series, State
from meshdash.history.packing import LAYOUTS
from meshdash.mesh.health import CRITICAL, WARNING
from meshdash.mesh.history import MESH, POD, WORKLOAD, Tier
from meshdash.mesh.model import Snapshot
from meshdash.mesh.overview import totals

log = logging.getLogger(__name__)

# The window whose points make every tier; the others keep the finest tier only.
BASE_WINDOW = "1m"
UPSERT_BATCH = 500
# Series ids by (scope, window, key), per process. Forgotten daily, so that a series the
# expiry deleted (none of its points left: unwritten for the longest retention) is made again
# rather than written to under its old id; cut back to the keys in use when pods that came and
# went have made it twice as large.
_ids: dict[tuple[str, str, str], int] = {}
_ids_since = [0.0]
_IDS_TTL = 86400.0
_in_use: dict[str, int] = {}  # window -> how many series its last write had
_rollouts: dict[str, int] = {}


def tiers() -> tuple[Tier, ...]:
    return settings.MESHDASH_HISTORY_TIERS


def record(snapshot: Snapshot) -> int:
    """Add ``snapshot``'s points to the history; the number of points written (0 when another
    collection of the window already wrote this minute)."""
    tier = tiers()[0]
    t = tier.bucket(snapshot.taken_at)
    if not _claim(f"written:{snapshot.window}", t):
        return 0
    window = snapshot.window
    points: list[tuple[tuple[str, str, str, str], tuple]] = [
        (
            (WORKLOAD.code, window, w.key.id, ""),
            (
                w.success_rate,
                w.rps,
                w.latency_ms_p50,
                w.latency_ms_p95,
                w.latency_ms_p99,
                w.tcp_open_connections,
            ),
        )
        for w in snapshot.workloads
    ]
    if window == BASE_WINDOW:
        points.extend(
            (
                (POD.code, "", f"{p.namespace}/{p.name}", _owner(p)),
                (
                    p.proxy_memory_bytes,
                    p.proxy_cpu_cores,
                    p.proxy_cert_expiry,
                    p.restarts,
                ),
            )
            for p in snapshot.pods
            if p.has_proxy
        )
    summary = totals(snapshot.workloads)
    points.append(
        (
            (MESH.code, window, "", ""),
            (
                summary.workloads,
                summary.meshed_pods,
                summary.total_pods,
                summary.rps,
                summary.success_rate,
                summary.health_counts.get(CRITICAL, 0),
                summary.health_counts.get(WARNING, 0),
            ),
        )
    )
    _in_use[window] = len(points)
    ids = series_ids([key for key, _ in points], int(snapshot.taken_at))
    append(0, tier, [(ids[key[:3]], key[0], t, values) for key, values in points])
    if window == BASE_WINDOW:
        record_deploys((w.key.id, w.last_rollout) for w in snapshot.workloads)
    return len(points)


def _owner(pod) -> str:
    if not pod.workload_kind or not pod.workload_name:
        return ""
    return f"{pod.namespace}/{pod.workload_kind}/{pod.workload_name}"


def _claim(name: str, t: int) -> bool:
    """Whether this caller is the first to write bucket ``t`` under ``name`` (atomic: one
    UPDATE whose condition holds for one caller only)."""
    value = f"{t:012d}"
    State.objects.get_or_create(name=name, defaults={"value": ""})
    return State.objects.filter(name=name, value__lt=value).update(value=value) == 1


def series_ids(keys: Iterable[tuple[str, str, str, str]], now: int) -> dict[tuple, int]:
    """(scope, window, key) -> id for each ``(scope, window, key, owner)``, made where new."""
    keys = list(keys)
    in_use = max(len(keys), sum(_in_use.values()))
    if time.monotonic() - _ids_since[0] > _IDS_TTL or len(_ids) > 2 * in_use + 1000:
        _ids.clear()
        _ids_since[0] = time.monotonic()
    missing = {key[:3]: key[3] for key in keys if key[:3] not in _ids}
    if missing:
        _look_up(missing)  # most exist: read them before trying to make them
        new = {key: owner for key, owner in missing.items() if key not in _ids}
        if new:
            Series.objects.bulk_create(
                [
                    Series(scope=s, window=w, key=k, owner=owner, last_seen=now)
                    for (s, w, k), owner in new.items()
                ],
                ignore_conflicts=True,
                batch_size=UPSERT_BATCH,
            )
            _look_up(new)
    return _ids


def _look_up(keys: Iterable[tuple[str, str, str]]) -> None:
    by_scope: dict[tuple[str, str], list[str]] = {}
    for scope, window, key in keys:
        by_scope.setdefault((scope, window), []).append(key)
    for (scope, window), names in by_scope.items():
        for start in range(0, len(names), UPSERT_BATCH):
            found = Series.objects.filter(
                scope=scope, window=window, key__in=names[start : start + UPSERT_BATCH]
            ).values_list("key", "id")
            _ids.update({(scope, window, key): pk for key, pk in found})


def append(tier_index: int, tier: Tier, points: Sequence[tuple[int, str, int, Sequence]]) -> None:
    """Append ``(series_id, scope, t, values)`` points to their open chunks of ``tier``."""
    table = connection.ops.quote_name(Chunk._meta.db_table)
    joined = f"{table}.data || excluded.data"
    if connection.vendor == "sqlite":
        joined = f"CAST({joined} AS BLOB)"  # SQLite's || makes text of blobs
    # Only names of ours go into the text; every value is a parameter.
    head = f"INSERT INTO {table} (series_id, tier, start, packed, data) VALUES "  # noqa: S608
    tail = f" ON CONFLICT (series_id, tier, start) DO UPDATE SET data = {joined}"
    # One row per chunk and statement (PostgreSQL refuses to upsert a row twice in one).
    merged: dict[tuple[int, int], bytes] = {}
    for series_id, scope, t, values in points:
        start = tier.chunk_start(t)
        record = LAYOUTS[scope].record((t - start) // tier.step, values)
        merged[series_id, start] = merged.get((series_id, start), b"") + record
    rows = [(sid, tier_index, start, False, data) for (sid, start), data in merged.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        for begin in range(0, len(rows), UPSERT_BATCH):
            batch = rows[begin : begin + UPSERT_BATCH]
            values_sql = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(head + values_sql + tail, [v for row in batch for v in row])


def record_deploys(rollouts: Iterable[tuple[str, float | None]]) -> None:
    """Keep each workload's rollout time, once per time (a per-process memo of the last)."""
    new = []
    for workload, at in rollouts:
        if at is None:
            continue
        at = int(at)
        if _rollouts.get(workload) != at:
            new.append(Deploy(workload=workload, at=at))
            _rollouts[workload] = at
    if new:
        Deploy.objects.bulk_create(new, ignore_conflicts=True, batch_size=UPSERT_BATCH)
