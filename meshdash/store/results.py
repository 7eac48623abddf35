"""What the snapshot store hands back to views: small dataclasses around the mesh model."""

from dataclasses import dataclass, field
from typing import NamedTuple

from meshdash.mesh.model import ControlPlane, Edge, Namespace, Pod, Route, Workload


class StoreUnavailable(Exception):
    """Redis cannot be reached: views show an error page instead of failing with a 500."""


@dataclass
class SnapshotMeta:
    version: str
    window: str
    taken_at: float
    collect_seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)
    prometheus_seconds: float = 0.0
    kubernetes_seconds: float = 0.0
    query_count: int = 0
    workload_count: int = 0
    # The last collection's failure; None when the last collection succeeded.
    failure_reason: str | None = None
    failed_at: float | None = None

    @property
    def stale(self) -> bool:
        failed_since = self.failed_at is not None and self.failed_at >= self.taken_at
        return failed_since or bool(self.errors)

    def age_seconds(self, now: float) -> float:
        return max(0.0, now - self.taken_at)


@dataclass
class WorkloadDetail:
    workload: Workload
    callers: list[Edge]  # edges whose destination is this workload
    callees: list[Edge]  # edges whose source is this workload
    pods: list[Pod]
    routes: list[Route]


@dataclass(frozen=True)
class HistoryPoint:
    t: int  # unix seconds, aligned to the minute
    success_rate: float | None
    rps: float | None
    latency_ms_p99: float | None


class SparkPoint(NamedTuple):
    """A HistoryPoint as a plain tuple with the same attributes: a list page draws thousands."""

    t: int
    success_rate: float | None
    rps: float | None
    latency_ms_p99: float | None


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
    """A workload whose success rate or request rate fell against its oldest history point."""

    workload: Workload
    since: int  # unix seconds of the point compared against
    success_rate_before: float | None
    rps_before: float | None
    fall: float  # the score drops are ranked by, see meshdash.store.overview


@dataclass
class Overview:
    """Everything on the overview, bounded: read as one small blob whatever the mesh's size."""

    totals: Totals
    attention: list[Workload]
    drops: list[Drop]
    namespaces: list[Namespace]  # the ones needing attention most, at most a handful
    control_plane: ControlPlane
    namespace_count: int = 0
    bad_inject_namespaces: list[Namespace] = field(default_factory=list)  # the first few
    bad_inject_count: int = 0
    injection_failures: list[Workload] = field(default_factory=list)  # the first few
    injection_failure_count: int = 0
    # Namespaces holding injection failures; empty when they are too many for one URL.
    injection_failure_namespaces: list[str] = field(default_factory=list)
