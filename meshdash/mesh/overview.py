"""What the overview shows besides the on-call checks' findings, worked out once per snapshot
from plain data: the totals, the biggest drops against a baseline (the collection passes the
same hour yesterday from meshdash's history, ``meshdash.history.collection``) and the
namespaces to look at first. The collecting worker computes it; the store keeps it as one
bounded blob, so the overview page costs the same at any size of mesh. What needs attention
(certificates, injection mistakes, version skew...) is the checks' (``meshdash.mesh.checks``),
stored with the snapshot as its findings.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from meshdash.mesh.health import CRITICAL, NOT_MESHED, WARNING
from meshdash.mesh.model import (
    ControlPlane,
    HistoryPoint,
    Namespace,
    Snapshot,
    Workload,
    WorkloadKey,
)

# How many of each the overview shows: bounded whatever the size of the mesh.
DROPS_LIMIT = 10
OVERVIEW_NAMESPACES = 10
# A fall of ten points of success rate counts as much as losing all traffic.
SUCCESS_FALL_WEIGHT = 10.0


@dataclass
class Totals:
    workloads: int = 0
    meshed_workloads: int = 0
    meshed_pods: int = 0
    total_pods: int = 0
    rps: float = 0.0
    success_rate: float | None = None  # weighted by RPS
    health_counts: dict[str, int] = field(default_factory=dict)

    @property
    def meshed_workload_share(self) -> float | None:
        return self.meshed_workloads / self.workloads if self.workloads else None

    @property
    def meshed_pod_share(self) -> float | None:
        return self.meshed_pods / self.total_pods if self.total_pods else None


@dataclass
class Drop:
    """A workload whose success rate or request rate fell against its baseline point."""

    workload: Workload
    since: int  # unix seconds of the point compared against
    success_rate_before: float | None
    rps_before: float | None
    fall: float  # the score drops are ranked by, see ``drop_of``


@dataclass
class Overview:
    """Everything on the overview, bounded: read as one small blob whatever the mesh's size."""

    totals: Totals = field(default_factory=Totals)
    drops: list[Drop] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)  # the worst few first
    control_plane: ControlPlane = field(default_factory=ControlPlane)
    namespace_count: int = 0
    # What the drops compare against, in words (e.g. "the same hour yesterday"), and, when
    # there is nothing to compare against, why (e.g. "not enough history yet").
    drops_baseline: str = ""
    drops_note: str = ""


def summarise(
    snapshot: Snapshot,
    oldest: Mapping[WorkloadKey, HistoryPoint],
    now_minute_t: int,
    *,
    min_rps: float = 0.0,
    baseline: str = "",
    note: str = "",
) -> Overview:
    """The overview of ``snapshot``; ``oldest`` holds each workload's point to compare with
    (its baseline), ``now_minute_t`` the snapshot's minute (unix seconds). Drops count only
    for workloads that served at least ``min_rps`` at their baseline; ``baseline`` names it
    and ``note`` says why there are no drops to show."""
    workloads = snapshot.workloads
    namespaces = sorted(snapshot.namespaces, key=lambda n: n.name)
    return Overview(
        totals=totals(workloads),
        drops=drops(workloads, oldest, now_minute_t, min_rps=min_rps),
        namespaces=worst_namespaces(namespaces)[:OVERVIEW_NAMESPACES],
        control_plane=snapshot.control_plane,
        namespace_count=len(namespaces),
        drops_baseline=baseline,
        drops_note=note,
    )


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
    *,
    min_rps: float = 0.0,
) -> list[Drop]:
    """The workloads that fell the most against their earlier point in ``oldest``, among
    those that served at least ``min_rps`` then: below it a fall is noise (one failure
    of three requests is a third)."""
    found = []
    for workload in workloads:
        before = oldest.get(workload.key)
        if before is None or before.t >= now_minute_t:
            continue
        if min_rps > 0 and (before.rps or 0.0) < min_rps:
            continue
        fall = drop_of(workload, before)
        if fall > 0:
            found.append(Drop(workload, before.t, before.success_rate, before.rps, fall))
    found.sort(key=lambda d: (-d.fall, d.workload.namespace, d.workload.kind, d.workload.name))
    return found[:limit]


def namespace_worst_first(namespace: Namespace) -> tuple:
    """Sort key: most critical workloads first, then warnings, then unmeshed ones, then the
    busiest."""
    counts = namespace.health_counts or {}
    return (
        -counts.get(CRITICAL, 0),
        -counts.get(WARNING, 0),
        -counts.get(NOT_MESHED, 0),
        -(namespace.rps or 0.0),
    )


def worst_namespaces(namespaces: Sequence[Namespace]) -> list[Namespace]:
    """Namespaces worst first (``namespace_worst_first``), ties by name."""
    return sorted(sorted(namespaces, key=lambda n: n.name), key=namespace_worst_first)
