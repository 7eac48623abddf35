"""What one collection knows about the mesh, as plain dataclasses.

The collectors build these from Prometheus and the Kubernetes API; the snapshot store keeps
them in Redis; views and templates read them. Nothing here imports Django or Redis.

Every name and label value in here came from the cluster and is untrusted text: templates
escape it, and the collectors bound its length (``bound_text``).
"""

from dataclasses import dataclass, field

# Workload kinds, and the Prometheus label naming each: views of the table in mesh.kinds.
from meshdash.mesh.kinds import KIND_BY_PROM_LABEL as KIND_BY_PROM_LABEL
from meshdash.mesh.kinds import KINDS as KINDS


@dataclass(frozen=True)
class Window:
    """A time window the dashboard offers."""

    name: str  # in URLs, and the range of its PromQL
    seconds: int
    refresh_seconds: int  # how often it is collected, unless its setting says otherwise
    refresh_setting: str  # the environment variable that says otherwise


WINDOW_TABLE: tuple[Window, ...] = (
    Window("1m", 60, 10, "MESHDASH_REFRESH_SECONDS"),
    Window("10m", 600, 60, "MESHDASH_REFRESH_SECONDS_10M"),
    Window("1h", 3600, 300, "MESHDASH_REFRESH_SECONDS_1H"),
)
# Windows with their length in seconds.
WINDOWS: dict[str, int] = {window.name: window.seconds for window in WINDOW_TABLE}

# The workload label (on the object or its pod template) naming the team that owns it.
TEAM_LABEL = "team"

MAX_TEXT = 253  # the longest Kubernetes name; label values are cut to this too


def bound_text(value: object, limit: int = MAX_TEXT) -> str:
    """Untrusted text from the cluster or Prometheus, as a string of bounded length."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_LABELS = 32  # labels kept per workload or pod, for the label filter
# Labels the system sets per pod or revision: they name one pod or one rollout, no group.
NOISY_LABEL_PREFIXES = ("linkerd.io/", "batch.kubernetes.io/", "statefulset.kubernetes.io/")
NOISY_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "controller-uid",
        "job-name",
        "apps.kubernetes.io/pod-index",
    }
)


def bound_labels(labels: object) -> dict[str, str]:
    """Kubernetes labels as the label filter keeps them: the system's per-pod labels left
    out, at most MAX_LABELS, keys and values bounded."""
    if not isinstance(labels, dict):
        return {}
    kept = {}
    for key in sorted(labels, key=str):
        name = bound_text(key, 317)
        if name in NOISY_LABELS or name.startswith(NOISY_LABEL_PREFIXES):
            continue
        kept[name] = bound_text(labels[key], 63)
        if len(kept) == MAX_LABELS:
            break
    return kept


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
    team: str = ""  # value of its TEAM_LABEL, if any
    last_rollout: float | None = None  # unix seconds
    inject_annotation: str = ""  # linkerd.io/inject on the pod template
    health: str = ""  # set by meshdash.mesh.health
    # Linkerd's own inbound traffic, never in the numbers above: the kubelet's probes (of the
    # admin port and of the application's port) and Prometheus's scrapes of the admin port.
    probe_rps: float = 0.0
    probe_success_rate: float | None = None
    scrape_rps: float = 0.0
    scrape_success_rate: float | None = None
    # TCP, inbound side, over the window: connections opened, closed, closed with an error.
    tcp_opened_per_second: float = 0.0
    tcp_closed_per_second: float = 0.0
    tcp_close_errors_per_second: float = 0.0
    tcp_close_error_rate: float | None = None  # share of closed connections; None: none closed
    # What the health was judged on: "http" (requests), "tcp" (connections, for workloads
    # that serve no HTTP), "" (neither).
    judged_on: str = ""
    # Why the health is what it is, in words (mesh.health), e.g. "success 98.7 % is below 99 %".
    health_reason: str = ""
    # Share of the application's inbound requests that came over mTLS; None: no requests.
    mtls_share: float | None = None
    # Inbound authorization by the proxies' policy (application ports only).
    authz_allowed_rps: float = 0.0
    authz_denied_rps: float = 0.0
    tcp_authz_denied_per_second: float = 0.0
    # Labels of the object and its pod template (bounded: mesh.model.bound_labels).
    labels: dict[str, str] = field(default_factory=dict)
    events: int = 0  # recent events kept for it and its pods

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
    # TCP connections from the client's proxy to the destination: open now, opened per second.
    # An edge to a workload that serves TCP only has these and no requests.
    tcp_open_connections: float = 0.0
    tcp_opened_per_second: float = 0.0
    # Set by meshdash.mesh.health at collection. Rows written before edges carried it decode
    # with "" (the field is last, and the codec fills missing trailing fields with defaults).
    health: str = ""
    health_reason: str = ""
    # The Service the client called (``dst_service``), the busiest one when several.
    dst_service: str = ""

    @property
    def tcp_only(self) -> bool:
        return not self.rps and bool(self.tcp_open_connections or self.tcp_opened_per_second)

    @property
    def src(self) -> WorkloadKey:
        return WorkloadKey(self.src_namespace, self.src_kind, self.src_name)

    @property
    def dst(self) -> WorkloadKey:
        return WorkloadKey(self.dst_namespace, self.dst_kind, self.dst_name)


# Route kinds, by the API that defines them, and the side whose proxy measures each.
SERVICE_PROFILE = "ServiceProfile"
HTTP_ROUTE = "HTTPRoute"
GRPC_ROUTE = "GRPCRoute"
# The default route the policy controller gives a Service without routes of its own.
DEFAULT_HTTP_ROUTE = "default HTTP route"
DEFAULT_GRPC_ROUTE = "default gRPC route"
INBOUND = "inbound"  # measured by the server's proxy
OUTBOUND = "outbound"  # measured by the client's proxy


@dataclass
class Route:
    """A route's traffic over the window, as one side's proxy measured it.

    ``namespace``/``kind``/``name`` name the workload whose proxy measured it: the server for a
    ServiceProfile route (``direction`` inbound), the client for HTTPRoute and GRPCRoute
    routes (outbound), whose ``service`` is then the Service called.
    """

    namespace: str
    kind: str
    name: str
    route: str
    service: str = ""
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None
    route_kind: str = ""  # SERVICE_PROFILE, HTTP_ROUTE, GRPC_ROUTE or a default route
    direction: str = ""  # INBOUND or OUTBOUND

    @property
    def measured_by(self) -> str:
        return {INBOUND: "server", OUTBOUND: "client"}.get(self.direction, "")


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
    # Per container: the proxy's restarts and the reason its last run ended ("OOMKilled",
    # "Error"...), and the same for the application's containers (the first that has one).
    proxy_restarts: int = 0
    proxy_last_termination: str = ""
    app_last_termination: str = ""
    app_last_termination_container: str = ""
    waiting_reason: str = ""  # a container waiting now, e.g. CrashLoopBackOff
    init_waiting: str = ""  # the init container not done yet, e.g. linkerd-init
    # Inbound application traffic of this pod over the window.
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None
    labels: dict[str, str] = field(default_factory=dict)  # bound_labels of the pod
    proxy_cert_refreshed_at: float | None = None  # when the proxy last got its leaf, unix s
    problems: list[str] = field(default_factory=list)  # of mesh.pods.POD_PROBLEMS
    proxy_cpu_cores: float | None = None  # the proxy's CPU over the window, in cores

    @property
    def proxy_memory_share(self) -> float | None:
        """The proxy's resident memory as a share of its limit; None without both."""
        if not self.proxy_memory_bytes or not self.proxy_memory_limit_bytes:
            return None
        return self.proxy_memory_bytes / self.proxy_memory_limit_bytes


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
    mtls_share: float | None = None  # of its workloads' inbound application requests
    authz_denied_rps: float = 0.0


@dataclass
class ControlPlane:
    namespace: str = "linkerd"
    version: str = ""
    components: list[dict] = field(default_factory=list)  # {"name", "pods", "ready", "version"}
    trust_anchor_not_after: float | None = None  # unix seconds
    issuer_not_after: float | None = None
    data_plane_versions: dict[str, int] = field(default_factory=dict)  # version -> proxies
    # How long the identity issuer makes proxies' leaf certificates last (linkerd-config
    # identity.issuer.issuanceLifetime).
    leaf_lifetime_seconds: float = 86400.0


@dataclass
class Service:
    """A Kubernetes Service, the workloads its selector picks and its traffic as the callers'
    proxies saw it (outbound, by ``dst_service``)."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ip: str = ""
    ports: list[str] = field(default_factory=list)  # "name 8080/TCP"
    selector: dict[str, str] = field(default_factory=dict)
    workloads: list[str] = field(default_factory=list)  # "kind/name" in its namespace
    meshed: bool = False  # some backing workload is meshed
    rps: float = 0.0
    success_rate: float | None = None
    latency_ms_p99: float | None = None  # its backing workloads' inbound (server side)
    mtls_share: float | None = None
    callers: int = 0  # meshed client workloads
    health: str = ""
    health_reason: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass
class Authorization:
    """Inbound authorization decisions over the window at one workload, per Server and policy
    (``srv_*`` and ``authz_*`` labels of ``inbound_{http,tcp}_authz_*``); a denial has no
    policy (``policy`` "")."""

    namespace: str
    kind: str
    name: str
    server_kind: str = ""  # "default" or "server"
    server: str = ""  # e.g. "all-unauthenticated" (a default policy) or a Server's name
    policy_kind: str = ""  # "default", "authorizationpolicy", "serverauthorization"
    policy: str = ""
    http_allowed_rps: float = 0.0
    http_denied_rps: float = 0.0
    tcp_allowed_per_second: float = 0.0
    tcp_denied_per_second: float = 0.0

    @property
    def denied(self) -> float:
        return self.http_denied_rps + self.tcp_denied_per_second


@dataclass
class Event:
    """A Kubernetes event about a workload or one of its pods (newest kept per object)."""

    namespace: str
    object_kind: str  # the involved object's kind: Pod, Deployment, ReplicaSet, Node...
    object_name: str
    type: str = ""  # Normal or Warning
    reason: str = ""
    message: str = ""
    count: int = 1
    first_seen: float | None = None  # unix seconds
    last_seen: float | None = None
    source: str = ""  # the component that reported it
    # The workload it is shown with (an event of a pod or a ReplicaSet: its owner).
    workload_kind: str = ""
    workload_name: str = ""

    @property
    def workload_key(self) -> WorkloadKey:
        return WorkloadKey(self.namespace, self.workload_kind, self.workload_name)


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
    services: list[Service] = field(default_factory=list)
    authorizations: list[Authorization] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    health_rules: dict[str, float] = field(default_factory=dict)  # the HealthRules applied
    prometheus_seconds: float = 0.0
    kubernetes_seconds: float = 0.0
    query_count: int = 0


@dataclass(frozen=True)
class HistoryPoint:
    """A workload's 1m-window metrics at one minute; meshdash keeps the last hour of them."""

    t: int  # unix seconds, aligned to the minute
    success_rate: float | None
    rps: float | None
    latency_ms_p99: float | None
