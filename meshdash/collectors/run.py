"""A scheduled collection: one run per window at a time, a deadline, the on-call checks, the
snapshot store.

``collect_and_store`` is what the Celery task and the ``collect`` command run; ``collect``
does the collecting itself, ``meshdash.mesh.checks.run_checks`` the checking.
"""

import logging
import time
from dataclasses import dataclass, field, replace

from meshdash.collectors.collect import (
    ESSENTIAL_PARTS,
    CollectionFailed,
    collect,
    without_cyclic_gc,
)
from meshdash.collectors.kubernetes import KubernetesClient
from meshdash.collectors.prometheus import PrometheusClient
from meshdash.history import collection as history
from meshdash.mesh.checks import (
    CHECKS,
    WARNING,
    CheckHistory,
    CheckInputs,
    CheckThresholds,
    Context,
    Evidence,
    Finding,
    carry_since,
    run_checks,
    worst_first,
)
from meshdash.mesh.checks.findings import bounded
from meshdash.mesh.model import Snapshot
from meshdash.observability import collection as observed

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # ok, partial, failed or skipped
    seconds: float = 0.0
    query_count: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    checks_seconds: float = 0.0  # the on-call checks, their history included
    findings: int = 0


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
            inputs = CheckInputs()
            snapshot = collect(
                window,
                prometheus=prometheus,
                kube=kube,
                deadline=started + limit,
                check_inputs=inputs,
            )
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
        # The checks, carrying each finding's "since" from the current snapshot's; drops
        # against the history's baseline; then the snapshot's points into the history.
        checks_started = time.monotonic()
        # Without the cyclic collector, as collect() runs: the checks make lists of millions
        # of small objects (a week of every pod) and no cycles.
        with without_cyclic_gc():
            findings = checks_of(
                snapshot,
                settings.MESHDASH_CHECK_THRESHOLDS,
                history.check_history(snapshot.taken_at),
                inputs=inputs,
                previous=previous_findings(store, window),
            )
        checks_seconds = time.monotonic() - checks_started
        # The store's rows and Redis's packed commands are tens of thousands of small objects,
        # no cycles either: with the collector on, the writes took twice the CPU.
        with without_cyclic_gc():
            store.write(snapshot, history.overview(snapshot), findings)
            history.record(snapshot)
        if snapshot.errors:
            log.warning("collection of %s partial: %s", window, snapshot.errors)
        status = "partial" if snapshot.errors else "ok"
        run.finish(
            status,
            errors=snapshot.errors,
            workloads=len(snapshot.workloads),
            checks_seconds=checks_seconds,
        )
        return Outcome(
            status,
            snapshot.collect_seconds,
            snapshot.query_count,
            snapshot.errors,
            checks_seconds,
            len(findings),
        )
    except Exception as exc:
        run.crashed(exc)
        raise
    finally:
        run.record()
        store.release_lock(window, token)


CHECKS_PART = "checks"  # snapshot.errors' name for the checks that raised


def checks_of(
    snapshot: Snapshot,
    thresholds: CheckThresholds,
    history: CheckHistory | None,
    *,
    inputs: CheckInputs,
    previous: list[Finding] | None,
) -> list[Finding]:
    """``run_checks`` over ``snapshot``, never raising: a check that raises costs its own
    findings, not the snapshot nor the other checks'. Only then are the checks run one by one,
    as the engine runs them, each broken one logged, named in ``snapshot.errors["checks"]``
    and shown as a warning finding of its own id, so that the triage page says the check is
    blind rather than show it clear."""
    try:
        return run_checks(snapshot, thresholds, history, inputs=inputs, previous=previous)
    except Exception:
        log.exception("on-call checks of %s: one raised; running them one by one", snapshot.window)
    ctx = Context(snapshot, thresholds, inputs, history)
    found: list[Finding] = []
    broken: dict[str, str] = {}
    for check_id, check in CHECKS.items():
        try:
            found.extend(bounded(check(ctx), thresholds.max_findings_per_check))
        except Exception as exc:
            log.exception("on-call check %s raised", check_id)
            broken[check_id] = f"{type(exc).__name__}: {exc}"[:300]
    found = [replace(f, since=snapshot.taken_at) for f in found]
    found += [check_failed(check_id, why, snapshot.taken_at) for check_id, why in broken.items()]
    if broken:
        snapshot.errors[CHECKS_PART] = "; ".join(f"{k}: {v}" for k, v in broken.items())[:1000]
    return worst_first(carry_since(previous or [], found))


def previous_findings(store, window: str) -> list[Finding] | None:
    """The current snapshot's findings, whose ``since`` the new ones keep. Unreadable ones (of
    an older release, say) start every finding afresh rather than fail each collection; the
    store being away fails it, as the write would."""
    from meshdash.store import StoreUnavailable

    try:
        return store.findings(window)
    except StoreUnavailable:
        raise
    except Exception:
        log.exception(
            "the current %s snapshot's findings cannot be read: since starts afresh", window
        )
        return None


def check_failed(check_id: str, why: str, at: float) -> Finding:
    """The finding that stands for a check that raised: what it would have found is unknown."""
    return Finding(
        check=check_id,
        severity=WARNING,
        subject=(),
        summary=f"meshdash could not run this check ({why.split(':', 1)[0]}): its findings "
        "are unknown",
        evidence=(Evidence("error", why, "meshdash collector"),),
        since=at,
        runbook="The check raised an error in meshdash's collector, so whatever it would "
        "find is not shown; the worker's log has the traceback. Report it with that log.",
    )


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
