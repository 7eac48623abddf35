"""meshdash's own metrics, in Prometheus's format, served on their own port (server.py).

Two kinds:

- measured in the web processes as they serve: page latency by view, responses by status class
  (``REQUEST_SECONDS``, ``RESPONSES``). Under gunicorn each worker process writes them to files
  in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode) and the scrape adds
  them up;
- read at scrape time, by the collectors below: what the workers recorded of their collections
  (meshdash.observability.collection), the snapshots' age, Redis's memory, the number of
  users and bookmarks (COUNT queries, cached for DATABASE_COUNTS_TTL_SECONDS), and the on-call
  checks' active findings of the default window's current snapshot (``FindingsCollector``), so
  Alertmanager can page on them.
"""

import logging
import os
import threading
import time

import redis
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.multiprocess import MultiProcessCollector

from meshdash.mesh.model import WINDOWS
from meshdash.observability import collection, heartbeat

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "meshdash_http_request_duration_seconds",
    "Time to answer a request, by the name of the view that answered it.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESPONSES = Counter(
    "meshdash_http_responses",
    "Responses by view and status class (2xx, 3xx, 4xx, 5xx).",
    ["view", "status"],
)

DATABASE_COUNTS_TTL_SECONDS = 30.0


def registry() -> CollectorRegistry:
    """Everything /metrics shows: the web processes' own metrics and the scrape-time ones."""
    exposed = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(exposed)
    else:
        exposed.register(REGISTRY)
    exposed.register(StoreCollector())
    exposed.register(DatabaseCollector())
    exposed.register(FindingsCollector())
    return exposed


class StoreCollector:
    """The collections' figures, the snapshots and Redis's memory, read from Redis."""

    def describe(self):
        return []  # registering must not read Redis

    def collect(self):
        up = GaugeMetricFamily(
            "meshdash_store_up", "1 when the snapshot store's Redis answered this scrape."
        )
        try:
            families = list(self._families())
        except redis.RedisError as exc:
            log.warning("metrics: the snapshot store does not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self):
        client = heartbeat.redis_client()
        key = heartbeat.key
        windows = list(WINDOWS)
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(key("collections"))
        pipe.hgetall(key("failures"))
        for window in windows:
            pipe.hgetall(key("duration", window))
            pipe.hgetall(key("last", window))
        answers = pipe.execute()
        runs, failures = _by_pair(answers[0]), _by_pair(answers[1])
        durations = {w: _text_dict(answers[2 + 2 * i]) for i, w in enumerate(windows)}
        lasts = {w: _text_dict(answers[3 + 2 * i]) for i, w in enumerate(windows)}

        total = CounterMetricFamily(
            "meshdash_collections",
            "Collection runs by window and outcome.",
            labels=["window", "status"],
        )
        failed = CounterMetricFamily(
            "meshdash_collection_failures",
            "Failed collection runs by window and reason.",
            labels=["window", "reason"],
        )
        for window in windows:
            for status in collection.STATUSES:
                total.add_metric([window, status], runs.get((window, status), 0))
            for reason in collection.FAILURE_REASONS:
                failed.add_metric([window, reason], failures.get((window, reason), 0))
        yield total
        yield failed

        duration = HistogramMetricFamily(
            "meshdash_collection_duration_seconds",
            "Time a collection run took, skipped runs aside.",
            labels=["window"],
        )
        for window in windows:
            buckets, cumulative = [], 0
            counts = durations[window]
            for bound in (*map(repr, collection.DURATION_BUCKETS), "+Inf"):
                cumulative += int(counts.get(bound, 0))
                buckets.append((bound, cumulative))
            duration.add_metric([window], buckets, float(counts.get("sum", 0.0)))
        yield duration

        for name, field, help_text in (
            (
                "meshdash_collection_last_success_timestamp_seconds",
                "success_at",
                "When the last successful (ok or partial) collection of the window finished.",
            ),
            (
                "meshdash_collection_promql_queries",
                "promql_queries",
                "PromQL queries the last collection of the window sent.",
            ),
            (
                "meshdash_collection_kubernetes_requests",
                "kubernetes_requests",
                "Kubernetes API requests the last collection of the window made.",
            ),
            (
                "meshdash_collection_checks_seconds",
                "checks_seconds",
                "Seconds the on-call checks took in the last collection of the window "
                "(absent when it ran none).",
            ),
        ):
            family = GaugeMetricFamily(name, help_text, labels=["window"])
            for window in windows:
                if field in lasts[window]:
                    family.add_metric([window], float(lasts[window][field]))
            yield family

        yield from self._snapshots(windows)
        yield from self._memory()

    def _snapshots(self, windows):
        from meshdash.store import SnapshotStore

        store = SnapshotStore.from_settings()
        age = GaugeMetricFamily(
            "meshdash_snapshot_age_seconds",
            "Seconds since the current snapshot of the window was taken.",
            labels=["window"],
        )
        workloads = GaugeMetricFamily(
            "meshdash_snapshot_workloads",
            "Workloads in the current snapshot of the window.",
            labels=["window"],
        )
        now = time.time()
        for window in windows:
            meta = store.meta(window)
            if meta is not None:
                age.add_metric([window], meta.age_seconds(now))
                workloads.add_metric([window], meta.workload_count)
        yield age
        yield workloads

    def _memory(self):
        used = GaugeMetricFamily(
            "meshdash_redis_memory_used_bytes",
            "Memory Redis uses (INFO memory used_memory); redis: store or cache.",
            labels=["redis"],
        )
        limit = GaugeMetricFamily(
            "meshdash_redis_memory_max_bytes",
            "Redis's maxmemory (0: no limit); redis: store or cache.",
            labels=["redis"],
        )
        instances = {"store": settings.REDIS_URL}
        cache_url = settings.MESHDASH_CACHE_REDIS_URL
        if cache_url and cache_url != settings.REDIS_URL:
            instances["cache"] = cache_url
        for name, url in instances.items():
            client = heartbeat.redis_client(url)
            try:
                info = client.info("memory")
            except redis.RedisError as exc:
                if name == "store":
                    raise
                log.warning("metrics: the cache Redis does not answer: %s", exc)
                continue
            used.add_metric([name], info.get("used_memory", 0))
            limit.add_metric([name], info.get("maxmemory", 0))
        yield used
        yield limit


def _text_dict(raw: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _by_pair(raw: dict) -> dict[tuple[str, str], int]:
    pairs = {}
    for field, value in _text_dict(raw).items():
        window, _, what = field.partition("|")
        pairs[window, what] = int(value)
    return pairs


class DatabaseCollector:
    """Users and bookmarks, counted at most every DATABASE_COUNTS_TTL_SECONDS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counted_at = float("-inf")
        self._counts: dict[str, int] | None = None

    def describe(self):
        return []

    def collect(self):
        counts = self._cached_counts()
        if counts is None:
            return
        for name, help_text in (
            ("meshdash_users", "Active user accounts."),
            ("meshdash_bookmarks", "Bookmarks, frozen views among them."),
        ):
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], counts[name])
            yield family

    def _cached_counts(self) -> dict[str, int] | None:
        with self._lock:
            if time.monotonic() - self._counted_at >= DATABASE_COUNTS_TTL_SECONDS:
                self._counts = _database_counts()
                self._counted_at = time.monotonic()
            return self._counts


def _database_counts() -> dict[str, int] | None:
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, connection

    from meshdash.bookmarks.models import Bookmark

    try:
        return {
            "meshdash_users": get_user_model().objects.filter(is_active=True).count(),
            "meshdash_bookmarks": Bookmark.objects.count(),
        }
    except DatabaseError as exc:
        log.warning("metrics: the database does not answer: %s", exc)
        return None
    finally:
        # Each scrape comes in a thread of its own: its connection would stay open for good.
        if not connection.in_atomic_block:
            connection.close()


# meshdash_finding has one series per active finding: at most this many a scrape, worst first
# (the collector keeps up to 50 findings of each check; pods' names churn). The
# meshdash_findings counts are never cut, so an alert on them sees every finding.
MAX_FINDING_SERIES = 500
# Label values are the cluster's text: at most this many characters (a DNS subdomain's length).
MAX_LABEL_VALUE = 253


class FindingsCollector:
    """The on-call checks' active (unmuted) findings of the default window's current snapshot:
    one Redis read, and the mutes (meshdash.triage.mutes, cached)."""

    def describe(self):
        return []

    def collect(self):
        from meshdash.store import SnapshotStore, StoreUnavailable

        window = settings.MESHDASH_DEFAULT_WINDOW
        try:
            found = SnapshotStore.from_settings().findings(window)
        except (StoreUnavailable, redis.RedisError) as exc:  # meshdash_store_up says it
            log.warning("metrics: no findings, the snapshot store does not answer: %s", exc)
            return
        checked = GaugeMetricFamily(
            "meshdash_findings_checked",
            "1 when the default window's current snapshot carries the on-call checks' "
            "findings, 0 when its collection did not run them or there is no snapshot.",
            labels=["window"],
        )
        checked.add_metric([window], 0 if found is None else 1)
        yield checked
        if found is None:
            return
        yield from finding_families(_unmuted(found))


def _unmuted(findings: list) -> list:
    """``findings`` without the muted ones; all of them when the mutes cannot be read (a page
    about a muted finding does less harm than a critical one never paged)."""
    from django.db import DatabaseError, connection

    from meshdash.triage.mutes import active_mutes, split_muted

    try:
        return split_muted(findings, active_mutes())[0]
    except (DatabaseError, redis.RedisError) as exc:
        log.warning("metrics: the mutes cannot be read, every finding counts: %s", exc)
        return findings
    finally:
        if not connection.in_atomic_block:  # a scrape's thread would keep it open for good
            connection.close()


def _bounded(text: str) -> str:
    return text[:MAX_LABEL_VALUE]


def finding_labels(finding) -> tuple[str, str, str, str]:
    """(check, severity, namespace, workload): the namespace the subject is in ("" for
    cluster-wide objects), the workload its first resource that is not a namespace, as
    ``kind/name`` (``deployment/web``, ``pod/web-1``, ``webhook/...``; "" when none)."""
    namespace = workload = ""
    for ref in finding.subject:
        if ref.kind == "namespace":
            namespace = namespace or ref.name
            continue
        namespace = namespace or ref.namespace
        if not workload:
            workload = f"{ref.kind}/{ref.name}"
    return tuple(
        _bounded(value) for value in (finding.check, finding.severity, namespace, workload)
    )


def finding_families(findings: list):
    """``meshdash_finding`` (one series of value 1 per finding, at most MAX_FINDING_SERIES,
    worst first) and ``meshdash_findings`` (how many by check and severity: every check and
    severity, 0 included, the collector's cut ones counted at the severity of the last kept)."""
    from meshdash.mesh.checks import CHECKS, SEVERITIES, worst_first

    each = GaugeMetricFamily(
        "meshdash_finding",
        "1 for each active (unmuted) finding of the on-call checks in the default window's "
        f"current snapshot, worst first, at most {MAX_FINDING_SERIES} series (see "
        "meshdash_findings for every one).",
        labels=["check", "severity", "namespace", "workload"],
    )
    counts = {(check, severity): 0 for check in CHECKS for severity in SEVERITIES}
    seen = set()
    for finding in worst_first(findings):
        labels = finding_labels(finding)
        counts[labels[:2]] = counts.get(labels[:2], 0) + 1 + finding.more
        if labels not in seen and len(seen) < MAX_FINDING_SERIES:
            seen.add(labels)
            each.add_metric(list(labels), 1)
    yield each
    total = GaugeMetricFamily(
        "meshdash_findings",
        "Active (unmuted) findings of the on-call checks in the default window's current "
        "snapshot, by check and severity.",
        labels=["check", "severity"],
    )
    for (check, severity), count in counts.items():
        total.add_metric([check, severity], count)
    yield total
