"""What one collection knows about the mesh, as plain dataclasses.

The collectors build these from Prometheus and the Kubernetes API; the snapshot store keeps
them in Redis; views and templates read them. Nothing here imports Django or Redis.

Every name and label value in here came from the cluster and is untrusted text: templates
escape it, and the collectors bound its length (``bound_text``).
"""

from dataclasses import dataclass, field

# Windows the dashboard offers, with their length in seconds.
WINDOWS: dict[str, int] = {"1m": 60, "10m": 600, "1h": 3600}

# Workload kinds meshdash knows, keyed by the Prometheus label Linkerd puts on proxy series.
KIND_BY_PROM_LABEL: dict[str, str] = {
    "deployment": "deployment",
    "statefulset": "statefulset",
    "daemonset": "daemonset",
    "k8s_job": "job",
    "cronjob": "cronjob",
}
KINDS: tuple[str, ...] = ("deployment", "statefulset", "daemonset", "job", "cronjob")

MAX_TEXT = 253  # the longest Kubernetes name; label values are cut to this too


def bound_text(value: object, limit: int = MAX_TEXT) -> str:
    """Untrusted text from the cluster or Prometheus, as a string of bounded length."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class WorkloadKey:
    namespace: str
    kind: str  # one of KINDS
    name: str

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


@dataclass
class Workload:
    namespace: str
    kind: str
    name: str
    meshed_pods: int = 0
    total_pods: int = 0
    # Inbound golden metrics over the window; None where there was no traffic.
    success_rate: float | None = None  # fraction 0..1
    rps: float = 0.0
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    latency_ms_p99: float | None = None
    # Outbound totals (what this workload sends to others).
    outbound_rps: float = 0.0
    outbound_success_rate: float | None = None
    # TCP, inbound side.
    tcp_open_connections: float = 0.0
    tcp_read_bytes_per_second: float = 0.0
    tcp_write_bytes_per_second: float = 0.0
    team: str = ""  # value of the owner-team label, if any
    last_rollout: float | None = None  # unix seconds
    inject_annotation: str = ""  # linkerd.io/inject on the pod template
    health: str = ""  # set by meshdash.mesh.health

    @property
    def key(self) -> WorkloadKey:
        return WorkloadKey(self.namespace, self.kind, self.name)


@dataclass
class Edge:
    """Traffic from one workload to another over the window.

    Rate and success come from the client's proxy (outbound). For mTLS edges the p99 comes from
    the server's proxy (its inbound latency by client identity), which spares Prometheus a second
    bucket aggregation over every outbound series; plain-text edges keep the client's p99.
    """

    src_namespace: str
    src_kind: str
    src_name: str
    dst_namespace: str
    dst_kind: str
    dst_name: str
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None
    tls: bool = False
    client_id: str = ""
    server_id: str = ""
    # False when the source is not meshed (seen only from the destination's inbound side).
    src_meshed: bool = True

    @property
    def src(self) -> WorkloadKey:
        return WorkloadKey(self.src_namespace, self.src_kind, self.src_name)

    @property
    def dst(self) -> WorkloadKey:
        return WorkloadKey(self.dst_namespace, self.dst_kind, self.dst_name)


@dataclass
class Route:
    namespace: str
    kind: str
    name: str
    route: str
    service: str = ""
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None


@dataclass
class Pod:
    namespace: str
    name: str
    workload_kind: str = ""
    workload_name: str = ""
    phase: str = ""
    status: str = ""  # what kubectl shows, e.g. Running, Init:0/1, CrashLoopBackOff
    ready: bool = False
    restarts: int = 0
    node: str = ""
    created_at: float | None = None  # unix seconds
    has_proxy: bool = False
    proxy_version: str = ""
    inject_annotation: str = ""  # linkerd.io/inject on the pod
    namespace_inject_annotation: str = ""  # linkerd.io/inject on its namespace
    proxy_memory_bytes: float | None = None
    proxy_memory_limit_bytes: float | None = None
    proxy_cert_expiry: float | None = None  # unix seconds


@dataclass
class Namespace:
    name: str
    inject_annotation: str = ""
    workloads: int = 0
    meshed_pods: int = 0
    total_pods: int = 0
    rps: float = 0.0
    success_rate: float | None = None
    health_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ControlPlane:
    namespace: str = "linkerd"
    version: str = ""
    components: list[dict] = field(default_factory=list)  # {"name", "pods", "ready", "version"}
    trust_anchor_not_after: float | None = None  # unix seconds
    issuer_not_after: float | None = None
    data_plane_versions: dict[str, int] = field(default_factory=dict)  # version -> proxies


@dataclass
class Snapshot:
    """One collection of one window. ``errors`` maps a source part to why it failed."""

    window: str
    taken_at: float  # unix seconds, when the collection started
    collect_seconds: float = 0.0
    workloads: list[Workload] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    control_plane: ControlPlane = field(default_factory=ControlPlane)
    errors: dict[str, str] = field(default_factory=dict)
    prometheus_seconds: float = 0.0
    kubernetes_seconds: float = 0.0
    query_count: int = 0
