"""A deterministic simulated Linkerd mesh: its objects, its traffic and the truth about both.

``build_mesh(workloads, seed)`` returns the same mesh for the same arguments (and the same
``epoch``, which defaults to the start of the current UTC day: a process rebuilding the mesh
of a running demo should read the arguments from its ``mesh.json``, ``runner.load_mesh``).
The exporter (``meshdash.demo.exporter``) and the Kubernetes API stand-in
(``meshdash.demo.kubeapi``) only render what is decided here, and the tests compare what the
collectors find against the truth functions of ``DemoMesh``.

Traffic model (stated per workload, see ``DemoWorkload``):
Numbers: ``base_rps`` is log-normal around 8 (0.2 to 400); 40 % of workloads never fail, the
others succeed 98.5 % to 99.99 %; median latency 3 to 60 ms. About one workload in 100 has an
error burst (55 % to 85 % success) and one in 120 a latency spike (5 % of responses near 2.5 s).

- ``base_rps``: inbound requests per second, split over its callers (``DemoEdge``) and, for a
  few workloads, an unmeshed client (``unmeshed_client_rps``, seen inbound with
  ``tls="no_identity"``). The ingress controller's own inbound is all from outside the mesh.
- ``protocol``: HTTP; gRPC for about one service in six (port 9090: every response HTTP 200,
  success by ``grpc_status``, ``GRPC_FAILURE_CODES``; at least one fails noticeably); TCP for
  databases and caches (ports 5432 and 6379, opaque by Linkerd's defaults: connections, no
  requests), some of which reset connections (``close_error_share``).
- ``success_rate``: the share of responses classified success (HTTP: status 200, failures 500
  and, in an ``error-burst``, a quarter of them streams reset before any response).
  Workloads in an ``error-burst`` incident answer well below 95 %.
- ``latency``: a log-normal distribution of response time, plus a slow mode for workloads in a
  ``latency-spike`` incident (p99 in seconds). Quantiles are given as Prometheus's
  ``histogram_quantile`` computes them from Linkerd's 26 buckets.
- Each client pod sends its share of an edge to one endpoint pod of the callee (connections
  are long-lived), which bounds the outbound series per pod.
- Routes: a few HTTP services have ServiceProfile routes (measured by the server), some have
  HTTPRoutes or GRPCRoutes (``policy_routes``, measured by their clients); calls to every other
  Service take the default route ``http``.
- Jobs (kind ``job``) only call: their proxy is a native sidecar; some have finished (pod
  Succeeded, no proxy running, no metrics).
- Linkerd's own traffic, on every running proxy: the viz Prometheus's scrapes
  (``SCRAPE_RPS``), the kubelet's probes of the admin port (``ADMIN_PROBE_RPS``) and of the
  application's httpGet probes (``APP_PROBE_RPS`` each, on a quarter of HTTP workloads). The
  truth functions keep it apart: ``inbound_rps``, ``success_rate``, ``tcp`` and the others are
  the application's; ``probe_rps`` and ``scrape_rps`` are Linkerd's.
- Proxy memory is ``memory_base + memory_slope * (t - started_at)``: it creeps up linearly on a
  few pods and is flat elsewhere.

Every counter the exporter serves is an exact linear function of time,
``value(t) = rate * (t - started_at)`` with ``started_at`` the pod's start. Like a real proxy
the exporter sends no timestamps, so Prometheus stamps each sample with its scrape's start, a
moment before the value was computed: ``rate()`` is the configured rate up to that delay's
spread over the window (the exporter records when it computed each scrape, for tests to bound
it), whenever Prometheus extrapolates to both ends of the window (its rule: the nearest sample
less than 1.1 scrape intervals away). Ratios of counters from the same scrapes are exact.

Realistic mistakes: unmeshed workloads (``linkerd.io/inject: disabled`` on the template, no
proxy, no metrics), a namespace annotated ``linkerd.io/inject: "true"`` (invalid, so its pods
are not injected), proxies of an older release (``OLD_PROXY_VERSION``), an issuer certificate that
expires ``ISSUER_DAYS_LEFT`` days after the epoch, one pod stuck in ``Init:0/1`` and text that
needs HTML escaping in annotations, a status message and label values. And what an on-call
engineer looks for (``_Trouble``, truth in ``pod_problems``, ``plaintext_edges``,
``service_rps``, ``pod_rps``, ``mtls_share``): proxies and applications OOMKilled, a replica in
CrashLoopBackOff and one never ready (both serve nothing), a port that skips its proxy (plain
text between meshed workloads), Servers denying an identity, and the events about all of it.
For the on-call checks that read the cluster (``_KubernetesSeeds``, truth in
``kubernetes_check_seeds``): Linkerd's admission webhooks (the policy validator's CA bundle
expiring within 60 days), Gatekeeper failing closed on every pod and denying one workload's,
Vault's injector after Linkerd's, a pod trusting a previous anchor, ``linkerd.io/inject`` on a
Deployment's own metadata, and a namespace annotated after some of its pods were created.
And (``_OnCallSeeds``) the proxy injector a release ahead of the rest of the control plane, the
busiest service's proxies near a 64Mi limit, ``linkerd.io/inject: "true"`` on a pod template.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import random
from dataclasses import dataclass, field, replace

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LINKERD_NAMESPACE = "linkerd"
# Linkerd 2.18 (edge-25.4.4, which pins proxy v2.294.0), and proxies of an older release that
# still export the certificate metrics under their pre-2.16 names (``identity_cert_*``).
LINKERD_VERSION = "edge-25.4.4"
OLD_PROXY_VERSION = "edge-24.5.1"
# Proxies newer than the control plane (upgrade order broken): one workload, ``_CheckSeeds``.
NEWER_PROXY_VERSION = "edge-25.5.1"
# proxy_build_info{version} is the proxy's own build version, without the leading "v". The
# newer release's build number is a stand-in (not checked against linkerd2's .proxy-version):
# collectors read the release from the pod's linkerd.io/proxy-version annotation.
PROXY_BUILD_VERSIONS = {
    LINKERD_VERSION: "2.294.0",
    OLD_PROXY_VERSION: "2.230.0",
    NEWER_PROXY_VERSION: "2.296.0",
}
LEGACY_CERT_METRIC_VERSIONS = frozenset({OLD_PROXY_VERSION})
# The proxy memory limit Linkerd's docs start from (the meshdash check's busy_min_limit_mib):
# the busiest service's proxies run on it (``_OnCallSeeds``), no other pod does.
DEFAULT_PROXY_MEMORY_LIMIT = 64 * 1024 * 1024
PROXY_IMAGE = "cr.l5d.io/linkerd/proxy"
CLUSTER_DOMAIN = "cluster.local"
TRUST_DOMAIN = "cluster.local"
ISSUER_DAYS_LEFT = 20
# Proxies' leaf certificates (identity.issuer.issuanceLifetime 24h), renewed at 70 % of it.
LEAF_LIFETIME_SECONDS = 24 * 3600.0
LEAF_RENEWAL_SECONDS = 0.7 * LEAF_LIFETIME_SECONDS
PROXY_ADMIN_PORT = 4191
MIB = 1024 * 1024

PROTOCOL_HTTP = "http"
PROTOCOL_GRPC = "grpc"
PROTOCOL_TCP = "tcp"  # an opaque port (Linkerd's defaults include 5432 and 6379): TCP series only
# gRPC status codes Linkerd classifies as failures (linkerd2-proxy client-policy grpc.rs).
GRPC_FAILURE_CODES = frozenset({2, 4, 7, 13, 14, 15})
# Traffic every meshed proxy receives that no application served: the viz Prometheus
# scraping /metrics on the admin port, the kubelet's /live and /ready probes there, and the
# application's own httpGet probes on its port; the default probe period is 10 s.
SCRAPE_RPS = 0.1
ADMIN_PROBE_RPS = 0.2
APP_PROBE_RPS = 0.1
VIZ_PROMETHEUS_IDENTITY_SA = ("prometheus", "linkerd-viz")
CONNECTION_LIFETIME_SECONDS = 300.0  # application connections are replaced at this pace

# Linkerd's response_latency_ms bucket bounds; +Inf follows the last one.
LATENCY_BOUNDS_MS: tuple[int, ...] = (
    1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000,
    10000, 20000, 30000, 40000, 50000,
)  # fmt: skip

# outbound_*_route_request_duration_seconds bucket bounds (linkerd2-proxy route/metrics.rs).
ROUTE_REQUEST_BOUNDS_S: tuple[float, ...] = (0.05, 0.5, 1.0, 10.0)

INCIDENT_ERRORS = "error-burst"
INCIDENT_LATENCY = "latency-spike"

# Shares of workloads with 1..5 pods and of kinds. Chosen with the series budget in mind
# (meshdash.demo.exporter.series_count): most services run one or two replicas.
_POD_COUNT_WEIGHTS = {1: 75, 2: 14, 3: 6, 4: 3, 5: 2}
_KIND_WEIGHTS = {"deployment": 84, "statefulset": 10, "daemonset": 5, "job": 1}
_EXTRA_CALLEE_CHANCE = 0.15
_UNMESHED_SHARE = 0.05
_OLD_PROXY_SHARE = 0.1
_TEAM_SHARE = 0.6
_VERSION_LABEL_SHARE = 0.6
_HTTP_PROBE_SHARE = 0.25
_GRPC_ROUTE_SHARE = 0.3
_HTTP_ROUTE_SHARE = 0.05

_DOMAINS = (
    "payments", "checkout", "catalog", "search", "orders", "shipping", "inventory", "accounts",
    "billing", "notifications", "recommendations", "reviews", "pricing", "fraud", "ledger",
    "media", "analytics", "messaging", "profiles", "cart", "loyalty", "support", "geo",
    "reporting", "identity",
)  # fmt: skip
_ENVIRONMENTS = ("", "-eu", "-us", "-apac", "-staging", "-canary", "-internal", "-edge")
_ROLES = (
    "api", "web", "worker", "gateway", "db", "cache", "indexer", "scheduler", "events", "sync",
    "auth", "render", "exporter", "importer", "router", "store", "feed", "notifier", "audit",
    "quota",
)  # fmt: skip
_STATEFUL_ROLES = ("db", "cache", "store", "events", "indexer")
_DAEMON_NAMES = ("node-agent", "log-shipper", "metrics-agent", "dns-cache", "csi-node")
_TEAMS = ("payments", "platform", "growth", "core", "data", "search", "sre")
_ROUTES = (
    "GET /api/v1/items", "GET /api/v1/items/{id}", "POST /api/v1/items", "GET /healthz/ready",
    "PUT /api/v1/items/{id}", "DELETE /api/v1/items/{id}",
)  # fmt: skip
_JOB_ROLES = ("migrate", "reindex", "backfill", "export", "compact")
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

HOSTILE_DESCRIPTION = '<script>alert("meshdash")</script> & "quoted" \'text\' <b>bold</b>'
INJECT = "linkerd.io/inject"
LINKERD_INJECTOR_WEBHOOK = "linkerd-proxy-injector-webhook-config"
LINKERD_POLICY_WEBHOOK = "linkerd-policy-validator-webhook-config"
HOSTILE_STATUS_MESSAGE = 'linkerd-init: iptables "-t nat" failed <exit 1> & will retry'


@dataclass(frozen=True)
class LatencyModel:
    """Log-normal response time in ms, optionally mixed with a slow mode."""

    median_ms: float
    sigma: float
    slow_fraction: float = 0.0
    slow_median_ms: float = 0.0
    slow_sigma: float = 0.3

    def cdf(self, ms: float) -> float:
        fast = _lognormal_cdf(ms, self.median_ms, self.sigma)
        if not self.slow_fraction:
            return fast
        slow = _lognormal_cdf(ms, self.slow_median_ms, self.slow_sigma)
        return (1 - self.slow_fraction) * fast + self.slow_fraction * slow

    def cumulative_fractions(self, bounds_ms: tuple[float, ...] = LATENCY_BOUNDS_MS):
        """Share of responses at or below each bound (ms; LATENCY_BOUNDS_MS by default)."""
        return tuple(self.cdf(bound) for bound in bounds_ms)

    def mean_ms(self) -> float:
        fast = self.median_ms * math.exp(self.sigma**2 / 2)
        slow = self.slow_median_ms * math.exp(self.slow_sigma**2 / 2)
        return (1 - self.slow_fraction) * fast + self.slow_fraction * slow


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2))))


def histogram_quantile(
    q: float, cumulative: tuple[float, ...], bounds: tuple[float, ...] = LATENCY_BOUNDS_MS
) -> float:
    """Prometheus's histogram_quantile over buckets with ``bounds`` and +Inf.

    ``cumulative`` are the finite buckets' cumulative counts (or rates); the +Inf bucket is 1
    when they are fractions. Same interpolation as Prometheus 2.x ``bucketQuantile``.
    """
    counts = [*cumulative, 1.0]
    rank = q * counts[-1]
    b = next(i for i, count in enumerate(counts) if count >= rank)
    if b == len(counts) - 1:
        return float(bounds[-1])
    start, count = 0.0, counts[b]
    if b > 0:
        start = float(bounds[b - 1])
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (bounds[b] - start) * (rank / count)


def identity(service_account: str, namespace: str) -> str:
    """The mTLS identity Linkerd gives a service account's proxies."""
    trust = f"{LINKERD_NAMESPACE}.{TRUST_DOMAIN}"
    return f"{service_account}.{namespace}.serviceaccount.identity.{trust}"


@dataclass
class DemoPod:
    name: str
    namespace: str
    ip: str
    node: str
    started_at: float  # unix seconds; every counter of this pod's proxy starts from here
    has_proxy: bool
    proxy_version: str = ""
    phase: str = "Running"
    ready: bool = True
    restarts: int = 0
    init_stuck: bool = False  # Pending, linkerd-init waiting: kubectl shows Init:0/1
    memory_base: float = 0.0  # proxy resident memory, bytes
    memory_slope: float = 0.0  # bytes per second since started_at
    memory_limit: int = 250 * MIB
    cpu_rate: float = 0.0  # proxy CPU seconds per second
    cert_expiry: float = 0.0  # the proxy's leaf certificate not-after, unix seconds
    ordinal: int = 0  # position within its workload
    native_sidecar: bool = False  # the proxy is an init container with restartPolicy Always
    # Why the application's last run ended ("Error", "OOMKilled"), when it restarted; the
    # proxy's own restarts and why its last run ended.
    app_last_termination: str = ""
    proxy_restarts: int = 0
    proxy_last_termination: str = ""
    crash_looping: bool = False  # the application waits in CrashLoopBackOff (not ready)
    # linkerd.io/trust-root-sha256 when it is not the control plane's (injected before the
    # trust anchor changed, never restarted since).
    trust_root_sha256: str = ""
    # Leaf refreshes that fail (control_identity_cert_refreshes_total{result="error"}), per
    # second: the proxy got a certificate it could not use; its leaf is no longer renewed.
    cert_refresh_errors_per_second: float = 0.0
    # Control-plane components ("destination", "identity") this proxy fails every call to.
    failing_control_plane: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.phase == "Running"

    @property
    def created_at(self) -> float:
        """Its creationTimestamp: a moment before it started."""
        return self.started_at - 3

    @property
    def exports_metrics(self) -> bool:
        return self.has_proxy and self.running

    def proxy_memory(self, t: float) -> float:
        return self.memory_base + self.memory_slope * (t - self.started_at)

    @property
    def renews_leaf(self) -> bool:
        return not self.cert_refresh_errors_per_second

    def leaf(self, t: float) -> tuple[float, float]:
        """(issued, expires) of the leaf the proxy holds at ``t``: ``cert_expiry`` is the one
        it holds at the epoch, renewed every ``LEAF_RENEWAL_SECONDS`` after its issue unless
        its refreshes fail (then it keeps that one)."""
        issued = self.cert_expiry - LEAF_LIFETIME_SECONDS
        if self.renews_leaf and t > issued:
            issued += math.floor((t - issued) / LEAF_RENEWAL_SECONDS) * LEAF_RENEWAL_SECONDS
        return issued, issued + LEAF_LIFETIME_SECONDS


@dataclass
class DemoRoute:
    name: str  # ServiceProfile route name, e.g. "GET /api/v1/items"
    share: float  # of the workload's inbound requests


@dataclass
class DemoPolicyRoute:
    """An HTTPRoute or GRPCRoute attached to the workload's Service (its clients measure it)."""

    kind: str  # "HTTPRoute" or "GRPCRoute"
    name: str
    share: float  # of the requests to the Service


@dataclass
class DemoWorkload:
    namespace: str
    kind: str  # deployment, statefulset, daemonset or job
    name: str
    meshed: bool
    port: int
    service_ip: str
    created_at: float
    rollout_at: float  # creation of the newest ReplicaSet / controller revision
    revision: int
    template_hash: str  # pod-template-hash or controller-revision-hash suffix
    labels: dict[str, str]  # pod template labels (selector labels included)
    annotations: dict[str, str]  # pod template annotations
    team: str = ""
    # Annotations on the workload object's own metadata (beyond its description), e.g.
    # linkerd.io/inject put there by mistake instead of on the pod template.
    object_annotations: dict[str, str] = field(default_factory=dict)
    base_rps: float = 0.0
    success_rate: float = 1.0
    latency: LatencyModel = field(default_factory=lambda: LatencyModel(10.0, 0.5))
    incident: str = ""
    request_bytes: int = 600
    response_bytes: int = 2000
    unmeshed_client_rps: float = 0.0
    routes: list[DemoRoute] = field(default_factory=list)
    pods: list[DemoPod] = field(default_factory=list)
    control_plane_component: str = ""
    service_name: str = ""
    protocol: str = PROTOCOL_HTTP
    http_probes: int = 0  # httpGet probes (readiness, liveness) on the application's port
    stream_error_share: float = 0.0  # of failures: streams reset before any response
    close_error_share: float = 0.0  # of closed inbound connections: ECONNRESET
    policy_routes: list[DemoPolicyRoute] = field(default_factory=list)
    finished: bool = False  # a Job whose pods have completed
    controller_uid: str = ""  # a Job's uid, which its pods carry as a label
    # config.linkerd.io/skip-inbound-ports on its port: its proxy never sees its inbound
    # traffic, and the destination controller gives its clients no identity to verify, so
    # meshed clients call it in plain text.
    skip_inbound: bool = False
    # A policy.linkerd.io Server on its port with an AuthorizationPolicy (the proxies' labels
    # srv_kind="server", authz_kind="authorizationpolicy"); requests and connections from
    # other identities denied (``inbound_{http,tcp}_authz_deny_total``).
    server: str = ""
    authorization_policy: str = ""
    denied_rps: float = 0.0  # HTTP requests denied per second, over its pods
    denied_connections_per_second: float = 0.0  # TCP connections denied per second
    denied_client: str = ""  # the identity being denied

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.kind, self.name)

    @property
    def service_account(self) -> str:
        return self.name

    @property
    def identity(self) -> str:
        return identity(self.service_account, self.namespace)

    @property
    def authority(self) -> str:
        return f"{self.service_name}.{self.namespace}.svc.{CLUSTER_DOMAIN}:{self.port}"

    @property
    def serving_pods(self) -> list[DemoPod]:
        return [pod for pod in self.pods if pod.running]

    @property
    def exporting_pods(self) -> list[DemoPod]:
        return [pod for pod in self.pods if pod.exports_metrics]

    @property
    def speaks_http(self) -> bool:
        """HTTP or gRPC: requests the proxies count (TCP-only workloads have connections)."""
        return self.protocol != PROTOCOL_TCP

    @property
    def serves_mtls(self) -> bool:
        """Its proxies take its inbound traffic, over mTLS from meshed clients."""
        return self.meshed and not self.skip_inbound


@dataclass
class DemoEdge:
    src: DemoWorkload
    dst: DemoWorkload
    rps: float


@dataclass
class Flow:
    """Requests from one client pod (None: an unmeshed client outside the mesh) to one pod."""

    src: DemoWorkload | None
    src_pod: DemoPod | None
    dst: DemoWorkload
    dst_pod: DemoPod
    rps: float
    connections: int


@dataclass
class DemoNamespace:
    name: str
    created_at: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    # When linkerd.io/inject was set on it (its managedFields); None: when it was created.
    annotated_at: float | None = None


@dataclass
class DemoEvent:
    """A core/v1 Event the API stand-in serves (``involvedObject`` kind, namespace, name)."""

    namespace: str  # "" for a Node's
    kind: str  # Pod, ReplicaSet, Deployment, Node
    name: str
    type: str
    reason: str
    message: str
    source: str
    first_seen: float
    last_seen: float
    count: int = 1
    # The workload whose page shows it (a Node's: the workload of the pod it is about).
    workload: tuple[str, str, str] = ("", "", "")


@dataclass
class DemoWebhook:
    """One webhook of a Mutating- or ValidatingWebhookConfiguration (``configuration``), as
    its chart renders it; the API server's defaults filled in when served."""

    configuration: str
    kind: str  # "mutating" or "validating"
    name: str
    service: tuple[str, str]  # (namespace, name) of the Service it calls
    rules: list[dict]
    ca_pem: str  # the caBundle, PEM
    ca_not_after: float
    created_at: float
    path: str = "/"  # on that Service
    failure_policy: str = "Fail"
    reinvocation_policy: str = "Never"  # mutating only
    namespace_selector: dict = field(default_factory=dict)
    object_selector: dict = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # the configuration's

    @property
    def intercepts_pod_creation(self) -> bool:
        return any(
            {"", "*"} & set(r["apiGroups"])
            and {"pods", "*", "*/*"} & set(r["resources"])
            and {"CREATE", "*"} & set(r["operations"])
            for r in self.rules
        )


@dataclass
class Certificates:
    anchor_pem: str
    issuer_pem: str
    issuer_key_pem: str
    anchor_not_after: float
    issuer_not_after: float


@dataclass
class TcpRates:
    open_connections: float
    read_bytes_per_second: float
    write_bytes_per_second: float
    opened_per_second: float = 0.0
    close_errors_per_second: float = 0.0


@dataclass
class DemoMesh:
    seed: int
    epoch: float
    namespaces: list[DemoNamespace]
    workloads: list[DemoWorkload]  # the application workloads, as many as asked for
    control_plane: list[DemoWorkload]
    edges: list[DemoEdge]
    flows: list[Flow]
    nodes: list[str]
    certificates: Certificates
    linkerd_version: str = LINKERD_VERSION
    events: list[DemoEvent] = field(default_factory=list)
    # Admission webhooks, in the order of their configurations and inside each.
    webhooks: list[DemoWebhook] = field(default_factory=list)

    @property
    def all_workloads(self) -> list[DemoWorkload]:
        return self.control_plane + self.workloads

    def workload(self, namespace: str, kind: str, name: str) -> DemoWorkload:
        return {w.key: w for w in self.all_workloads}[(namespace, kind, name)]

    def _inbound_flows(self, w: DemoWorkload) -> list[Flow]:
        # Built once: the truth functions are called for every workload of big meshes.
        if "_flows_by_dst" not in self.__dict__:
            by_dst: dict[int, list[Flow]] = {}
            for f in self.flows:
                by_dst.setdefault(id(f.dst), []).append(f)
            self.__dict__["_flows_by_dst"] = by_dst
        return self.__dict__["_flows_by_dst"].get(id(w), [])

    # --- Truth: what Prometheus shows for each workload. Unmeshed workloads export nothing.
    # Application traffic only, unless the name says probe or scrape.

    def inbound_rps(self, w: DemoWorkload) -> float:
        """rate(request_total{direction="inbound"}) of the application, over the workload's pods."""
        if not w.serves_mtls or not w.speaks_http:
            return 0.0
        return sum(f.rps for f in self._inbound_flows(w))

    def success_rate(self, w: DemoWorkload) -> float | None:
        """Share of application responses classified success (gRPC: by grpc_status)."""
        return w.success_rate if self.inbound_rps(w) > 0 else None

    def outbound_rps(self, w: DemoWorkload) -> dict[tuple[str, str, str], float]:
        """Outbound requests per second per HTTP or gRPC callee, as w's proxies count them."""
        if not w.meshed:
            return {}
        return {e.dst.key: e.rps for e in self.edges if e.src is w and e.dst.speaks_http}

    def outbound_success_rate(self, w: DemoWorkload) -> float | None:
        edges = [e for e in self.edges if e.src is w and e.dst.speaks_http]
        total = sum(e.rps for e in edges)
        if not w.meshed or not total:
            return None
        return sum(e.rps * e.dst.success_rate for e in edges) / total

    def latency_quantile(self, w: DemoWorkload, q: float) -> float | None:
        """histogram_quantile(q, ...) of the workload's inbound response_latency_ms (ms).

        The same holds for every edge into the workload, seen from its clients' side.
        """
        if not self.inbound_rps(w):
            return None
        return histogram_quantile(q, w.latency.cumulative_fractions())

    def tcp(self, w: DemoWorkload) -> TcpRates:
        """Inbound application TCP (``peer="src"`` on the application's port; 4191 excluded)."""
        if not w.serves_mtls:
            return TcpRates(0.0, 0.0, 0.0)
        flows = self._inbound_flows(w)
        rps = sum(f.rps for f in flows)
        connections = sum(f.connections for f in flows)
        opened = connections / CONNECTION_LIFETIME_SECONDS
        return TcpRates(
            connections,
            rps * w.request_bytes,
            rps * w.response_bytes,
            opened,
            opened * w.close_error_share,
        )

    def route_rps(self, w: DemoWorkload) -> dict[str, float]:
        """ServiceProfile routes, measured on the server's side (``direction="inbound"``)."""
        rps = self.inbound_rps(w)
        return {route.name: rps * route.share for route in w.routes}

    def probe_rps_by_port(self, w: DemoWorkload) -> dict[int, float]:
        """Kubelet probes per target port (``route_name="probe"``), over the exporting pods."""
        pods = len(w.exporting_pods) if w.meshed else 0
        if not pods:
            return {}
        rates = {PROXY_ADMIN_PORT: ADMIN_PROBE_RPS * pods}
        if w.http_probes:
            rates[w.port] = APP_PROBE_RPS * w.http_probes * pods
        return rates

    def probe_rps(self, w: DemoWorkload) -> float:
        """Kubelet probes of the proxies' /live and /ready and of the application's port."""
        return sum(self.probe_rps_by_port(w).values())

    def scrape_rps(self, w: DemoWorkload) -> float:
        """Prometheus's scrapes of /metrics on the admin port (``route_name="default"``)."""
        return SCRAPE_RPS * len(w.exporting_pods) if w.meshed else 0.0

    def _policy_routes(self, w: DemoWorkload) -> dict[tuple[str, str, str], tuple[str, float]]:
        """(parent namespace, Service, route) -> (family "http" or "grpc", rps) from w."""
        routes: dict[tuple[str, str, str], tuple[str, float]] = {}
        if not w.meshed:
            return routes
        for e in self.edges:
            dst = e.dst
            # Calls to a Service with a ServiceProfile take the profile's routes instead.
            if e.src is not w or not dst.speaks_http or dst.routes or not e.rps:
                continue
            parent = (dst.namespace, dst.service_name)
            if not dst.policy_routes:
                routes[(*parent, "http")] = ("http", e.rps)
            for route in dst.policy_routes:
                family = "grpc" if route.kind == "GRPCRoute" else "http"
                routes[(*parent, route.name)] = (family, e.rps * route.share)
        return routes

    def http_route_rps(self, w: DemoWorkload) -> dict[tuple[str, str, str], float]:
        """``outbound_http_route_*`` from w's proxies: HTTPRoute routes and the default ``http``."""
        return {k: rps for k, (fam, rps) in self._policy_routes(w).items() if fam == "http"}

    def grpc_route_rps(self, w: DemoWorkload) -> dict[tuple[str, str, str], float]:
        """``outbound_grpc_route_*`` from w's proxies: GRPCRoute routes."""
        return {k: rps for k, (fam, rps) in self._policy_routes(w).items() if fam == "grpc"}

    def policy_route_success_rate(self, w: DemoWorkload, key: tuple[str, str, str]) -> float:
        """Success as the route family records it: the callee's, except gRPC on the default
        HTTP route, where every response is ``http_status="200"`` whatever its grpc-status."""
        namespace, service, route = key
        dst = next(
            e.dst
            for e in self.edges
            if e.src is w and (e.dst.namespace, e.dst.service_name) == (namespace, service)
        )
        if dst.protocol == PROTOCOL_GRPC and not dst.policy_routes:
            return 1.0
        return dst.success_rate

    def policy_route_latency_quantile(
        self, w: DemoWorkload, key: tuple[str, str, str], q: float
    ) -> float:
        """histogram_quantile(q) of the route's request_duration_seconds buckets, in ms."""
        namespace, service, _ = key
        dst = next(
            e.dst
            for e in self.edges
            if e.src is w and (e.dst.namespace, e.dst.service_name) == (namespace, service)
        )
        bounds_ms = tuple(bound * 1000 for bound in ROUTE_REQUEST_BOUNDS_S)
        return histogram_quantile(q, dst.latency.cumulative_fractions(bounds_ms), bounds_ms)

    def proxy_memory(self, pod: DemoPod, t: float) -> float | None:
        """process_resident_memory_bytes of the pod's proxy at unix time t."""
        return pod.proxy_memory(t) if pod.exports_metrics else None

    def pod_rps(self, pod: DemoPod) -> float:
        """The application's inbound requests per second at this pod, as its proxy counts."""
        owner = next(w for w in self.all_workloads if pod in w.pods)
        if not owner.serves_mtls or not owner.speaks_http:
            return 0.0
        return sum(f.rps for f in self._inbound_flows(owner) if f.dst_pod is pod)

    def service_rps(self, w: DemoWorkload) -> float:
        """Requests per second to w's Service as its meshed callers' proxies count them
        (outbound, ``dst_service``)."""
        return sum(e.rps for e in self.edges if e.dst is w and e.src.meshed and w.speaks_http)

    def service_callers(self, w: DemoWorkload) -> set[tuple[str, str, str]]:
        """The meshed workloads whose requests to w's Service their proxies count."""
        return {
            e.src.key for e in self.edges if e.dst is w and e.src.meshed and e.rps and w.speaks_http
        }

    def mtls_share(self, w: DemoWorkload) -> float | None:
        """Share of w's inbound application requests over mTLS (from meshed clients)."""
        total = self.inbound_rps(w)
        if not total:
            return None
        plain = sum(f.rps for f in self._inbound_flows(w) if f.src is None or not f.src.meshed)
        return (total - plain) / total

    def plaintext_edges(self) -> set[tuple[tuple[str, str, str], tuple[str, str, str]]]:
        """Edges between meshed clients and workloads, over HTTP, not over mTLS."""
        return {
            (e.src.key, e.dst.key)
            for e in self.edges
            if e.src.meshed and e.dst.speaks_http and e.rps and not e.dst.serves_mtls
        }

    def authz_allowed_rps(self, w: DemoWorkload) -> float:
        """``inbound_http_authz_allow_total`` of its application's port (probes left out)."""
        return self.inbound_rps(w)

    def pod_problems(self) -> dict[str, set[tuple[str, str]]]:
        """The pods each problem of meshdash.mesh.pods names, by (namespace, pod)."""
        found: dict[str, set[tuple[str, str]]] = {
            "crashloop": set(),
            "init": set(),
            "not-ready": set(),
            "oomkilled": set(),
        }
        for w in self.all_workloads:
            for pod in w.pods:
                name = (pod.namespace, pod.name)
                if pod.crash_looping:
                    found["crashloop"].add(name)
                if pod.init_stuck:
                    found["init"].add(name)
                if not pod.ready and pod.phase not in ("Succeeded", "Failed"):
                    found["not-ready"].add(name)
                if "OOMKilled" in (pod.app_last_termination, pod.proxy_last_termination):
                    found["oomkilled"].add(name)
        return found

    def check_seed_pods(self) -> dict[str, set[tuple[str, str]]]:
        """The pods seeded for the on-call checks (``_CheckSeeds``, ``_OnCallSeeds``), by
        (namespace, pod): ``stalled-rotation`` (refresh errors, leaf past its renewal point),
        ``failing-destination`` and ``failing-identity`` (every call fails), ``newer-proxy``
        (data-plane proxies newer than the control plane), ``busy-default-limit`` (the busiest
        service's proxies on the 64Mi limit, near it), ``invalid-template-inject`` (pods of the
        workload whose pod template says ``linkerd.io/inject: "true"``)."""
        found: dict[str, set[tuple[str, str]]] = {
            "stalled-rotation": set(),
            "failing-destination": set(),
            "failing-identity": set(),
            "newer-proxy": set(),
            "busy-default-limit": set(),
            "invalid-template-inject": set(),
        }
        for w in self.all_workloads:
            if w.annotations.get(INJECT, "enabled") not in ("enabled", "disabled", "ingress"):
                found["invalid-template-inject"].update((p.namespace, p.name) for p in w.pods)
            for pod in w.pods:
                name = (pod.namespace, pod.name)
                if pod.cert_refresh_errors_per_second > 0:
                    found["stalled-rotation"].add(name)
                for component in pod.failing_control_plane:
                    found[f"failing-{component}"].add(name)
                data_plane = w.namespace != LINKERD_NAMESPACE
                if data_plane and pod.has_proxy and pod.proxy_version == NEWER_PROXY_VERSION:
                    found["newer-proxy"].add(name)
                if pod.has_proxy and pod.memory_limit == DEFAULT_PROXY_MEMORY_LIMIT:
                    found["busy-default-limit"].add(name)
        return found

    def kubernetes_check_seeds(self) -> dict[str, set]:
        """What the on-call checks that read the cluster must find (``_KubernetesSeeds``):
        ``trust-root``: pods (namespace, pod) whose ``linkerd.io/trust-root-sha256`` is not the
        control plane's; ``misplaced-inject``: workload keys with ``linkerd.io/inject`` on their
        own metadata, not on their pod template; ``annotated-after-pods``: pods (namespace, pod)
        without a proxy created before their namespace got ``linkerd.io/inject: enabled``;
        ``webhook-denied``: workload keys an admission webhook denies pods (FailedCreate);
        ``conflicting-webhooks``: configurations of other webhooks on pod creation that select
        a namespace where Linkerd injects; ``linkerd-webhook-ca``: Linkerd's configurations
        whose CA bundle expires within 60 days of the epoch."""
        expected = trust_root_sha256(self)
        injected = [ns for ns in self.namespaces if ns.annotations.get(INJECT) == "enabled"]
        found: dict[str, set] = {
            "trust-root": set(),
            "misplaced-inject": set(),
            "annotated-after-pods": set(),
            "webhook-denied": set(),
            "conflicting-webhooks": set(),
            "linkerd-webhook-ca": set(),
        }
        annotated = {ns.name: ns.annotated_at for ns in injected if ns.annotated_at is not None}
        for w in self.all_workloads:
            if w.object_annotations.get(INJECT) and not w.annotations.get(INJECT):
                found["misplaced-inject"].add(w.key)
            for pod in w.pods:
                name = (pod.namespace, pod.name)
                if pod.has_proxy and pod.trust_root_sha256 not in ("", expected):
                    found["trust-root"].add(name)
                since = annotated.get(w.namespace)
                if (
                    since is not None
                    and not pod.has_proxy
                    and pod.phase not in ("Succeeded", "Failed")
                    and not w.annotations.get(INJECT)
                    and pod.created_at < since
                ):
                    found["annotated-after-pods"].add(name)
        for event in self.events:
            text = event.message.lower()
            if event.reason == "FailedCreate" and "admission webhook" in text and "denied" in text:
                found["webhook-denied"].add(event.workload)
        for hook in self.webhooks:
            linkerd = hook.configuration in (LINKERD_INJECTOR_WEBHOOK, LINKERD_POLICY_WEBHOOK)
            if linkerd and hook.ca_not_after - self.epoch < 60 * 86400:
                found["linkerd-webhook-ca"].add(hook.configuration)
            selected = any(_selects(hook.namespace_selector, ns.labels) for ns in injected)
            if not linkerd and hook.intercepts_pod_creation and selected:
                found["conflicting-webhooks"].add(hook.configuration)
        return found


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions) on ``labels``; empty selects all."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, values, present = expr["key"], expr.get("values", []), expr["key"] in labels
        wanted = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[expr["operator"]]
        if not wanted:
            return False
    return True


# --- Building.


def build_mesh(workloads: int = 300, seed: int = 1, epoch: float | None = None) -> DemoMesh:
    """A mesh of ``workloads`` application workloads; the same arguments give the same mesh."""
    if workloads < 4:
        raise ValueError("the demo mesh needs at least 4 workloads")
    if epoch is None:
        today = datetime.datetime.now(datetime.UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        epoch = today.timestamp()
    return _Builder(workloads, seed, float(epoch)).build()


class _Builder:
    def __init__(self, count: int, seed: int, epoch: float):
        self.count = count
        self.seed = seed
        self.epoch = epoch
        self.rng = random.Random(seed)
        self.nodes = [f"node-{i:03d}" for i in range(1, max(3, count // 25) + 1)]
        self.pod_ips = _addresses(10, 42)
        self.service_ips = _addresses(10, 96)
        self.forced_kinds = ["daemonset", "statefulset"]
        # Even a small mesh has these, in namespaces where injection works: a finished and a
        # running Job, a gRPC service and a TCP-only one.
        self.forced_jobs = [False, True]  # finished?
        self.forced_protocols = [PROTOCOL_TCP, PROTOCOL_GRPC]

    def build(self) -> DemoMesh:
        namespaces = self._namespaces()
        certificates = _certificates(self.rng, self.epoch)
        control_plane = self._control_plane()
        workloads = self._workloads(namespaces)
        edges = self._call_graph(workloads)
        self._traffic(workloads, edges)
        self._mark_stuck_pod(workloads)
        flows = self._flows(workloads, edges)
        mesh = DemoMesh(
            seed=self.seed,
            epoch=self.epoch,
            namespaces=namespaces,
            workloads=workloads,
            control_plane=control_plane,
            edges=edges,
            flows=flows,
            nodes=self.nodes,
            certificates=certificates,
        )
        # What goes wrong, decided with a generator of its own so that the traffic above
        # stays as it was for the seed.
        _Trouble(mesh, random.Random(self.seed * 104729 + 3)).build()
        _CheckSeeds(mesh, random.Random(self.seed * 7919 + 11)).build()
        _KubernetesSeeds(mesh, random.Random(self.seed * 6007 + 29)).build()
        _OnCallSeeds(mesh, random.Random(self.seed * 4909 + 37)).build()
        return mesh

    # Namespaces: about one per 15 workloads, at least 4, plus the control plane's.
    def _namespaces(self) -> list[DemoNamespace]:
        wanted = max(4, round(self.count / 15))
        names = ["ingress-nginx", "legacy-batch"]
        for n in range(1, 1000):
            for env in _ENVIRONMENTS:
                for domain in _DOMAINS:
                    if len(names) == wanted:
                        break
                    names.append(f"{domain}{env}" if n == 1 else f"{domain}{env}-{n}")
        namespaces = [
            DemoNamespace(
                LINKERD_NAMESPACE,
                self.epoch - 400 * 86400,
                labels={
                    "linkerd.io/is-control-plane": "true",
                    "config.linkerd.io/admission-webhooks": "disabled",
                    "linkerd.io/control-plane-ns": LINKERD_NAMESPACE,
                },
                annotations={"linkerd.io/inject": "disabled"},
            )
        ]
        for name in names:
            created = self.epoch - self.rng.uniform(30, 390) * 86400
            annotations = {"linkerd.io/inject": "enabled"}
            labels = {"kubernetes.io/metadata.name": name}
            if name == "legacy-batch":
                annotations = {"linkerd.io/inject": "true"}  # invalid: nothing gets injected
            elif name == "ingress-nginx":
                annotations = {"linkerd.io/inject": "ingress"}
            elif self.rng.random() < _TEAM_SHARE:
                labels["team"] = self.rng.choice(_TEAMS)
            namespaces.append(DemoNamespace(name, created, labels, annotations))
        for ns in namespaces:
            ns.labels.setdefault("kubernetes.io/metadata.name", ns.name)
        return namespaces

    def _control_plane(self) -> list[DemoWorkload]:
        components = (
            ("linkerd-destination", "destination", 8086),
            ("linkerd-identity", "identity", 8080),
            ("linkerd-proxy-injector", "proxy-injector", 8443),
        )
        control_plane = []
        for name, component, port in components:
            w = self._workload(LINKERD_NAMESPACE, "deployment", name, port, meshed=True)
            w.control_plane_component = component
            w.labels["linkerd.io/control-plane-component"] = component
            w.service_name = {"linkerd-destination": "linkerd-dst"}.get(name, name)
            w.base_rps = 0.0
            self._pods(w, 1, LINKERD_VERSION)
            control_plane.append(w)
        return control_plane

    def _workloads(self, namespaces: list[DemoNamespace]) -> list[DemoWorkload]:
        apps = [ns for ns in namespaces if ns.name not in (LINKERD_NAMESPACE, "ingress-nginx")]
        ingress = next(ns for ns in namespaces if ns.name == "ingress-nginx")
        weights = [0.5 + self.rng.random() for _ in apps]
        scale = (self.count - 1) / sum(weights)
        sizes = [max(1, int(wt * scale)) for wt in weights]
        i = 0
        while sum(sizes) != self.count - 1:
            j = i % len(sizes)
            if sum(sizes) < self.count - 1:
                sizes[j] += 1
            elif sizes[j] > 1:
                sizes[j] -= 1
            i += 1

        w = self._workload(ingress.name, "deployment", "ingress-nginx-controller", 80, meshed=True)
        w.annotations["linkerd.io/inject"] = "ingress"
        self._pods(w, 2, LINKERD_VERSION)
        workloads = [w]
        for ns, size in zip(apps, sizes, strict=True):
            workloads.extend(self._namespace_workloads(ns, size))
        self._hostile_text(workloads)
        return workloads

    def _namespace_workloads(self, ns: DemoNamespace, size: int) -> list[DemoWorkload]:
        base = ns.name.split("-")[0]
        team = ns.labels.get("team", "")
        valid_inject = ns.annotations.get("linkerd.io/inject") == "enabled"
        names: set[str] = set()
        result = []
        for i in range(size):
            kind = self.rng.choices(list(_KIND_WEIGHTS), list(_KIND_WEIGHTS.values()))[0]
            finished = self.rng.random() < 0.5
            if i == 0:
                kind = "deployment"
            elif valid_inject and self.forced_jobs:
                kind, finished = "job", self.forced_jobs.pop()
            elif self.forced_kinds:
                # Even a small mesh has a workload of every kind.
                kind = self.forced_kinds.pop()
            if kind == "daemonset":
                role = name = self.rng.choice(_DAEMON_NAMES)
            elif kind == "statefulset":
                role = self.rng.choice(_STATEFUL_ROLES)
                name = f"{base}-{role}"
            elif kind == "job":
                role = self.rng.choice(_JOB_ROLES)
                name = f"{base}-{role}"
            else:
                role = "frontend" if i == 0 else self.rng.choice(_ROLES)
                name = f"{base}-{role}"
            name = _unique(name, names)
            meshed = valid_inject and (i == 0 or self.rng.random() >= _UNMESHED_SHARE)
            port = self.rng.choice((8080, 8080, 8080, 9090, 3000, 5000))
            protocol = PROTOCOL_GRPC if port == 9090 else PROTOCOL_HTTP
            if role in ("db", "cache"):
                protocol = PROTOCOL_TCP
            plain = protocol == PROTOCOL_HTTP and kind not in ("job", "daemonset")
            if plain and i > 0 and meshed and self.forced_protocols:
                protocol = self.forced_protocols.pop()
            if protocol == PROTOCOL_TCP:
                port = 6379 if role == "cache" else 5432
            elif protocol == PROTOCOL_GRPC:
                port = 9090
            w = self._workload(ns.name, kind, name, port, meshed)
            w.protocol = protocol if kind != "job" else PROTOCOL_HTTP
            if not meshed and valid_inject:
                w.annotations["linkerd.io/inject"] = "disabled"
            if team or self.rng.random() < _TEAM_SHARE / 2:
                w.team = team or self.rng.choice(_TEAMS)
                w.labels["team"] = w.team
            version = OLD_PROXY_VERSION if self.rng.random() < _OLD_PROXY_SHARE else LINKERD_VERSION
            count = self.rng.choices(list(_POD_COUNT_WEIGHTS), list(_POD_COUNT_WEIGHTS.values()))[0]
            if kind == "job":
                w.finished, count = finished, 1
                w.rollout_at = self.epoch - self.rng.uniform(0.5, 6) * 3600
                w.controller_uid = new_uid(self.rng)
                w.service_name = ""  # a Job has no Service
                if meshed:
                    w.annotations["config.alpha.linkerd.io/proxy-enable-native-sidecar"] = "true"
            elif w.protocol == PROTOCOL_HTTP and self.rng.random() < _HTTP_PROBE_SHARE:
                w.http_probes = self.rng.choice((1, 2))
            self._pods(w, count, version if meshed else "")
            result.append(w)
        return result

    def _workload(self, namespace: str, kind: str, name: str, port: int, meshed: bool):
        created = self.epoch - self.rng.uniform(20, 380) * 86400
        rollout = self.epoch - self.rng.uniform(0.05, 19) * 86400
        labels = {"app": name}
        if self.rng.random() < _VERSION_LABEL_SHARE:
            labels["version"] = f"v{self.rng.randint(1, 40)}"
        if self.rng.random() < 0.3:
            labels["app.kubernetes.io/name"] = name
            labels["app.kubernetes.io/version"] = (
                f"{self.rng.randint(1, 4)}.{self.rng.randint(0, 20)}.{self.rng.randint(0, 9)}"
                f"_build.{self.rng.randint(1, 999)}"
            )
        return DemoWorkload(
            namespace=namespace,
            kind=kind,
            name=name,
            meshed=meshed,
            port=port,
            service_ip=next(self.service_ips),
            created_at=created,
            rollout_at=max(created, rollout),
            revision=self.rng.randint(1, 30),
            template_hash=_hash(self.rng, 10 if kind == "deployment" else 9),
            labels=labels,
            annotations={},
            service_name=name,
        )

    def _pods(self, w: DemoWorkload, count: int, proxy_version: str) -> None:
        hostname_hash = _hash(self.rng, 5)
        for ordinal in range(len(w.pods), len(w.pods) + count):
            if w.kind == "statefulset":
                name = f"{w.name}-{ordinal}"
            elif w.kind in ("daemonset", "job"):
                name = f"{w.name}-{_hash(self.rng, 5)}"
            else:
                name = f"{w.name}-{w.template_hash}-{_hash(self.rng, 5)}"
            started = w.rollout_at + self.rng.uniform(5, 120)
            if self.rng.random() < 0.15:  # restarted or rescheduled since the rollout
                started = self.epoch - self.rng.uniform(0.2, 2) * 86400
            if w.kind == "job":  # started by its Job, created at the last "rollout"
                started = w.rollout_at + 5
            pod = DemoPod(
                name=name,
                namespace=w.namespace,
                ip=next(self.pod_ips),
                node=self.nodes[(ordinal + int(hostname_hash, 36)) % len(self.nodes)],
                started_at=min(started, self.epoch - 600),
                has_proxy=w.meshed,
                proxy_version=proxy_version,
                restarts=self.rng.choice((0,) * 12 + (1, 2, 3, 7)),
                ordinal=ordinal,
                native_sidecar=w.meshed and w.kind == "job",
            )
            if w.kind == "job":
                pod.restarts = 0
                if w.finished:
                    pod.phase, pod.ready = "Succeeded", False
            if w.meshed:
                pod.memory_base = self.rng.uniform(12, 40) * MIB
                pod.memory_limit = self.rng.choice((250 * MIB, 250 * MIB, 128 * MIB))
                pod.cpu_rate = self.rng.uniform(0.002, 0.03)
                # Leaf certificates last 24 h and are renewed at about 70 % of their life.
                pod.cert_expiry = self.epoch + self.rng.uniform(8, 24) * 3600
                if self.rng.random() < 0.03:
                    # Memory creeping up: half the limit at the epoch, the limit later.
                    age = self.epoch - pod.started_at
                    pod.memory_slope = (pod.memory_limit / 2 - pod.memory_base) / age
            w.pods.append(pod)

    def _hostile_text(self, workloads: list[DemoWorkload]) -> None:
        for w in self.rng.sample(workloads[1:], max(2, self.count // 150)):
            w.annotations["description"] = HOSTILE_DESCRIPTION
            w.labels["release"] = "2024.06_hotfix.3"

    # Call graph: every workload of a namespace is called by an earlier one (so each is
    # reachable from the namespace's frontend, which the ingress calls), plus a few extra
    # calls, some across namespaces. Jobs are callers only; databases call nobody.
    def _call_graph(self, workloads: list[DemoWorkload]) -> list[DemoEdge]:
        by_ns: dict[str, list[DemoWorkload]] = {}
        for w in workloads[1:]:
            by_ns.setdefault(w.namespace, []).append(w)
        pairs: dict[tuple[int, int], None] = {}
        index = {id(w): i for i, w in enumerate(workloads)}

        def calls(w: DemoWorkload) -> bool:
            return w.kind != "job" and w.speaks_http

        for members in by_ns.values():
            pairs[(0, index[id(members[0])])] = None
            for i, w in enumerate(members[1:], start=1):
                if w.kind == "job":
                    continue
                callers = [m for m in members[:i] if calls(m)] or [members[0]]
                caller = callers[self.rng.randrange(len(callers))]
                pairs[(index[id(caller)], index[id(w)])] = None
        for i in range(1, len(workloads)):
            if self.rng.random() >= _EXTRA_CALLEE_CHANCE or not calls(workloads[i]):
                continue
            same_ns = by_ns[workloads[i].namespace]
            if self.rng.random() < 0.6 and len(same_ns) > 1:
                callee = self.rng.choice(same_ns)
            else:
                callee = workloads[self.rng.randrange(1, len(workloads))]
            j = index[id(callee)]
            if j != i and (j, i) not in pairs and callee.kind != "job":
                pairs[(i, j)] = None
        # A running Job calls a service of its namespace while it works.
        for w in workloads[1:]:
            if w.kind == "job" and not w.finished:
                callees = [m for m in by_ns[w.namespace] if m.kind != "job"]
                pairs[(index[id(w)], index[id(self.rng.choice(callees))])] = None
        return [DemoEdge(workloads[i], workloads[j], 0.0) for i, j in pairs]

    def _traffic(self, workloads: list[DemoWorkload], edges: list[DemoEdge]) -> None:
        callers: dict[int, list[DemoEdge]] = {}
        for e in edges:
            callers.setdefault(id(e.dst), []).append(e)
        served = [w for w in workloads[1:] if w.meshed and w.kind != "job"]
        app = [w for w in served if w.speaks_http]
        errors = set(map(id, self.rng.sample(app, min(len(app), max(2, self.count // 100)))))
        grpc = [w for w in app if w.protocol == PROTOCOL_GRPC]
        if grpc and not any(id(w) in errors for w in grpc):
            # A gRPC service failing behind HTTP 200: only grpc_status tells.
            errors.add(id(grpc[0]))
        slow_pool = [w for w in app if id(w) not in errors]
        slow = set(
            map(id, self.rng.sample(slow_pool, min(len(slow_pool), max(2, self.count // 120))))
        )
        unmeshed_clients = set(
            map(id, self.rng.sample(app, min(len(app), max(2, self.count // 60))))
        )
        http = [w for w in app if w.protocol == PROTOCOL_HTTP]
        routed = set(map(id, self.rng.sample(http, min(len(http), max(3, self.count // 50)))))
        # At least one Service of each with routes of its own.
        unrouted = [w for w in http if id(w) not in routed]
        forced_routes = {id(ws[-1]) for ws in (grpc, unrouted) if ws}
        tcp = [w for w in served if w.protocol == PROTOCOL_TCP]
        resetting = {id(w) for i, w in enumerate(tcp) if i == 0 or self.rng.random() < 0.2}
        for w in workloads[1:]:
            w.base_rps = round(math.exp(self.rng.gauss(math.log(8), 1.2)), 3)
            w.base_rps = min(max(w.base_rps, 0.2), 400.0)
            w.success_rate = (
                1.0 if self.rng.random() < 0.4 else round(self.rng.uniform(0.985, 0.9999), 4)
            )
            w.latency = LatencyModel(
                round(self.rng.uniform(3, 60), 1), round(self.rng.uniform(0.4, 0.9), 2)
            )
            w.request_bytes = self.rng.randint(200, 4000)
            w.response_bytes = self.rng.randint(300, 60000)
            if w.kind == "job":
                w.base_rps = 0.0
                continue
            if id(w) in errors:
                w.incident = INCIDENT_ERRORS
                w.success_rate = round(self.rng.uniform(0.55, 0.85), 3)
                if w.protocol == PROTOCOL_HTTP:
                    w.stream_error_share = 0.25
            elif id(w) in slow:
                w.incident = INCIDENT_LATENCY
                w.latency = LatencyModel(w.latency.median_ms, w.latency.sigma, 0.05, 2500.0, 0.3)
            if id(w) in unmeshed_clients:
                w.unmeshed_client_rps = round(w.base_rps * self.rng.uniform(0.1, 0.3), 3)
            if id(w) in routed:
                names = self.rng.sample(_ROUTES, 3)
                shares = [0.6, 0.3, 0.1]
                w.routes = [DemoRoute(n, s) for n, s in zip(names, shares, strict=True)]
            elif w.protocol == PROTOCOL_GRPC and (
                self.rng.random() < _GRPC_ROUTE_SHARE or id(w) in forced_routes
            ):
                w.policy_routes = [
                    DemoPolicyRoute("GRPCRoute", f"{w.name}-reads", 0.8),
                    DemoPolicyRoute("GRPCRoute", f"{w.name}-writes", 0.2),
                ]
            elif w.protocol == PROTOCOL_HTTP and (
                self.rng.random() < _HTTP_ROUTE_SHARE or id(w) in forced_routes
            ):
                w.policy_routes = [
                    DemoPolicyRoute("HTTPRoute", f"{w.name}-api", 0.7),
                    DemoPolicyRoute("HTTPRoute", f"{w.name}-static", 0.3),
                ]
            if id(w) in resetting:
                w.close_error_share = round(self.rng.uniform(0.1, 0.4), 3)
            incoming = callers.get(id(w), [])
            weights = [self.rng.uniform(0.5, 2) for _ in incoming]
            shared = w.base_rps - w.unmeshed_client_rps
            for e, weight in zip(incoming, weights, strict=True):
                e.rps = shared * weight / sum(weights)
        ingress = workloads[0]
        ingress.base_rps = sum(e.rps for e in edges if e.src is ingress)
        ingress.unmeshed_client_rps = ingress.base_rps
        ingress.latency = LatencyModel(4.0, 0.5)

    def _mark_stuck_pod(self, workloads: list[DemoWorkload]) -> None:
        candidates = [
            w for w in workloads[1:] if w.meshed and len(w.pods) >= 2 and w.kind == "deployment"
        ]
        if not candidates:
            candidates = [w for w in workloads[1:] if w.meshed and w.kind == "deployment"]
            self._pods(candidates[0], 1, candidates[0].pods[0].proxy_version)
        pod = candidates[0].pods[-1]
        pod.phase, pod.ready, pod.init_stuck, pod.restarts = "Pending", False, True, 0
        pod.started_at = self.epoch - 1800

    def _flows(self, workloads: list[DemoWorkload], edges: list[DemoEdge]) -> list[Flow]:
        flows = []
        for e in edges:
            sources, targets = e.src.serving_pods, e.dst.serving_pods
            offset = self.rng.randrange(len(targets))
            for i, src_pod in enumerate(sources):
                dst_pod = targets[(offset + i) % len(targets)]
                # A database client keeps a small pool open; HTTP reuses one connection.
                pool = 2 if e.dst.protocol == PROTOCOL_TCP else 1
                connections = pool + int(e.rps // 20)
                flows.append(
                    Flow(e.src, src_pod, e.dst, dst_pod, e.rps / len(sources), connections)
                )
        for w in workloads:
            if w.unmeshed_client_rps:
                targets = w.serving_pods
                for pod in targets:
                    flows.append(Flow(None, None, w, pod, w.unmeshed_client_rps / len(targets), 2))
        return flows


class _Trouble:
    """Pods that crash, run out of memory or never get ready, a workload whose port skips
    its proxy, Servers that deny requests, and the events Kubernetes reports about them.

    New pods (a crashing and a not-ready replica) are added after the traffic is decided:
    they serve nothing, as pods out of their Service's endpoints do, while their proxies run.
    """

    def __init__(self, mesh: DemoMesh, rng: random.Random):
        self.mesh = mesh
        self.rng = rng
        self.epoch = mesh.epoch
        self.added: list[DemoPod] = []

    def build(self) -> None:
        apps = [w for w in self.mesh.workloads[1:] if w.kind == "deployment" and w.meshed]
        self._restarts()
        crashing = self._new_pod(apps[0], crash_looping=True)
        not_ready = self._new_pod(apps[min(1, len(apps) - 1)], crash_looping=False)
        self._skip_inbound()
        self._servers()
        self._events(crashing, not_ready)

    def _owner(self, pod: DemoPod) -> DemoWorkload:
        return next(w for w in self.mesh.all_workloads if pod in w.pods)

    def _restarts(self) -> None:
        """Why restarted applications last stopped (a few out of memory); a few proxies killed
        at their memory limit."""
        restarted = [p for w in self.mesh.all_workloads for p in w.pods if p.restarts]
        for pod in restarted:
            pod.app_last_termination = "Error"
        for pod in self.rng.sample(restarted, min(len(restarted), max(1, len(restarted) // 8))):
            pod.app_last_termination = "OOMKilled"
        proxies = [
            p
            for w in self.mesh.workloads
            for p in w.pods
            if p.has_proxy and p.running and not p.native_sidecar
        ]
        for pod in self.rng.sample(proxies, min(len(proxies), max(2, len(proxies) // 60))):
            pod.proxy_restarts = self.rng.choice((1, 2, 4))
            pod.proxy_last_termination = "OOMKilled"

    def _new_pod(self, w: DemoWorkload, crash_looping: bool) -> DemoPod:
        template = w.pods[0]
        suffix = "".join(self.rng.choice(_HASH_ALPHABET) for _ in range(5))
        pod = DemoPod(
            name=f"{w.name}-{w.template_hash}-{suffix}",
            namespace=w.namespace,
            ip=f"10.41.0.{len(self.added) + 2}",  # outside the pod addresses of the traffic
            node=self.rng.choice(self.mesh.nodes),
            started_at=self.epoch - self.rng.uniform(1, 3) * 3600,
            has_proxy=True,
            proxy_version=template.proxy_version,
            ready=False,
            restarts=14 if crash_looping else 0,
            ordinal=len(w.pods),
            memory_base=template.memory_base,
            memory_limit=template.memory_limit,
            cpu_rate=template.cpu_rate,
            cert_expiry=template.cert_expiry,
            app_last_termination="Error" if crash_looping else "",
            crash_looping=crash_looping,
        )
        w.pods.append(pod)
        self.added.append(pod)
        return pod

    def _skip_inbound(self) -> None:
        """A meshed HTTP service whose port skips its proxy: its meshed clients' calls are
        plain text, and its own proxy counts none of them."""
        called = {id(e.dst) for e in self.mesh.edges if e.src.meshed and e.rps}
        candidates = [
            w
            for w in self.mesh.workloads[1:]
            if w.meshed
            and w.protocol == PROTOCOL_HTTP
            and w.kind == "deployment"
            and id(w) in called
            and not w.unmeshed_client_rps
            and not w.routes
            and not w.http_probes
            and not w.incident
            and not any(e.dst is w and not e.src.meshed for e in self.mesh.edges)
        ]
        if candidates:
            w = candidates[-1]
            w.skip_inbound = True
            w.annotations["config.linkerd.io/skip-inbound-ports"] = str(w.port)

    def _servers(self) -> None:
        """Servers with an AuthorizationPolicy on a few HTTP services (one denying an identity
        that calls it), and on a TCP one denying connections."""
        http = [
            w
            for w in self.mesh.workloads[1:]
            if w.serves_mtls and w.protocol == PROTOCOL_HTTP and w.kind == "deployment"
        ]
        chosen = self.rng.sample(http, min(len(http), max(2, len(self.mesh.workloads) // 100)))
        for i, w in enumerate(chosen):
            w.server = f"{w.name}-http"
            w.authorization_policy = f"{w.name}-callers"
            if i < max(1, len(chosen) // 2):
                w.denied_rps = round(self.rng.uniform(0.5, 3.0), 3)
                w.denied_client = identity("default", self.rng.choice(self.mesh.namespaces).name)
        tcp = [w for w in self.mesh.workloads[1:] if w.serves_mtls and w.protocol == PROTOCOL_TCP]
        if tcp:
            w = tcp[0]
            w.server = f"{w.name}-tcp"
            w.authorization_policy = f"{w.name}-clients"
            w.denied_connections_per_second = round(self.rng.uniform(0.2, 1.0), 3)
            w.denied_client = identity("default", w.namespace)

    def _events(self, crashing: DemoPod, not_ready: DemoPod) -> None:
        events = self.mesh.events
        now = self.epoch

        def add(w: DemoWorkload, kind: str, name: str, namespace: str, *rest, **extra) -> None:
            first = now - self.rng.uniform(2, 6) * 3600
            events.append(
                DemoEvent(namespace, kind, name, *rest, first, now - 60, workload=w.key, **extra)
            )

        w = self._owner(crashing)
        add(
            w,
            "Pod",
            crashing.name,
            w.namespace,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container app in pod {crashing.name}_{w.namespace}",
            "kubelet",
            count=crashing.restarts * 6,
        )
        w = self._owner(not_ready)
        add(
            w,
            "Pod",
            not_ready.name,
            w.namespace,
            "Warning",
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "kubelet",
            count=240,
        )
        for w in self.mesh.workloads:
            for pod in w.pods:
                if pod.proxy_last_termination == "OOMKilled":
                    add(
                        w,
                        "Node",
                        pod.node,
                        "",
                        "Warning",
                        "OOMKilling",
                        "Memory cgroup out of memory: Killed process 4242 (linkerd2-proxy) "
                        f"total-vm:{pod.memory_limit // 1024 * 3}kB, "
                        f"anon-rss:{pod.memory_limit // 1024}kB, file-rss:0kB, shmem-rss:0kB",
                        "kernel-monitor",
                        count=pod.proxy_restarts,
                    )
        unmeshed = [
            w
            for w in self.mesh.workloads
            if w.annotations.get("linkerd.io/inject") == "disabled" and w.kind == "deployment"
        ]
        for w in unmeshed:
            add(
                w,
                "Deployment",
                w.name,
                w.namespace,
                "Normal",
                "InjectionSkipped",
                "Linkerd sidecar proxy injection skipped: pod has annotation "
                '"linkerd.io/inject: disabled"',
                "linkerd-proxy-injector",
            )
        quota = [w for w in self.mesh.workloads[1:] if w.kind == "deployment" and w.meshed]
        if quota:
            w = quota[len(quota) // 2]
            add(
                w,
                "ReplicaSet",
                f"{w.name}-{w.template_hash}",
                w.namespace,
                "Warning",
                "FailedCreate",
                f'Error creating: pods "{w.name}-{w.template_hash}-x" is forbidden: exceeded '
                "quota: compute-resources, requested: limits.memory=378Mi, used: "
                "limits.memory=2Gi, limited: limits.memory=2Gi",
                "replicaset-controller",
                count=17,
            )


class _CheckSeeds:
    """What the on-call checks must find, on healthy running pods of the current release
    (none of ``_Trouble``'s): one proxy whose leaf rotation stalled (its refreshes fail, its
    leaf issued 21 h before the epoch, so past the 70 % renewal point whatever the hour), one
    failing every call to destination and one to identity (a failure newer than its last
    renewal: the demo goes on renewing its leaf), and one Deployment whose proxies are newer
    than the control plane. A generator of its own keeps the rest of the mesh as it was for
    the seed."""

    def __init__(self, mesh: DemoMesh, rng: random.Random):
        self.mesh = mesh
        self.rng = rng

    def build(self) -> None:
        healthy = [
            (w, p)
            for w in self.mesh.workloads[1:]
            if w.kind == "deployment" and w.meshed
            for p in w.pods
            if p.exports_metrics
            and p.ready
            and not p.restarts
            and not p.proxy_restarts
            and p.proxy_version == LINKERD_VERSION
            and not p.memory_slope
        ]
        # Four distinct workloads: newer proxies, stalled rotation, destination, identity.
        by_workload: dict[int, tuple[DemoWorkload, DemoPod]] = {}
        for w, p in healthy:
            by_workload.setdefault(id(w), (w, p))
        picks = self.rng.sample(list(by_workload.values()), min(4, len(by_workload)))
        if len(picks) < 4:
            return
        (newer, _), (_, stalled), (_, no_destination), (_, no_identity) = picks
        for pod in newer.pods:
            pod.proxy_version = NEWER_PROXY_VERSION
        stalled.cert_expiry = self.mesh.epoch + 3 * 3600
        stalled.cert_refresh_errors_per_second = 0.1  # a retry every 10 s
        no_destination.failing_control_plane = ("destination",)
        no_identity.failing_control_plane = ("identity",)


DAY = 86400.0
GATEKEEPER_DENIAL = (
    'admission webhook "validation.gatekeeper.sh" denied the request: [psp-capabilities] '
    "container <linkerd-init> has a disallowed capability. Allowed capabilities: []"
)


class _KubernetesSeeds:
    """What the on-call checks that read the cluster must find (truth in
    ``DemoMesh.kubernetes_check_seeds``): Linkerd's admission webhooks as its chart renders them
    (the injector's ``failurePolicy: Ignore`` by default, the policy validator's CA bundle
    expiring within the warning window), OPA Gatekeeper validating every pod and failing
    closed, which denies one workload's injected pods (its FailedCreate events), HashiCorp
    Vault's agent injector mutating pods after Linkerd's; a pod injected before the trust
    anchor changed; a Deployment with ``linkerd.io/inject`` on its own metadata; and a
    namespace annotated after the pods of one of its workloads were created. On pods and
    workloads none of ``_Trouble``'s or ``_CheckSeeds``' picks; a generator of its own keeps
    the rest of the mesh as it was for the seed."""

    def __init__(self, mesh: DemoMesh, rng: random.Random):
        self.mesh = mesh
        self.rng = rng
        self.epoch = mesh.epoch

    def build(self) -> None:
        self._webhooks()
        meshed = [w for w in self.mesh.workloads[1:] if w.kind == "deployment" and w.meshed]
        healthy = [
            (w, p)
            for w in meshed
            for p in w.pods
            if p.exports_metrics
            and p.ready
            and p.proxy_version == LINKERD_VERSION
            and not p.cert_refresh_errors_per_second
            and not p.failing_control_plane
        ]
        stale = self.rng.choice(healthy) if healthy else None
        if stale is not None:
            self._stale_trust_root(stale[1])
        quiet = [
            w
            for w in meshed
            if (stale is None or w is not stale[0])
            and not any(e.workload == w.key for e in self.mesh.events)
        ]
        if quiet:
            self._denied(self.rng.choice(quiet))
        self._misplaced_annotation()
        self._annotated_after_pods()

    def _certificate(self, host: str, issued_days_ago: float, days_left: float) -> tuple:
        key = ec.derive_private_key(self.rng.getrandbits(250) + 1, ec.SECP256R1())
        start = datetime.datetime.fromtimestamp(self.epoch, datetime.UTC)
        not_after = start + datetime.timedelta(days=days_left)
        cert = ca_certificate(
            host,
            host,
            key.public_key(),
            key,
            self.rng.getrandbits(63) + 1,
            start - datetime.timedelta(days=issued_days_ago),
            not_after,
            path_length=None,
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode(), not_after.timestamp()

    def _webhooks(self) -> None:
        ns = LINKERD_NAMESPACE
        opted_out = {
            "key": "config.linkerd.io/admission-webhooks",
            "operator": "NotIn",
            "values": ["disabled"],
        }
        injector_ca = self._certificate(f"linkerd-proxy-injector.{ns}.svc", 40, 325)
        policy_ca = self._certificate(f"linkerd-policy-validator.{ns}.svc", 340, 25)
        gatekeeper_ca = self._certificate(
            "gatekeeper-webhook-service.gatekeeper-system.svc", 90, 3560
        )
        vault_ca = self._certificate("vault-agent-injector-svc.vault.svc", 200, 3450)
        linkerd_labels = {"linkerd.io/control-plane-ns": ns}
        gatekeeper = dict(
            kind="validating",
            configuration="gatekeeper-validating-webhook-configuration",
            service=("gatekeeper-system", "gatekeeper-webhook-service"),
            ca_pem=gatekeeper_ca[0],
            ca_not_after=gatekeeper_ca[1],
            created_at=self.epoch - 90 * DAY,
            failure_policy="Fail",  # validatingWebhookFailurePolicy: Fail, set by the operator
            namespace_selector={
                "matchExpressions": [
                    {"key": "admission.gatekeeper.sh/ignore", "operator": "DoesNotExist"},
                    {
                        "key": "kubernetes.io/metadata.name",
                        "operator": "NotIn",
                        "values": ["gatekeeper-system"],
                    },
                ]
            },
            labels={"gatekeeper.sh/system": "yes"},
        )
        self.mesh.webhooks = [
            DemoWebhook(
                configuration=LINKERD_INJECTOR_WEBHOOK,
                kind="mutating",
                name="linkerd-proxy-injector.linkerd.io",
                service=(ns, "linkerd-proxy-injector"),
                rules=[
                    {
                        "operations": ["CREATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods", "services"],
                        "scope": "Namespaced",
                    }
                ],
                ca_pem=injector_ca[0],
                ca_not_after=injector_ca[1],
                created_at=self.epoch - 400 * DAY,
                failure_policy="Ignore",  # the chart's webhookFailurePolicy
                namespace_selector={
                    "matchExpressions": [
                        opted_out,
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": ["kube-system", "cert-manager"],
                        },
                    ]
                },
                object_selector={
                    "matchExpressions": [
                        {"key": "linkerd.io/control-plane-component", "operator": "DoesNotExist"},
                        {"key": "linkerd.io/cni-resource", "operator": "DoesNotExist"},
                    ]
                },
                labels={"linkerd.io/control-plane-component": "proxy-injector", **linkerd_labels},
            ),
            DemoWebhook(
                configuration=LINKERD_POLICY_WEBHOOK,
                kind="validating",
                name="linkerd-policy-validator.linkerd.io",
                service=(ns, "linkerd-policy-validator"),
                rules=[
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": ["policy.linkerd.io"],
                        "apiVersions": ["*"],
                        "resources": [
                            "authorizationpolicies",
                            "httplocalratelimitpolicies",
                            "httproutes",
                            "networkauthentications",
                            "meshtlsauthentications",
                            "serverauthorizations",
                            "servers",
                            "egressnetworks",
                        ],
                    },
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": ["gateway.networking.k8s.io"],
                        "apiVersions": ["*"],
                        "resources": ["httproutes", "grpcroutes", "tlsroutes", "tcproutes"],
                    },
                ],
                ca_pem=policy_ca[0],
                ca_not_after=policy_ca[1],
                created_at=self.epoch - 400 * DAY,
                failure_policy="Ignore",
                namespace_selector={"matchExpressions": [opted_out]},
                labels={"linkerd.io/control-plane-component": "destination", **linkerd_labels},
            ),
            DemoWebhook(
                **gatekeeper,
                name="validation.gatekeeper.sh",
                path="/v1/admit",
                rules=[
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "resources": ["*", "pods/ephemeralcontainers", "pods/exec"],
                    }
                ],
            ),
            # Gatekeeper's second webhook sees namespaces only: not a pod webhook.
            DemoWebhook(
                **gatekeeper,
                name="check-ignore-label.gatekeeper.sh",
                path="/v1/admitlabel",
                rules=[
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": [""],
                        "apiVersions": ["*"],
                        "resources": ["namespaces"],
                    }
                ],
            ),
            DemoWebhook(
                configuration="vault-agent-injector-cfg",
                kind="mutating",
                name="vault.hashicorp.com",
                service=("vault", "vault-agent-injector-svc"),
                path="/mutate",
                rules=[
                    {
                        "operations": ["CREATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                    }
                ],
                ca_pem=vault_ca[0],
                ca_not_after=vault_ca[1],
                created_at=self.epoch - 200 * DAY,
                failure_policy="Ignore",
                object_selector={
                    "matchExpressions": [
                        {
                            "key": "app.kubernetes.io/name",
                            "operator": "NotIn",
                            "values": ["vault-agent-injector"],
                        }
                    ]
                },
                labels={"app.kubernetes.io/name": "vault-agent-injector"},
            ),
        ]

    def _stale_trust_root(self, pod: DemoPod) -> None:
        """One pod injected before the trust anchor was rotated, never restarted since."""
        previous = f"{self.mesh.certificates.anchor_pem} (before rotation {self.mesh.seed})"
        pod.trust_root_sha256 = hashlib.sha256(previous.encode()).hexdigest()

    def _denied(self, w: DemoWorkload) -> None:
        """Gatekeeper rejects linkerd-init's capabilities: the ReplicaSet cannot create pods."""
        first = self.epoch - self.rng.uniform(1, 5) * 3600
        self.mesh.events.append(
            DemoEvent(
                w.namespace,
                "ReplicaSet",
                f"{w.name}-{w.template_hash}",
                "Warning",
                "FailedCreate",
                f"Error creating: {GATEKEEPER_DENIAL}",
                "replicaset-controller",
                first,
                self.epoch - 90,
                count=23,
                workload=w.key,
            )
        )

    def _misplaced_annotation(self) -> None:
        """linkerd.io/inject: enabled on a Deployment's metadata in the namespace whose own
        annotation is invalid: a fix attempt the injector never sees."""
        legacy = [
            w
            for w in self.mesh.workloads
            if w.namespace == "legacy-batch" and w.kind == "deployment" and not w.meshed
        ]
        if legacy:
            legacy[0].object_annotations[INJECT] = "enabled"

    def _annotated_after_pods(self) -> None:
        """A namespace annotated for injection after the pods of one of its (so far opted
        out) workloads were created: they run without a proxy until restarted."""
        injected = {
            ns.name: ns for ns in self.mesh.namespaces if ns.annotations.get(INJECT) == "enabled"
        }
        candidates = [
            w
            for w in self.mesh.workloads
            if w.namespace in injected
            and not w.meshed
            and w.annotations.get(INJECT) == "disabled"
            and any(p.running for p in w.pods)
        ]
        if not candidates:
            return
        # Rather a workload InjectionSkipped events do not already speak for.
        w = min(candidates, key=lambda c: c.kind == "deployment")
        del w.annotations[INJECT]
        self.mesh.events[:] = [
            e
            for e in self.mesh.events
            if not (e.workload == w.key and e.reason == "InjectionSkipped")
        ]
        newest = max(p.created_at for p in w.pods)
        injected[w.namespace].annotated_at = newest + (self.epoch - newest) / 2


class _OnCallSeeds:
    """The last of the on-call checks' mistakes (truth in ``check_seed_pods``), on workloads
    none of the other seeds touched: a control plane upgraded half way (the proxy injector on
    NEWER_PROXY_VERSION: `versions.control-plane`); the busiest HTTP service's proxies on the
    64Mi limit (``DEFAULT_PROXY_MEMORY_LIMIT``), at 86 % of it already (`memory.limit`,
    `memory.share`); an opted-out Deployment "enabled" with ``linkerd.io/inject: "true"`` on
    its pod template, which the injector refuses as invalid (its InjectionSkipped event says
    so, in linkerd2's words: pkg/inject/report.go)."""

    BUSY_POD_RPS = 150.0  # well over the check's 100 req/s, whatever a busy machine measures
    SHARE = 0.86

    def __init__(self, mesh: DemoMesh, rng: random.Random):
        self.mesh = mesh
        self.rng = rng

    def _untouched(self, w: DemoWorkload) -> bool:
        return not any(
            p.cert_refresh_errors_per_second
            or p.failing_control_plane
            or p.trust_root_sha256
            or p.proxy_version != LINKERD_VERSION
            for p in w.pods
        ) and not any(e.workload == w.key and e.reason == "FailedCreate" for e in self.mesh.events)

    def build(self) -> None:
        self._busy_on_the_default_limit()
        self._invalid_template_annotation()
        self._half_finished_upgrade()

    def _half_finished_upgrade(self) -> None:
        """The upgrade to NEWER_PROXY_VERSION stopped after the proxy injector: its own proxy
        is on it (what the collector reads a component's version from), destination and
        identity are not, and linkerd-config still says LINKERD_VERSION. That injector wrote
        the newer proxies of ``_CheckSeeds``' Deployment."""
        for w in self.mesh.control_plane:
            if w.control_plane_component == "proxy-injector":
                for pod in w.pods:
                    pod.proxy_version = NEWER_PROXY_VERSION

    def _busy_on_the_default_limit(self) -> None:
        def per_pod(w: DemoWorkload) -> float:
            running = [p for p in w.pods if p.exports_metrics]
            return self.mesh.inbound_rps(w) / len(running) if running else 0.0

        busy = [
            w
            for w in self.mesh.workloads[1:]
            if w.kind == "deployment"
            and w.meshed
            and per_pod(w) >= self.BUSY_POD_RPS
            and self._untouched(w)
        ]
        for w in sorted(busy, key=per_pod, reverse=True):
            pods = [p for p in w.pods if p.exports_metrics]
            if all(self.mesh.pod_rps(p) >= self.BUSY_POD_RPS for p in pods):
                for pod in w.pods:
                    pod.memory_limit = DEFAULT_PROXY_MEMORY_LIMIT
                    pod.memory_base = self.SHARE * DEFAULT_PROXY_MEMORY_LIMIT
                    pod.memory_slope = 0.0
                return

    def _invalid_template_annotation(self) -> None:
        injected = {
            ns.name for ns in self.mesh.namespaces if ns.annotations.get(INJECT) == "enabled"
        }
        skipped = {e.workload for e in self.mesh.events if e.reason == "InjectionSkipped"}
        candidates = [
            w
            for w in self.mesh.workloads
            if w.kind == "deployment"
            and w.namespace in injected
            and w.annotations.get(INJECT) == "disabled"
            and w.key in skipped
            and not w.object_annotations
        ]
        if not candidates:
            return
        w = self.rng.choice(candidates)
        w.annotations[INJECT] = "true"
        reason = 'invalid value for annotation "linkerd.io/inject" at workload'
        for i, e in enumerate(self.mesh.events):
            if e.workload == w.key and e.reason == "InjectionSkipped":
                self.mesh.events[i] = replace(
                    e, message=f"Linkerd sidecar proxy injection skipped: {reason}"
                )


def _addresses(first: int, second: int):
    for i in range(256 * 250):
        yield f"{first}.{second + i // 62500}.{(i // 250) % 250}.{i % 250 + 2}"


def _hash(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_HASH_ALPHABET) for _ in range(length))


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def pod_labels(w: DemoWorkload, pod: DemoPod) -> dict[str, str]:
    """The pod's labels as the API server shows them, injection labels included."""
    labels = dict(w.labels)
    if w.kind == "deployment":
        labels["pod-template-hash"] = w.template_hash
    elif w.kind == "statefulset":
        labels["controller-revision-hash"] = f"{w.name}-{w.template_hash}"
        labels["statefulset.kubernetes.io/pod-name"] = pod.name
        labels["apps.kubernetes.io/pod-index"] = str(pod.ordinal)
    elif w.kind == "job":
        for prefix in ("batch.kubernetes.io/", ""):
            labels[f"{prefix}controller-uid"] = w.controller_uid
            labels[f"{prefix}job-name"] = w.name
    else:
        labels["controller-revision-hash"] = w.template_hash
        labels["pod-template-generation"] = str(w.revision)
    if pod.has_proxy:
        labels["linkerd.io/control-plane-ns"] = LINKERD_NAMESPACE
        labels["linkerd.io/workload-ns"] = w.namespace
        labels[f"linkerd.io/proxy-{w.kind}"] = w.name
    return labels


def new_uid(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from ``rng``, so that it repeats with the seed."""
    n = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- Identity: a real trust anchor and an issuer it signed, deterministic for the seed.


def _certificates(rng: random.Random, epoch: float) -> Certificates:
    anchor_key = ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())
    issuer_key = ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())
    start = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    anchor_name = f"root.linkerd.{TRUST_DOMAIN}"
    issuer_name = f"identity.linkerd.{TRUST_DOMAIN}"
    anchor_not_after = start + datetime.timedelta(days=3250)
    issuer_not_after = start + datetime.timedelta(days=ISSUER_DAYS_LEFT)
    anchor = ca_certificate(
        anchor_name,
        anchor_name,
        anchor_key.public_key(),
        anchor_key,
        rng.getrandbits(63) + 1,
        start - datetime.timedelta(days=400),
        anchor_not_after,
        path_length=1,
    )
    issuer = ca_certificate(
        issuer_name,
        anchor_name,
        issuer_key.public_key(),
        anchor_key,
        rng.getrandbits(63) + 1,
        start - datetime.timedelta(days=345),
        issuer_not_after,
        path_length=0,
    )
    key_pem = issuer_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Certificates(
        anchor_pem=anchor.public_bytes(serialization.Encoding.PEM).decode(),
        issuer_pem=issuer.public_bytes(serialization.Encoding.PEM).decode(),
        issuer_key_pem=key_pem.decode(),
        anchor_not_after=anchor_not_after.timestamp(),
        issuer_not_after=issuer_not_after.timestamp(),
    )


def ca_certificate(
    subject: str,
    issuer: str,
    public_key,
    signing_key,
    serial: int,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    path_length: int | None,
) -> x509.Certificate:
    """A CA certificate for the common name ``subject`` signed by ``issuer``'s key, as Linkerd's
    trust anchor and identity issuer are; signed deterministically, so that it repeats with its
    keys and serial."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_common_name(subject))
        .issuer_name(_common_name(issuer))
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return builder.sign(signing_key, hashes.SHA256(), ecdsa_deterministic=True)


def _common_name(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])


def trust_root_sha256(mesh: DemoMesh) -> str:
    return hashlib.sha256(mesh.certificates.anchor_pem.encode()).hexdigest()
