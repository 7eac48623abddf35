"""What the snapshot store hands back to views: small dataclasses around the mesh model."""

from dataclasses import dataclass, field
from typing import NamedTuple

from meshdash.mesh.model import (
    Authorization,
    Edge,
    Event,
    Namespace,
    Pod,
    Route,
    Service,
    Workload,
)

# The points ``SnapshotStore.history`` hands back, defined with the mesh model.
from meshdash.mesh.model import HistoryPoint as HistoryPoint


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
    # The HealthRules the collection judged by (field -> value), for the pages' legend.
    health_rules: dict = field(default_factory=dict)
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
    events: list[Event] = field(default_factory=list)  # newest first
    authorizations: list[Authorization] = field(default_factory=list)


@dataclass
class ServiceDetail:
    service: Service
    workloads: list[Workload]  # the backing workloads the snapshot has
    callers: list[Edge]  # edges whose client called this Service, busiest first
    routes: list[Route]


@dataclass
class MtlsPosture:
    namespaces: list[Namespace]  # each with its mtls_share
    plaintext_edges: list[Edge]  # between meshed workloads, not over mTLS; busiest first
    unmeshed_clients: list[Edge]  # clients without a proxy calling meshed workloads


@dataclass
class AuthzSummary:
    top_denials: list[Authorization]  # most denied first (lists.MAX_TOP_DENIALS)
    by_policy: list[Authorization]  # by namespace, Server and policy (lists.MAX_POLICY_ROWS)
    total: int = 0  # rows before the bound


class SparkPoint(NamedTuple):
    """A HistoryPoint as a plain tuple with the same attributes: a list page draws thousands."""

    t: int
    success_rate: float | None
    rps: float | None
    latency_ms_p99: float | None
