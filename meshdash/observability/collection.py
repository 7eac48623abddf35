"""What each collection leaves for /metrics and the logs; called by the collection run.

Workers export nothing themselves: each run adds its figures to a few small hashes in the
snapshot store's Redis, and every web process's /metrics reads them at scrape time
(meshdash.observability.metrics). A port on each worker would do too, but Redis is already
what every worker and web pod shares: nothing to discover, no scrape target that comes and goes
with a worker's restarts, counters that survive them, and one NetworkPolicy rule fewer. The
cost is that every web replica reports the same worker figures: alert rules aggregate them
with ``max by (window)``.

Keys, all under ``<prefix>:obs:`` and bounded by the windows, statuses and reasons below:
``collections`` and ``failures`` (counters by ``window|status`` and ``window|reason``),
``duration:<window>`` (histogram buckets, sum and count) and ``last:<window>`` (the last run's
figures, and the time of the last successful one).
"""

import logging
import os
import socket
import time

import redis

from meshdash.observability import heartbeat
from meshdash.store import StoreUnavailable

log = logging.getLogger("meshdash.collections")

STATUSES = ("ok", "partial", "failed", "skipped")
SUCCESSFUL = ("ok", "partial")
# Why a run failed, one word each so that a label stays bounded: neither source answered
# (sources), the golden metrics or the workload list were lost where the current snapshot has
# them (prometheus, kubernetes), the snapshot store refused the write (store), anything else
# (error).
FAILURE_REASONS = ("sources", "prometheus", "kubernetes", "store", "error")
# Upper bounds of the duration buckets, seconds; the deadline is 60 s by default.
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0)


def bucket_label(seconds: float) -> str:
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


def record(
    window: str,
    status: str,
    *,
    started_at: float,
    finished_at: float | None = None,
    promql_queries: int = 0,
    kubernetes_requests: int = 0,
    workloads: int | None = None,
    reason: str = "",
    errors: dict[str, str] | None = None,
    store=None,
    checks_seconds: float | None = None,
) -> None:
    """Count one run of ``window`` and log its summary. ``reason`` (one of FAILURE_REASONS)
    for a failed run; ``errors`` the parts that failed, by name, with why; ``checks_seconds``
    the on-call checks' share of the run. The figures go to ``store``'s Redis under its prefix
    (default: the settings' snapshot store)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if status == "failed" and reason not in FAILURE_REASONS:
        raise ValueError(f"unknown failure reason {reason!r}")
    finished_at = time.time() if finished_at is None else finished_at
    seconds = max(0.0, finished_at - started_at)
    _log(
        window,
        status,
        seconds,
        started_at,
        finished_at,
        promql_queries,
        kubernetes_requests,
        workloads,
        reason,
        errors or {},
        checks_seconds,
    )
    if store is None:
        client, key = heartbeat.redis_client(), heartbeat.key
    else:
        client = store.client

        def key(*parts: str) -> str:
            return ":".join((store.prefix, "obs", *parts))

    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key("collections"), f"{window}|{status}", 1)
    if status != "skipped":
        duration = key("duration", window)
        pipe.hincrby(duration, bucket_label(seconds), 1)
        pipe.hincrbyfloat(duration, "sum", seconds)
        pipe.hincrby(duration, "count", 1)
        last = {
            "finished_at": repr(finished_at),
            "status": status,
            "seconds": repr(seconds),
            "promql_queries": promql_queries,
            "kubernetes_requests": kubernetes_requests,
        }
        if status in SUCCESSFUL:
            last["success_at"] = repr(finished_at)
        if checks_seconds is not None:
            last["checks_seconds"] = repr(checks_seconds)
        else:  # a run that ran no checks must not show the previous run's time
            pipe.hdel(key("last", window), "checks_seconds")
        pipe.hset(key("last", window), mapping=last)
    if status == "failed":
        pipe.hincrby(key("failures"), f"{window}|{reason}", 1)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("collection figures of %s not recorded: %s", window, exc)


class Run:
    """One collection run, holding its window's lock: what it asked its sources and how it
    ended, recorded once by ``record`` (call it before the lock goes, so that the times a run
    logs lie within the time it held the lock)."""

    def __init__(self, window: str, store=None):
        self.window = window
        self.store = store
        self.started_at = time.time()
        self.status: str | None = None
        self.reason = ""
        self.errors: dict[str, str] = {}
        self.workloads: int | None = None
        self.checks_seconds: float | None = None
        self._sources: tuple = (None, None)
        self._before = (0, 0)

    def watch(self, prometheus, kube) -> None:
        """Count the PromQL queries and Kubernetes requests of these clients from now on."""
        self._sources = (prometheus, kube)
        self._before = _requests(prometheus, kube)

    def lost(self, parts: list[str]) -> None:
        """The essential parts lost where the current snapshot has them: the reason it fails."""
        sources = {
            "kubernetes" if part.startswith("kubernetes/") else "prometheus" for part in parts
        }
        self.reason = sources.pop() if len(sources) == 1 else "sources"

    def finish(
        self,
        status: str,
        *,
        errors=None,
        workloads: int | None = None,
        checks_seconds: float | None = None,
    ) -> None:
        self.status = status
        self.errors = dict(errors or {})
        self.workloads = workloads
        self.checks_seconds = checks_seconds
        if status == "failed" and not self.reason:
            self.reason = "sources"

    def crashed(self, exc: Exception) -> None:
        if self.status is None:
            self.status = "failed"
            store_down = isinstance(exc, (StoreUnavailable, redis.RedisError))
            self.reason = "store" if store_down else "error"
            self.errors = {"collection": str(exc)}

    def record(self) -> None:
        if self.status is None:  # interrupted by something no Exception
            self.status, self.reason = "failed", "error"
        queries, requests = (
            now - before
            for now, before in zip(_requests(*self._sources), self._before, strict=True)
        )
        record(
            self.window,
            self.status,
            started_at=self.started_at,
            promql_queries=queries,
            kubernetes_requests=requests,
            workloads=self.workloads,
            reason=self.reason,
            errors=self.errors,
            store=self.store,
            checks_seconds=self.checks_seconds,
        )


def _requests(prometheus, kube) -> tuple[int, int]:
    return (
        getattr(prometheus, "query_count", 0) if prometheus is not None else 0,
        getattr(kube, "request_count", 0) if kube is not None else 0,
    )


def _log(
    window,
    status,
    seconds,
    started_at,
    finished_at,
    queries,
    requests,
    workloads,
    reason,
    errors,
    checks_seconds=None,
) -> None:
    fields = {
        "event": "collection",
        "window": window,
        "status": status,
        "seconds": round(seconds, 3),
        "started_at": started_at,
        "finished_at": finished_at,
        "promql_queries": queries,
        "kubernetes_requests": requests,
        "worker": f"{socket.gethostname()}/{os.getpid()}",
    }
    if workloads is not None:
        fields["workloads"] = workloads
    if checks_seconds is not None:
        fields["checks_seconds"] = round(checks_seconds, 3)
    if reason:
        fields["reason"] = reason
    if errors:
        fields["errors"] = errors
    if status == "skipped":
        log.info("collection of %s skipped: another run holds its lock", window, extra=fields)
        return
    level = logging.WARNING if status == "failed" else logging.INFO
    why = (
        f" ({reason}: {'; '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})"
        if reason
        else ""
    )
    log.log(
        level,
        "collection of %s %s in %.2f s, %d PromQL queries, %d Kubernetes requests%s",
        window,
        status,
        seconds,
        queries,
        requests,
        why,
        extra=fields,
    )
