"""Filling a fresh install's history from what Prometheus still has, once, in the background.

``start_if_empty`` (each maintenance round) queues ``backfill`` when no coarse point exists and
no backfill ever started. The backfill asks Prometheus range queries at the coarse tiers'
steps, grouped like a collection's (the same selectors, summed over the whole mesh by
workload or pod, from ``meshdash.collectors.prometheus``): a handful of queries, whatever the
size of the mesh, each over every step at once, as many at a time as a collection runs
(``PROMETHEUS_MAX_CONCURRENCY``), and no further back than Prometheus keeps samples. The points
carry rates, success, TCP connections and the proxies' memory, CPU and certificates; latency
quantiles are left out: they need the latency buckets aggregated over each step's whole span,
which at 5,000 workloads took Prometheus about two minutes for a single hour (scripts/
bench_history.py), against seconds for every other query together. The charts' latency starts
with meshdash's own collections.

Progress is logged and kept in the ``backfill`` state row (``meshdash.history.read.
backfill_status``): done and total queries, and what failed.
"""

import json
import logging
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.db import transaction

from meshdash.collectors import prometheus as promql
from meshdash.collectors.snapshot_builder import owner_key
from meshdash.history.models import Chunk, State
from meshdash.history.read import BACKFILL_STATE, BackfillStatus, backfill_status
from meshdash.history.write import BASE_WINDOW, append, series_ids, tiers
from meshdash.mesh import metrics
from meshdash.mesh.history import MESH, POD, WORKLOAD

log = logging.getLogger(__name__)


def start_if_empty() -> str:
    """Queue the backfill when the history has no coarse point and none ever started."""
    if not settings.MESHDASH_HISTORY_BACKFILL:
        return "off"
    status = backfill_status()
    if status.state != "none":
        return status.state
    if Chunk.objects.filter(tier__gt=0).exists():
        return "not needed"
    with transaction.atomic():
        _, created = State.objects.get_or_create(
            name=BACKFILL_STATE, defaults={"value": json.dumps({"state": "queued"})}
        )
    if created:
        from meshdash.history.tasks import backfill as task

        task.delay()
        log.info("history empty: backfill from Prometheus queued")
    return "queued"


def _save(status: BackfillStatus) -> None:
    State.objects.update_or_create(
        name=BACKFILL_STATE, defaults={"value": json.dumps(status.__dict__)}
    )


def _queries(step: int) -> dict[str, str]:
    window = f"{step}s"
    proxy = '{control_plane_ns!=""}'
    admin = settings.MESHDASH_PROXY_ADMIN_PORT
    owners = ", ".join(promql.OWNER_LABELS)
    queries = {
        "inbound": promql.inbound_responses(window, admin_port=admin),
        "tcp": (
            f"sum by (namespace, {owners}) (avg_over_time(tcp_open_connections"
            f'{{direction="inbound", peer="src", target_port!="{admin}"}}[{window}]))'
        ),
        # The proxies' gauges with the collection's selector (proxies only), without its build
        # information, which no point keeps.
        "proxies": " or ".join(
            [
                f"label_replace(max by (namespace, pod, {owners}) (avg_over_time("
                f'process_resident_memory_bytes{proxy}[{window}])), "metric", "memory", "", "")',
                "label_replace(max by (namespace, pod) ("
                f"control_identity_cert_expiration_timestamp_seconds{proxy} or "
                f"identity_cert_expiration_timestamp_seconds{proxy}), "
                '"metric", "cert_expiry", "", "")',
            ]
        ),
        "cpu": (
            "sum by (namespace, pod) (rate(process_cpu_seconds_total"
            f'{{control_plane_ns!=""}}[{window}]))'
        ),
    }
    return queries


def backfill(client=None, now: float | None = None) -> BackfillStatus:
    """Fill the coarse tiers from Prometheus's range queries; the final status."""
    from prometheus_api_client import PrometheusConnect

    now = time.time() if now is None else now
    client = client or PrometheusConnect(settings.PROMETHEUS_URL)
    levels = tiers()
    plan = [
        (index, name, query)
        for index in range(1, len(levels))
        for name, query in _queries(levels[index].step).items()
    ]
    status = BackfillStatus("running", 0, len(plan), started_at=now)
    _save(status)
    log.info("history backfill: %d range queries", len(plan))
    began = time.monotonic()
    failures = []

    kept = _retention(client)

    def ask(index: int, query: str):
        tier = levels[index]
        end = tier.bucket(now)
        # Steps from before Prometheus's retention would find nothing: not asked for.
        start = end - min(tier.keep, kept + tier.step) + tier.step
        return client.custom_query_range(
            query,
            start_time=datetime.fromtimestamp(start, UTC),
            end_time=datetime.fromtimestamp(end, UTC),
            step=str(tier.step),
            params={"timeout": "120s"},
        )

    # As many queries in flight as a collection may have; the answers stored one at a time.
    pool = ThreadPoolExecutor(settings.PROMETHEUS_MAX_CONCURRENCY, thread_name_prefix="backfill")
    futures = {pool.submit(ask, index, query): (index, name) for index, name, query in plan}
    for future in as_completed(futures):
        index, name = futures[future]
        tier = levels[index]
        try:
            written = _store(index, tier, name, future.result(), int(now))
        except Exception as exc:  # one query lost costs its points, not the others'
            failures.append(f"{name} at {tier.name}: {type(exc).__name__}: {exc}"[:300])
            log.warning("history backfill: %s", failures[-1])
            written = 0
        status = BackfillStatus(
            "running", status.done + 1, len(plan), started_at=now, message="; ".join(failures)
        )
        _save(status)
        log.info(
            "history backfill: %s at %s, %d points (%d/%d, %.1f s)",
            name,
            tier.name,
            written,
            status.done,
            status.total,
            time.monotonic() - began,
        )
    pool.shutdown()
    for index in range(1, len(levels)):
        # The roll-ups start after what was filled, rather than redo it from a few minutes.
        State.objects.update_or_create(
            name=f"rolled:{index}", defaults={"value": str(levels[index].bucket(now))}
        )
    status = BackfillStatus(
        "failed" if len(failures) == len(plan) else "done",
        status.done,
        len(plan),
        started_at=now,
        finished_at=time.time(),
        message="; ".join(failures),
    )
    _save(status)
    log.info("history backfill %s in %.1f s", status.state, time.monotonic() - began)
    return status


_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _retention(client) -> float:
    """How far back Prometheus keeps samples (its ``storage.tsdb.retention.time`` flag, e.g.
    ``6h`` for linkerd-viz's), or the longest tier's retention when it does not say."""
    longest = float(max(t.keep for t in tiers()))
    try:
        answer = requests.get(f"{client.url}/api/v1/status/flags", timeout=10)
        flags = answer.json()["data"]
    except Exception:
        return longest
    text = flags.get("storage.tsdb.retention.time") or flags.get("storage.tsdb.retention") or ""
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(text))
    return min(longest, seconds) if seconds > 0 else longest


def _steps(answer) -> list[tuple[dict, list[tuple[int, float]]]]:
    return [
        (item["metric"], [(int(float(t)), float(v)) for t, v in item.get("values", [])])
        for item in answer
    ]


def _store(index: int, tier, name: str, answer, now: int) -> int:
    """Write one range query's answer as points of tier ``index``; the number of points."""
    step = tier.step
    if name == "inbound":
        counts: dict = defaultdict(lambda: [0.0, 0.0])
        for labels, values in _steps(answer):
            key = owner_key(labels)
            if key is None:
                continue
            failed = labels.get("classification") == "failure"
            for t, value in values:
                counts[key, t - step][1 if failed else 0] += value
        points = {
            (key.id, t): (metrics.success_rate(s, f), (s + f) / step)
            for (key, t), (s, f) in counts.items()
        }
        workloads = [
            (key, t, (rate, rps, None, None, None, None))
            for (key, t), (rate, rps) in points.items()
        ]
        mesh: dict[int, list] = defaultdict(lambda: [0, 0.0, 0.0])
        for (_, t), (rate, rps) in points.items():
            mesh[t][0] += 1
            mesh[t][1] += rps
            mesh[t][2] += (rate or 0.0) * rps
        mesh_points = [
            ("", t, (n, None, None, rps, ok / rps if rps else None, None, None))
            for t, (n, rps, ok) in mesh.items()
        ]
        return _write(index, tier, WORKLOAD.code, workloads, now) + _write(
            index, tier, MESH.code, mesh_points, now
        )
    if name == "tcp":
        return _write(
            index,
            tier,
            WORKLOAD.code,
            [
                (key.id, t - step, (None, None, None, None, None, value))
                for labels, values in _steps(answer)
                if (key := owner_key(labels)) is not None
                for t, value in values
            ],
            now,
        )
    # Pods: memory and certificates from the proxies' query, CPU from its own.
    pods: dict = defaultdict(lambda: [None, None, None, None])
    owners: dict[str, str] = {}
    for labels, values in _steps(answer):
        pod = f"{labels.get('namespace', '')}/{labels.get('pod', '')}"
        which = labels.get("metric", "cpu" if name == "cpu" else "")
        field = {"memory": 0, "cpu": 1, "cert_expiry": 2, "cert_expiry_legacy": 2}.get(which)
        if field is None or pod.startswith("/") or pod.endswith("/"):
            continue
        if which == "memory" and (key := owner_key(labels)) is not None:
            owners[pod] = key.id
        for t, value in values:
            # A gauge's value at the step's end stands for its bucket.
            pods[pod, t - step][field] = value
    return _write(
        index,
        tier,
        POD.code,
        [(pod, t, tuple(values)) for (pod, t), values in pods.items()],
        now,
        owners,
    )


def _write(index, tier, scope, points, now, owners=None) -> int:
    """Merge ``(key, t, values)`` into what the tier already has at those times (several
    queries fill different fields of one point), then append."""
    if not points:
        return 0
    window = "" if scope == POD.code else BASE_WINDOW
    owners = owners or {}
    ids = series_ids([(scope, window, key, owners.get(key, "")) for key, _, _ in points], now)
    append(index, tier, [(ids[scope, window, key], scope, t, v) for key, t, v in points])
    return len(points)
