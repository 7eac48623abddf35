"""A scheduled collection: one run per window at a time, a deadline, the snapshot store.

``collect_and_store`` is what the Celery task and the ``collect`` command run; ``collect``
does the collecting itself.
"""

import logging
import time
from dataclasses import dataclass, field

from meshdash.collectors.collect import ESSENTIAL_PARTS, CollectionFailed, collect
from meshdash.collectors.kubernetes import KubernetesClient
from meshdash.collectors.prometheus import PrometheusClient
from meshdash.history import collection as history
from meshdash.mesh.model import Snapshot
from meshdash.observability import collection as observed

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # ok, partial, failed or skipped
    seconds: float = 0.0
    query_count: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def collect_and_store(
    window: str,
    store=None,
    *,
    prometheus: PrometheusClient | None = None,
    kube: KubernetesClient | None = None,
    raise_on_failure: bool = False,
) -> Outcome:
    """Collect ``window`` under its lock and deadline, and write the snapshot or the failure.

    "skipped" when another run holds the window's lock. A failure is recorded (the current
    snapshot kept, marked stale); with ``raise_on_failure`` it is then raised as
    CollectionFailed, for a task queue to retry, instead of returned as a "failed" outcome.
    """
    from django.conf import settings

    if store is None:
        from meshdash.store import SnapshotStore

        store = SnapshotStore.from_settings()
    limit = settings.MESHDASH_COLLECT_DEADLINE_SECONDS
    token = store.try_lock(window, int(limit) + 5)
    if token is None:
        observed.record(window, "skipped", started_at=time.time(), store=store)
        return Outcome("skipped")
    started = time.monotonic()
    run = observed.Run(window, store)  # its figures for /metrics and its summary in the logs
    try:
        prometheus = prometheus or PrometheusClient.from_settings()
        if kube is None:
            kube = _kube_from_settings()
        run.watch(prometheus, kube)
        try:
            snapshot = collect(window, prometheus=prometheus, kube=kube, deadline=started + limit)
            lost = essentials_lost(snapshot, store.meta(window))
            if lost:
                run.lost(lost)
                raise CollectionFailed(
                    "; ".join(f"{name}: {snapshot.errors[name]}" for name in lost)
                )
        except CollectionFailed as exc:
            log.warning("collection of %s failed, the current snapshot kept: %s", window, exc)
            store.record_failure(window, str(exc), time.time())
            run.finish("failed", errors={"collection": str(exc)})
            if raise_on_failure:
                raise
            return Outcome(
                "failed",
                time.monotonic() - started,
                prometheus.query_count,
                {"collection": str(exc)},
            )
        # Drops against the history's baseline; then the snapshot's points into the history.
        store.write(snapshot, history.overview(snapshot))
        history.record(snapshot)
        if snapshot.errors:
            log.warning("collection of %s partial: %s", window, snapshot.errors)
        status = "partial" if snapshot.errors else "ok"
        run.finish(status, errors=snapshot.errors, workloads=len(snapshot.workloads))
        return Outcome(status, snapshot.collect_seconds, snapshot.query_count, snapshot.errors)
    except Exception as exc:
        run.crashed(exc)
        raise
    finally:
        run.record()
        store.release_lock(window, token)


def essentials_lost(snapshot: Snapshot, current) -> list[str]:
    """The essential parts ``snapshot`` failed to read that the ``current`` snapshot's meta (None:
    there is none) has: Prometheus down leaves the workload list without a single number, the
    cluster down leaves the workloads only their metrics show. A first snapshot, or one whose
    source has been failing since before the current one, replaces it all the same."""
    if current is None:
        return []
    return [
        name for name in ESSENTIAL_PARTS if name in snapshot.errors and name not in current.errors
    ]


def run_collection(window: str, store=None, *, raise_on_failure: bool = False) -> str:
    """``collect_and_store``'s status alone: "ok", "partial", "failed" or "skipped"."""
    return collect_and_store(window, store, raise_on_failure=raise_on_failure).status


def _kube_from_settings() -> KubernetesClient | None:
    try:
        return KubernetesClient.from_settings()
    except Exception as exc:  # no kubeconfig, bad context...: collect metrics alone
        log.warning("no Kubernetes access: %s", exc)
        return None
