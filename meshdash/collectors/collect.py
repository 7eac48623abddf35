"""One collection: grouped PromQL plus paged cluster lists, joined into a Snapshot.

``collect`` is a plain function over the two sources, so tests can point it at any Prometheus
and any API server; ``meshdash.collectors.snapshot_builder`` turns their answers into the
snapshot's lists, and ``meshdash.collectors.run`` adds what a scheduled run needs (one run per
window at a time, a deadline, the snapshot store).
"""

import gc
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import fields

from meshdash.collectors import prometheus as promql
from meshdash.collectors.kubernetes import (
    ClusterState,
    KubernetesClient,
    build_cluster_state,
)
from meshdash.collectors.prometheus import PrometheusClient, collection_queries
from meshdash.collectors.snapshot_builder import SnapshotBuilder
from meshdash.collectors.waiting import seconds_left
from meshdash.mesh.checks import CheckInputs
from meshdash.mesh.health import HealthRules
from meshdash.mesh.model import WINDOWS, Snapshot

# Without these a snapshot would show nothing worth showing.
ESSENTIAL_METRICS = "inbound"
ESSENTIAL_LISTS = ("pods", "deployments")
# The parts of snapshot.errors that a new snapshot may not lose when the current one has them:
# the current one, marked stale, then shows more than the new one would.
ESSENTIAL_PARTS = (
    ESSENTIAL_METRICS,
    *(f"kubernetes/{name}" for name in ("cluster", *ESSENTIAL_LISTS)),
)


class CollectionFailed(Exception):
    """Neither the golden metrics nor the workload list could be read."""


def rules_from_settings() -> HealthRules:
    """The health rules configured in settings (``MESHDASH_HEALTH_*``)."""
    from django.conf import settings

    return HealthRules(
        critical_success=settings.MESHDASH_HEALTH_CRITICAL_SUCCESS,
        warning_success=settings.MESHDASH_HEALTH_WARNING_SUCCESS,
        warning_p99_ms=settings.MESHDASH_HEALTH_WARNING_P99_MS,
        min_requests=settings.MESHDASH_HEALTH_MIN_REQUESTS,
        tcp_critical_close_errors=settings.MESHDASH_HEALTH_TCP_CRITICAL_CLOSE_ERRORS,
        tcp_warning_close_errors=settings.MESHDASH_HEALTH_TCP_WARNING_CLOSE_ERRORS,
        tcp_min_closes_per_second=settings.MESHDASH_HEALTH_TCP_MIN_CLOSES_PER_SECOND,
    )


@contextmanager
def without_cyclic_gc():
    """The cyclic garbage collector paused for a collection.

    Decoding tens of megabytes of JSON makes millions of objects and no reference cycles, yet
    each few hundred allocations wake the collector, which then rescans the growing heap: at
    5,000 workloads that made decoding the pod list four times slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@without_cyclic_gc()
def collect(
    window: str,
    *,
    prometheus: PrometheusClient,
    kube: KubernetesClient | None,
    now: float | None = None,
    rules: HealthRules | None = None,
    deadline: float | None = None,
    check_inputs: CheckInputs | None = None,
) -> Snapshot:
    """A snapshot of the mesh over ``window``, as of ``now`` (unix seconds; default: now).

    ``deadline`` is a ``time.monotonic()`` value after which outstanding requests are given up.
    Parts that fail are left out and named in ``snapshot.errors``; CollectionFailed when both
    the golden metrics and the workload list fail. ValueError for a window meshdash does not
    offer: the one check of it on the way from the schedule to the store. ``check_inputs``,
    when given, is filled in place with what the on-call checks read beside the snapshot
    (``meshdash.mesh.checks.CheckInputs``): the cluster's part, then Prometheus's.
    """
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}")
    rules = rules or rules_from_settings()
    started = time.monotonic()
    snapshot = Snapshot(window=window, taken_at=time.time() if now is None else now)
    queries_before, prom_seconds_before = prometheus.query_count, prometheus.seconds
    kube_seconds_before = kube.seconds if kube else 0.0

    with ThreadPoolExecutor(1, thread_name_prefix="kube-collect") as pool:
        cluster_future = pool.submit(_read_cluster, kube, deadline) if kube else None
        results, prom_errors = prometheus.query_many(
            collection_queries(window, prometheus.shards, prometheus.admin_port),
            at=now,
            deadline=deadline,
        )
        if cluster_future is None:
            cluster = ClusterState(errors={"cluster": "no Kubernetes access configured"})
        else:
            try:
                cluster = cluster_future.result(timeout=seconds_left(deadline))
            except FutureTimeout:
                cluster = ClusterState(
                    errors={"cluster": "Kubernetes API did not answer before the deadline"}
                )
    snapshot.errors.update(prom_errors)
    snapshot.errors.update({f"kubernetes/{name}": why for name, why in cluster.errors.items()})

    lists_failed = (
        kube is None
        or "cluster" in cluster.errors
        or any(name in cluster.errors for name in ESSENTIAL_LISTS)
    )
    if ESSENTIAL_METRICS in prom_errors and lists_failed:
        raise CollectionFailed(
            f"golden metrics: {prom_errors[ESSENTIAL_METRICS]}; workload list: "
            + "; ".join(f"{k}: {v}" for k, v in sorted(snapshot.errors.items()) if "/" in k)
        )

    SnapshotBuilder(snapshot, cluster, results, rules, lists_failed).build()
    if check_inputs is not None:
        fill_check_inputs(check_inputs, cluster, results)

    snapshot.query_count = prometheus.query_count - queries_before
    snapshot.prometheus_seconds = prometheus.seconds - prom_seconds_before
    snapshot.kubernetes_seconds = kube.seconds - kube_seconds_before if kube else 0.0
    snapshot.collect_seconds = time.monotonic() - started
    return snapshot


def fill_check_inputs(inputs: CheckInputs, cluster: ClusterState, results: dict) -> None:
    """``inputs`` filled in place: what the cluster's lists gave (``ClusterState.
    check_inputs``), then what the collection's PromQL answers give (leaf refreshes, identity's
    issuer TTL, the proxies' calls to the control plane). A part that failed leaves its fields
    "not collected", and its checks find nothing."""
    for f in fields(CheckInputs):
        setattr(inputs, f.name, getattr(cluster.check_inputs, f.name))
    promql.fill_check_inputs(inputs, results)


def _read_cluster(kube: KubernetesClient, deadline: float | None) -> ClusterState:
    raw = kube.fetch(deadline=deadline)
    return build_cluster_state(raw, kube.linkerd_namespace, kube.events_per_object)
