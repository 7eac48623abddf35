"""The overview page's figures, computed once per snapshot from plain data (no Redis here)."""

from collections import Counter
from collections.abc import Mapping, Sequence

from meshdash.mesh.health import CRITICAL, HEALTH_ORDER, NOT_MESHED, WARNING
from meshdash.mesh.model import Namespace, Workload, WorkloadKey
from meshdash.store.results import Drop, HistoryPoint, Totals

ATTENTION_LIMIT = 10
DROPS_LIMIT = 10
# States that ask someone to look; "no traffic" and "healthy" do not.
ATTENTION_STATES = frozenset({CRITICAL, WARNING, NOT_MESHED})
# A fall of ten points of success rate counts as much as losing all traffic.
SUCCESS_FALL_WEIGHT = 10.0


def totals(workloads: Sequence[Workload]) -> Totals:
    judged = [w for w in workloads if w.success_rate is not None and w.rps > 0]
    judged_rps = sum(w.rps for w in judged)
    return Totals(
        workloads=len(workloads),
        meshed_workloads=sum(1 for w in workloads if w.meshed_pods > 0),
        meshed_pods=sum(w.meshed_pods for w in workloads),
        total_pods=sum(w.total_pods for w in workloads),
        rps=sum(w.rps for w in workloads),
        success_rate=(
            sum(w.success_rate * w.rps for w in judged) / judged_rps if judged_rps > 0 else None
        ),
        health_counts=dict(Counter(w.health for w in workloads if w.health)),
    )


def _worst_first(workload: Workload):
    rate = workload.success_rate
    p99 = workload.latency_ms_p99
    return (
        HEALTH_ORDER.get(workload.health, len(HEALTH_ORDER)),
        rate is None,
        rate if rate is not None else 0.0,
        p99 is None,
        -(p99 or 0.0),
        workload.namespace,
        workload.kind,
        workload.name,
    )


def attention(workloads: Sequence[Workload], limit: int = ATTENTION_LIMIT) -> list[Workload]:
    """Workloads in a worrying state, worst health first, then lowest success, then highest p99."""
    worrying = [w for w in workloads if w.health in ATTENTION_STATES]
    return sorted(worrying, key=_worst_first)[:limit]


def drop_of(workload: Workload, before: HistoryPoint) -> float:
    """How far a workload fell against an earlier point: 0 when it did not fall."""
    success_fall = 0.0
    if before.success_rate is not None and workload.success_rate is not None:
        success_fall = (before.success_rate - workload.success_rate) * SUCCESS_FALL_WEIGHT
    rps_fall = 0.0
    if before.rps:
        rps_fall = (before.rps - workload.rps) / before.rps
    return max(0.0, success_fall, rps_fall)


def drops(
    workloads: Sequence[Workload],
    oldest: Mapping[WorkloadKey, HistoryPoint],
    now_minute_t: int,
    limit: int = DROPS_LIMIT,
) -> list[Drop]:
    """The workloads that fell the most against their oldest point of the last hour."""
    found = []
    for workload in workloads:
        before = oldest.get(workload.key)
        if before is None or before.t >= now_minute_t:
            continue
        fall = drop_of(workload, before)
        if fall > 0:
            found.append(Drop(workload, before.t, before.success_rate, before.rps, fall))
    found.sort(key=lambda d: (-d.fall, d.workload.namespace, d.workload.kind, d.workload.name))
    return found[:limit]


# linkerd.io/inject values the proxy injector acts on or knowingly skips.
VALID_INJECT_VALUES = ("enabled", "disabled", "ingress", "")
INJECTION_LIMIT = 10


def bad_inject_namespaces(namespaces: Sequence[Namespace]) -> list[Namespace]:
    """Namespaces whose ``linkerd.io/inject`` value the proxy injector ignores (``true``, typos)."""
    return [ns for ns in namespaces if ns.inject_annotation not in VALID_INJECT_VALUES]


def injection_failures(
    workloads: Sequence[Workload], namespaces: Sequence[Namespace]
) -> list[Workload]:
    """Workloads without a proxy in namespaces that ask for injection, by identity."""
    injecting = {ns.name for ns in namespaces if ns.inject_annotation == "enabled"}
    failed = [w for w in workloads if w.namespace in injecting and w.meshed_pods == 0]
    return sorted(failed, key=lambda w: (w.namespace, w.kind, w.name))
