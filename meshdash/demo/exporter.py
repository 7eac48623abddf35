"""Linkerd proxy metrics of the demo mesh, as a Linkerd 2.18 proxy serves them on :4191/metrics.

Each series carries the labels it has once stored by the linkerd-viz Prometheus (proxy labels,
then ``instance``, ``job="linkerd-proxy"`` and the relabelled pod labels: ``k8s_job`` from
``linkerd.io/proxy-job``, ``control_plane_ns``, ``workload_ns``, sanitised pod labels such as
``pod_template_hash``, and ``exported_version`` for ``proxy_build_info``'s own ``version`` where
the pod has a ``version`` label), so the job scraping the shards sets ``honor_labels: true``.
Every value is ``a + b * (t - started_at)`` of its pod: counters have ``a = 0`` and ``b`` =
their rate; gauges ``b = 0``; proxy memory creeps with ``b > 0``. The leaf certificate's
gauges and refresh counters step at each renewal instead (``DemoPod.leaf``). Label strings are
built once per mesh (``Shard``); a scrape only formats numbers. Like a real proxy the exporter
sends no sample timestamps: Prometheus stamps each sample with the scrape's start, a little
before the exporter computed its value.

The body is shaped like a proxy's: the legacy hand-written families first (``# HELP`` and
``# TYPE``), then the ``prometheus-client`` registry in OpenMetrics style (``# UNIT``, counters
typed without ``_total``), ending with ``# EOF``; ``Content-Type: text/plain``. A family is
printed only once it has a series.

Families, per exporting proxy:
- Application HTTP/gRPC, inbound and outbound: ``request_total``, ``response_latency_ms``
  (Linkerd's 26 buckets), ``response_total`` with ``classification``, ``grpc_status`` and
  ``error`` (gRPC: always ``status_code="200"``, numeric ``grpc_status``; stream errors: no
  ``status_code``, ``error="timeout"``); ``route_*`` for ServiceProfile routes (server side);
  ``outbound_http_route_*`` and ``outbound_grpc_route_*`` per Service called (HTTPRoute,
  GRPCRoute, or the default route ``http``; none towards a Service with a ServiceProfile).
- The proxy's own traffic, as real proxies count it: the viz Prometheus scraping
  ``0.0.0.0:4191`` (mTLS, ``route_name="default"``), the kubelet's ``/live`` and ``/ready``
  there (``route_name="probe"``) and the application's httpGet probes on its own port; TCP on
  the admin port.
- TCP: ``tcp_open_total``, ``tcp_open_connections``, ``tcp_read_bytes_total``,
  ``tcp_write_bytes_total``, ``tcp_close_total{errno}`` (inbound ``peer="src"`` per client, the
  loopback ``peer="dst"`` per pod, outbound ``peer="dst"`` per endpoint). TCP-only workloads
  (opaque ports) have TCP series only.
- Authorization: ``inbound_http_authz_allow_total`` and ``inbound_tcp_authz_allow_total``
  (``authz_*`` of the default policy or of a workload's AuthorizationPolicy, ``srv_*`` of its
  Server), ``inbound_http_authz_deny_total`` and ``inbound_tcp_authz_deny_total`` (no
  ``authz_*``) where a Server denies an identity; none of them has a ``direction``.
- Legacy families a collector must ignore for traffic: ``inbound_http_errors_total`` /
  ``outbound_http_errors_total`` (where streams fail), ``stack_*``; and ``control_*``, the
  proxy's calls to destination (steady) and identity (one per leaf refresh), only failures
  from the proxies of ``DemoPod.failing_control_plane``, which the on-call checks read.
- ``prometheus-client``: ``proxy_build_info``, ``control_identity_cert_*`` (``identity_cert_*``
  and ``identity_cert_refresh_count`` in the legacy part on proxies of
  ``LEGACY_CERT_METRIC_VERSIONS``: no refresh timestamp, no error count), ``process_*``. The
  leaf's gauges and refresh counters step at each renewal; the stalled proxy's error counter
  grows (``DemoPod.cert_refresh_errors_per_second``).
- Not a proxy's: the identity controller's ``issuer_cert_ttl_seconds`` on the first shard,
  labelled as viz's ``linkerd-controller`` job stores it.

Left out to save series (a real proxy has them all): the outbound loopback
(``direction="outbound",peer="src"``) TCP series; the kubelet's TCP connections to the
application's port (they cannot be told from an unmeshed client's anyway); the latency
histograms of scrapes and probes but on one proxy in ``ADMIN_HISTOGRAM_EVERY`` (their counters
are on every proxy); outbound latency histograms towards meshed (mTLS) endpoints but on one
proxy in ``OUTBOUND_MTLS_HISTOGRAM_EVERY`` (the server's inbound histogram, by ``client_id``,
measures the same edge); the ``backend_*`` route families of the default route (its request
families are there); the ``control_response_latency_ms`` histogram but on one proxy in
``CONTROL_HISTOGRAM_EVERY`` (destination's only); the policy client (its streams rarely end)
and the stacks but one; and the latency
histograms of HTTP 5xx responses (the legacy histograms count successful responses, the
stream errors and every gRPC response).

Series budget (``series_count``, seed 1): 43,910 at 300 workloads, 151,963 at 1,000 and
753,916 at 5,000, about 150 a workload (before the proxies' own traffic, the legacy and route
families: 31,420, 112,948 and 568,772).
"""

from __future__ import annotations

import hashlib
import math
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from meshdash.demo.model import (
    ADMIN_PROBE_RPS,
    APP_PROBE_RPS,
    CONNECTION_LIFETIME_SECONDS,
    LATENCY_BOUNDS_MS,
    LEAF_LIFETIME_SECONDS,
    LEAF_RENEWAL_SECONDS,
    LEGACY_CERT_METRIC_VERSIONS,
    LINKERD_NAMESPACE,
    PROTOCOL_GRPC,
    PROXY_ADMIN_PORT,
    PROXY_BUILD_VERSIONS,
    ROUTE_REQUEST_BOUNDS_S,
    SCRAPE_RPS,
    VIZ_PROMETHEUS_IDENTITY_SA,
    DemoMesh,
    DemoPod,
    DemoWorkload,
    LatencyModel,
    identity,
    pod_labels,
)

CONTENT_TYPE = "text/plain"
CONTROL_HISTOGRAM_EVERY = 10
ADMIN_HISTOGRAM_EVERY = 8
OUTBOUND_MTLS_HISTOGRAM_EVERY = 4
ROUTE_BACKEND_BOUNDS_S: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0)
_SCRAPE_LATENCY = LatencyModel(4.0, 0.4)
_PROBE_LATENCY = LatencyModel(0.6, 0.3)
_SCRAPE_BYTES = (220, 60_000)  # read (the request), written (the exposition)
_PROBE_BYTES = (120, 90)


def _legacy(name: str, kind: str, help_text: str) -> tuple[str, str]:
    return name, f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"


def _open_metrics(name: str, kind: str, help_text: str, unit: str = "") -> tuple[str, str]:
    """A prometheus-client family: counters are named (and typed) without ``_total``."""
    family = name.removesuffix("_total") if kind == "counter" else name
    header = f"# HELP {family} {help_text}.\n# TYPE {family} {kind}\n"
    if unit:
        header += f"# UNIT {family} {unit}\n"
    return name, header


_LATENCY_HELP = (
    "Elapsed times between a request's headers being received and its response stream completing"
)
# In the order a 2.18 proxy prints them.
_FAMILIES: tuple[tuple[str, str], ...] = (
    # Not a proxy's: the identity controller's gauge (linkerd2 pkg/identity/service.go, Go
    # client text), on the first shard only, with the labels the viz job gives it.
    _legacy(
        "issuer_cert_ttl_seconds",
        "gauge",
        "The remaining seconds until the issuer certificate expires",
    ),
    _legacy(
        "inbound_http_authz_allow_total",
        "counter",
        "The total number of inbound HTTP requests that were authorized",
    ),
    _legacy(
        "inbound_http_authz_deny_total",
        "counter",
        "The total number of inbound HTTP requests that could not be processed due to a proxy "
        "error.",
    ),
    _legacy(
        "inbound_tcp_authz_allow_total",
        "counter",
        "The total number of inbound TCP connections that were authorized",
    ),
    _legacy(
        "inbound_tcp_authz_deny_total",
        "counter",
        "The total number of inbound TCP connections that were denied",
    ),
    _legacy(
        "inbound_http_errors_total",
        "counter",
        "The total number of inbound HTTP requests that could not be processed due to a proxy "
        "error.",
    ),
    _legacy(
        "outbound_http_errors_total",
        "counter",
        "The total number of outbound HTTP requests that could not be processed due to a proxy "
        "error.",
    ),
    _legacy(
        "identity_cert_expiration_timestamp_seconds",
        "gauge",
        "Time when the this proxy's current mTLS identity certificate will expire (in seconds "
        "since the UNIX epoch).",
    ),
    _legacy(
        "identity_cert_refresh_count",
        "counter",
        "The total number of times this proxy's mTLS identity certificate has been refreshed "
        "by the Identity service.",
    ),
    _legacy("request_total", "counter", "Total count of HTTP requests."),
    _legacy("response_latency_ms", "histogram", _LATENCY_HELP),
    _legacy("response_total", "counter", "Total count of HTTP responses."),
    _legacy("route_request_total", "counter", "Total count of HTTP requests."),
    _legacy("route_response_latency_ms", "histogram", _LATENCY_HELP),
    _legacy("route_response_total", "counter", "Total count of HTTP responses."),
    _legacy("control_request_total", "counter", "Total count of HTTP requests."),
    _legacy("control_response_latency_ms", "histogram", _LATENCY_HELP),
    _legacy("control_response_total", "counter", "Total count of HTTP responses."),
    _legacy("tcp_open_total", "counter", "Total count of opened connections"),
    _legacy("tcp_open_connections", "gauge", "Number of currently-open connections"),
    _legacy("tcp_read_bytes_total", "counter", "Total count of bytes read from peers"),
    _legacy("tcp_write_bytes_total", "counter", "Total count of bytes written to peers"),
    _legacy("tcp_close_total", "counter", "Total count of closed connections"),
    _legacy("stack_create_total", "counter", "Total number of services created"),
    _legacy("stack_drop_total", "counter", "Total number of services dropped"),
    _legacy("stack_poll_total", "counter", "Total number of stack polls"),
    _legacy(
        "stack_poll_total_ms",
        "counter",
        "Total number of milliseconds this service has spent awaiting readiness",
    ),
    _open_metrics("proxy_build_info", "gauge", "Proxy build info"),
    _open_metrics(
        "control_identity_cert_expiration_timestamp_seconds",
        "gauge",
        "Time when this proxy's current mTLS identity certificate will expire (in seconds "
        "since the UNIX epoch)",
        "seconds",
    ),
    _open_metrics(
        "control_identity_cert_refresh_timestamp_seconds",
        "gauge",
        "Time when this proxy's current mTLS identity certificate was last updated",
        "seconds",
    ),
    _open_metrics(
        "control_identity_cert_refreshes_total",
        "counter",
        "The total number of times this proxy's mTLS identity certificate has been refreshed "
        "by the Identity provider",
    ),
    *(
        family
        for protocol in ("http", "grpc")
        for family in (
            _open_metrics(
                f"outbound_{protocol}_route_request_duration_seconds",
                "histogram",
                "The time between request initialization and response completion",
                "seconds",
            ),
            _open_metrics(
                f"outbound_{protocol}_route_request_statuses_total",
                "counter",
                "Completed request-response streams",
            ),
            _open_metrics(
                f"outbound_{protocol}_route_backend_requests_total",
                "counter",
                "The total number of requests dispatched",
            ),
            _open_metrics(
                f"outbound_{protocol}_route_backend_response_duration_seconds",
                "histogram",
                "The time between request initialization and response completion",
                "seconds",
            ),
            _open_metrics(
                f"outbound_{protocol}_route_backend_response_statuses_total",
                "counter",
                "Completed responses",
            ),
        )
    ),
    _open_metrics(
        "process_start_time_seconds",
        "gauge",
        "Time that the process started (in seconds since the UNIX epoch)",
        "seconds",
    ),
    _open_metrics(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds",
        "seconds",
    ),
    _open_metrics("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes", "bytes"),
    _open_metrics(
        "process_resident_memory_bytes", "gauge", "Resident memory size in bytes", "bytes"
    ),
    _open_metrics("process_open_fds", "gauge", "Number of open file descriptors"),
    _open_metrics("process_max_fds", "gauge", "Maximum number of open file descriptors"),
    _open_metrics("process_threads", "gauge", "Number of OS threads in the process."),
)
_BUCKET_BOUNDS = [str(bound) for bound in LATENCY_BOUNDS_MS] + ["+Inf"]
_DEFAULT_SERVER = 'srv_group="",srv_kind="default",srv_name="all-unauthenticated"'
_DEFAULT_AUTHZ = 'authz_group="",authz_kind="default",authz_name="all-unauthenticated"'
_DEFAULT_ROUTE_ONLY = 'route_group="",route_kind="default",route_name="default"'
_DEFAULT_ROUTE = f"{_DEFAULT_ROUTE_ONLY},{_DEFAULT_AUTHZ}"
_PROBE_ROUTE = (
    'route_group="",route_kind="default",route_name="probe",'
    'authz_group="",authz_kind="default",authz_name="probe"'
)
_NO_IDENTITY = 'tls="no_identity",no_tls_reason="no_tls_from_remote"'
_LOOPBACK = 'tls="no_identity",no_tls_reason="loopback"'
_ADMIN_TARGET = (
    f'target_addr="0.0.0.0:{PROXY_ADMIN_PORT}",target_ip="0.0.0.0",target_port="{PROXY_ADMIN_PORT}"'
)
_SCRAPER_TLS = f'tls="true",client_id="{identity(*VIZ_PROMETHEUS_IDENTITY_SA)}"'
_BUILD = 'date="2025-04-24T08:51:40Z",git_sha="{sha}",profile="release",vendor="linkerd"'
# gRPC codes the demo's services answer with: successes (OK, NOT_FOUND) and failures.
_GRPC_SUCCESSES = ((0, 0.97), (5, 0.03))
_GRPC_FAILURES = ((14, 0.7), (4, 0.2), (13, 0.1))
# The proxy's control-plane clients the demo keeps (ControlLabels: addr, then the TLS
# connect labels): destination, and identity (a call per leaf refresh). A real proxy also has
# the policy client (linkerd-policy...:8090, served by linkerd-destination's pods).
_CONTROL_CLIENTS = {
    "destination": (
        f'addr="linkerd-dst-headless.{LINKERD_NAMESPACE}.svc.cluster.local:8086",tls="true",'
        f'server_id="{identity("linkerd-destination", LINKERD_NAMESPACE)}"'
    ),
    "identity": (
        f'addr="linkerd-identity-headless.{LINKERD_NAMESPACE}.svc.cluster.local:8080",tls="true",'
        f'server_id="{identity("linkerd-identity", LINKERD_NAMESPACE)}"'
    ),
}
_CONTROL = _CONTROL_CLIENTS["destination"]
_CONTROL_OK = 'status_code="200",classification="success",grpc_status="0",error=""'
# A call that failed before any response: no status_code (linkerd2-proxy http metrics).
_CONTROL_FAILED = 'classification="failure",grpc_status="",error="unclassified"'
# Leaf certificates last 24 h and are renewed at about 70 % of their life: a refresh (and a
# call to identity) every 17 h or so.
_REFRESH_RATE = 1 / (17 * 3600)
# The identity controller's admin port (container port ident-admin), scraped by the viz job
# linkerd-controller, which sets component to the container's name.
IDENTITY_ADMIN_PORT = 9990


def escape(value: str) -> str:
    """A label value as the text format writes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_labels(w: DemoWorkload, pod: DemoPod) -> list[tuple[str, str]]:
    """The labels the viz Prometheus job adds to every series of the pod's proxy.

    In the relabelling's order: ``k8s_job`` from ``linkerd.io/proxy-job``, then the other
    ``linkerd.io/proxy-<kind>`` and ``linkerd.io/<x>`` labels mapped, then every other pod label
    with its name sanitised.
    """
    pairs = [
        ("instance", f"{pod.ip}:{PROXY_ADMIN_PORT}"),
        ("job", "linkerd-proxy"),
        ("namespace", w.namespace),
        ("pod", pod.name),
    ]
    linkerd, rest = [], []
    for key, value in pod_labels(w, pod).items():
        if key == "linkerd.io/proxy-job":
            pairs.append(("k8s_job", value))
        elif key.startswith("linkerd.io/proxy-"):
            pairs.append((key.removeprefix("linkerd.io/proxy-"), value))
        elif key.startswith("linkerd.io/"):
            linkerd.append((_sanitize(key.removeprefix("linkerd.io/")), value))
        else:
            rest.append((_sanitize(key), value))
    return pairs + linkerd + rest


def _text(labels: list[tuple[str, str]]) -> str:
    return ",".join(f'{key}="{escape(value)}"' for key, value in labels)


def _sanitize(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)


@dataclass
class Shard:
    """The lines of one scrape target: a line's value is ``a + b * (t - s)``."""

    families: dict[str, list[tuple[str, float, float, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    prefixes: list[bytes] = field(default_factory=list)
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    s: list[float] = field(default_factory=list)
    # Lines that step every ``period`` instead: (index, a, b, s, period) for
    # ``a + b * floor((t - s) / period)`` (no step before ``s``).
    steps: list[tuple[int, float, float, float, float]] = field(default_factory=list)

    def add(
        self, family: str, series: str, a: float, b: float, s: float, period: float = 0.0
    ) -> None:
        self.families[family].append((series, a, b, s, period))

    def freeze(self) -> None:
        """Turn the collected series into byte prefixes, grouped by family with headers."""
        for name, header in _FAMILIES:
            lines = self.families.get(name, [])
            for i, (series, a, b, s, period) in enumerate(lines):
                head = header if i == 0 else ""
                if period > 0:
                    self.steps.append((len(self.prefixes), a, b, s, period))
                    a, b = a, 0.0
                self.prefixes.append(f"{head}{series} ".encode())
                self.a.append(a)
                self.b.append(b)
                self.s.append(s)
        self.families = {}

    def __len__(self) -> int:
        return len(self.prefixes)

    def render(self, t: float) -> bytes:
        """The exposition at unix time ``t``, without timestamps, as a proxy sends it."""
        values = [a + b * (t - s) for a, b, s in zip(self.a, self.b, self.s, strict=True)]
        for i, a, b, s, period in self.steps:
            values[i] = float(a + b * max(0, math.floor((t - s) / period)))
        # Interleaving prefixes and formatted numbers keeps per-line work in C.
        parts: list[bytes] = [b""] * (2 * len(values))
        parts[0::2] = self.prefixes
        parts[1::2] = [b"%r\n" % v for v in values]
        return b"".join(parts) + b"# EOF\n"


def build_shards(mesh: DemoMesh, shards: int = 8) -> list[Shard]:
    """Every exporting pod's series, pods dealt round-robin over ``shards`` targets."""
    result = [Shard() for _ in range(max(1, shards))]
    inbound: dict[int, dict[str, list]] = defaultdict(dict)
    outbound: dict[int, dict[int, list]] = defaultdict(dict)
    services: dict[int, dict[int, list]] = defaultdict(dict)  # client pod -> callee -> rps
    for f in mesh.flows:
        client = f.src.identity if f.src is not None and f.src.meshed else ""
        if f.dst.serves_mtls:  # a port that skips the proxy: the server's proxy sees nothing
            entry = inbound[id(f.dst_pod)].setdefault(client, [0.0, 0])
            entry[0] += f.rps
            entry[1] += f.connections
        if f.src_pod is not None and f.src_pod.exports_metrics:
            entry = outbound[id(f.src_pod)].setdefault(id(f.dst_pod), [f.dst, f.dst_pod, 0.0, 0])
            entry[2] += f.rps
            entry[3] += f.connections
            services[id(f.src_pod)].setdefault(id(f.dst), [f.dst, 0.0])[1] += f.rps
    n = 0
    for w in mesh.all_workloads:
        for pod in w.pods:
            if not pod.exports_metrics:
                continue
            shard = result[n % len(result)]
            p = _text(prometheus_labels(w, pod))
            _pod_series(shard, w, pod, p, n)
            _admin_series(shard, w, pod, p, n % ADMIN_HISTOGRAM_EVERY == 0)
            _inbound_series(shard, w, pod, p, inbound[id(pod)])
            mtls_histograms = n % OUTBOUND_MTLS_HISTOGRAM_EVERY == 0
            for dst, dst_pod, rps, connections in outbound[id(pod)].values():
                histogram = mtls_histograms or not dst.serves_mtls
                _outbound_series(shard, pod, p, dst, dst_pod, rps, connections, histogram)
            for dst, rps in services[id(pod)].values():
                _policy_route_series(shard, pod, p, dst, rps)
            n += 1
    _identity_controller_series(result[0], mesh)
    for shard in result:
        shard.freeze()
    return result


def _identity_controller_series(shard: Shard, mesh: DemoMesh) -> None:
    """``issuer_cert_ttl_seconds`` of each identity pod (Linkerd edge-25.2.1 and later): the
    seconds until the issuer expires, negative once it has, as job ``linkerd-controller``
    stores it (``component`` is the container's name; no namespace or pod labels)."""
    for w in mesh.control_plane:
        if w.control_plane_component != "identity":
            continue
        for pod in w.pods:
            if not pod.running:
                continue
            labels = (
                f'component="identity",instance="{pod.ip}:{IDENTITY_ADMIN_PORT}",'
                'job="linkerd-controller"'
            )
            name = "issuer_cert_ttl_seconds"
            # a + b * (t - s) with s = 0: not_after - t.
            shard.add(name, f"{name}{{{labels}}}", mesh.certificates.issuer_not_after, -1, 0)


def series_count(mesh: DemoMesh) -> int:
    """How many series Prometheus holds after scraping every shard of the mesh."""
    return sum(len(shard) for shard in build_shards(mesh, 1))


def _pod_series(shard: Shard, w: DemoWorkload, pod: DemoPod, p: str, n: int) -> None:
    s = pod.started_at
    build_version = PROXY_BUILD_VERSIONS[pod.proxy_version]
    sha = hashlib.sha1(build_version.encode(), usedforsecurity=False).hexdigest()
    # A pod label "version" is a target label that clashes: Prometheus renames the proxy's own.
    version_key = "exported_version" if "version" in w.labels else "version"
    build = f'{_BUILD.format(sha=sha)},{version_key}="{build_version}"'
    shard.add("proxy_build_info", f"proxy_build_info{{{build},{p}}}", 1, 0, s)
    # The leaf held at the epoch, then one more every LEAF_RENEWAL_SECONDS (DemoPod.leaf):
    # expiry and refresh time step by that much, the ok counter by one. A proxy whose
    # refreshes fail keeps its leaf, and its error counter grows.
    issued, expiry = pod.leaf(pod.cert_expiry - LEAF_LIFETIME_SECONDS)
    period = LEAF_RENEWAL_SECONDS if pod.renews_leaf else 0.0
    if pod.proxy_version in LEGACY_CERT_METRIC_VERSIONS:
        name = "identity_cert_expiration_timestamp_seconds"
        shard.add(name, f"{name}{{{p}}}", expiry, period, issued, period)
        name = "identity_cert_refresh_count"  # successes only; no refresh timestamp
        shard.add(name, f"{name}{{{p}}}", 1, 1 if period else 0, issued, period)
    else:
        name = "control_identity_cert_expiration_timestamp_seconds"
        shard.add(name, f"{name}{{{p}}}", expiry, period, issued, period)
        name = "control_identity_cert_refresh_timestamp_seconds"
        shard.add(name, f"{name}{{{p}}}", issued, period, issued, period)
        name = "control_identity_cert_refreshes_total"
        shard.add(name, f'{name}{{result="ok",{p}}}', 1, 1 if period else 0, issued, period)
        errors = pod.cert_refresh_errors_per_second
        shard.add(name, f'{name}{{result="error",{p}}}', 0, errors, s)
    shard.add("process_start_time_seconds", f"process_start_time_seconds{{{p}}}", s, 0, s)
    shard.add("process_cpu_seconds_total", f"process_cpu_seconds_total{{{p}}}", 0, pod.cpu_rate, s)
    virtual = pod.memory_base + 60 * 1024 * 1024
    shard.add("process_virtual_memory_bytes", f"process_virtual_memory_bytes{{{p}}}", virtual, 0, s)
    shard.add(
        "process_resident_memory_bytes",
        f"process_resident_memory_bytes{{{p}}}",
        pod.memory_base,
        pod.memory_slope,
        s,
    )
    shard.add("process_open_fds", f"process_open_fds{{{p}}}", 24, 0, s)
    shard.add("process_max_fds", f"process_max_fds{{{p}}}", 1048576, 0, s)
    shard.add("process_threads", f"process_threads{{{p}}}", 3, 0, s)
    # The proxy's own control-plane clients (legacy families, no direction): destination at a
    # steady pace, identity at each leaf refresh; a proxy that cannot reach a component has
    # only failures towards it (retried about every 100 s).
    for component, client in _CONTROL_CLIENTS.items():
        failing = component in pod.failing_control_plane
        rate = 0.01 if component == "destination" or failing else _REFRESH_RATE
        shard.add("control_request_total", f"control_request_total{{{client},{p}}}", 0, rate, s)
        response = f"{client},{_CONTROL_FAILED if failing else _CONTROL_OK}"
        name = "control_response_total"
        shard.add(name, f"{name}{{{response},{p}}}", 0, rate, s)
    if n % CONTROL_HISTOGRAM_EVERY == 0 and "destination" not in pod.failing_control_plane:
        ok = f'{_CONTROL},status_code="200"'
        _latency(shard, "control_", ok, p, 0.01, LatencyModel(2, 0.5), s)
    # One stack of the many a proxy reports, with the direction="inbound" a query must not take.
    stack = 'direction="inbound",protocol="http",name="logical"'
    shard.add("stack_create_total", f"stack_create_total{{{stack},{p}}}", 1, 0, s)
    shard.add("stack_drop_total", f"stack_drop_total{{{stack},{p}}}", 0, 0, s)
    shard.add("stack_poll_total", f'stack_poll_total{{{stack},ready="true",{p}}}', 0, 0.5, s)
    shard.add("stack_poll_total_ms", f"stack_poll_total_ms{{{stack},{p}}}", 0, 0.002, s)


def _latency(
    shard: Shard, prefix: str, labels: str, p: str, rate: float, latency: LatencyModel, s: float
) -> None:
    family = f"{prefix}response_latency_ms"
    for bound, fraction in zip(_BUCKET_BOUNDS, (*latency.cumulative_fractions(), 1.0), strict=True):
        shard.add(family, f'{family}_bucket{{{labels},le="{bound}",{p}}}', 0, rate * fraction, s)
    shard.add(family, f"{family}_count{{{labels},{p}}}", 0, rate, s)
    shard.add(family, f"{family}_sum{{{labels},{p}}}", 0, rate * latency.mean_ms(), s)


def _http_series(
    shard: Shard,
    prefix: str,
    labels: str,
    p: str,
    rps: float,
    dst: DemoWorkload | None,
    s: float,
    histogram: bool = True,
) -> None:
    """Requests, latency and responses of one label set; ``dst`` None: a probe or a scrape."""
    shard.add(f"{prefix}request_total", f"{prefix}request_total{{{labels},{p}}}", 0, rps, s)
    responses = f"{prefix}response_total"
    if dst is None:
        latency = _PROBE_LATENCY if "probe" in labels else _SCRAPE_LATENCY
        if histogram:
            _latency(shard, prefix, f'{labels},status_code="200"', p, rps, latency, s)
        ok = 'status_code="200",classification="success",grpc_status="",error=""'
        shard.add(responses, f"{responses}{{{labels},{ok},{p}}}", 0, rps, s)
        return
    success = dst.success_rate
    if dst.protocol == PROTOCOL_GRPC:
        # Every gRPC response is HTTP 200; only grpc_status tells a failure.
        if histogram:
            _latency(shard, prefix, f'{labels},status_code="200"', p, rps, dst.latency, s)
        rows = [(code, "success", rps * success * share) for code, share in _GRPC_SUCCESSES]
        if success < 1:
            failures = _GRPC_FAILURES if dst.incident else _GRPC_FAILURES[:1]
            total = sum(share for _, share in failures)
            rows += [(c, "failure", rps * (1 - success) * sh / total) for c, sh in failures]
        for code, classification, rate in rows:
            response = (
                f'status_code="200",classification="{classification}",grpc_status="{code}",error=""'
            )
            shard.add(responses, f"{responses}{{{labels},{response},{p}}}", 0, rate, s)
        return
    ok = rps * success
    if histogram:
        _latency(shard, prefix, f'{labels},status_code="200"', p, ok, dst.latency, s)
    success_labels = 'status_code="200",classification="success",grpc_status="",error=""'
    shard.add(responses, f"{responses}{{{labels},{success_labels},{p}}}", 0, ok, s)
    if success < 1:
        reset = (rps - ok) * dst.stream_error_share
        failure = 'status_code="500",classification="failure",grpc_status="",error=""'
        shard.add(responses, f"{responses}{{{labels},{failure},{p}}}", 0, rps - ok - reset, s)
        if reset:
            # The stream failed before any response: no status_code at all.
            if histogram:
                _latency(shard, prefix, labels, p, reset, dst.latency, s)
            stream = 'classification="failure",grpc_status="",error="timeout"'
            shard.add(responses, f"{responses}{{{labels},{stream},{p}}}", 0, reset, s)


def _tcp_series(
    shard: Shard,
    labels: str,
    p: str,
    connections: float,
    read_rate: float,
    write_rate: float,
    s: float,
    opened: float | None = None,
    close_error_share: float = 0.0,
) -> None:
    if opened is None:
        opened = connections / CONNECTION_LIFETIME_SECONDS
    shard.add("tcp_open_total", f"tcp_open_total{{{labels},{p}}}", 0, opened, s)
    shard.add("tcp_open_connections", f"tcp_open_connections{{{labels},{p}}}", connections, 0, s)
    shard.add("tcp_read_bytes_total", f"tcp_read_bytes_total{{{labels},{p}}}", 0, read_rate, s)
    shard.add("tcp_write_bytes_total", f"tcp_write_bytes_total{{{labels},{p}}}", 0, write_rate, s)
    closed = opened * (1 - close_error_share)
    shard.add("tcp_close_total", f'tcp_close_total{{{labels},errno="",{p}}}', 0, closed, s)
    if close_error_share:
        reset = opened * close_error_share
        errno = 'errno="ECONNRESET"'
        shard.add("tcp_close_total", f"tcp_close_total{{{labels},{errno},{p}}}", 0, reset, s)


def _admin_series(shard: Shard, w: DemoWorkload, pod: DemoPod, p: str, histograms: bool) -> None:
    """What every proxy's admin server counts: scrapes and kubelet probes, and their TCP."""
    s = pod.started_at
    server = f'{_DEFAULT_SERVER},srv_port="{PROXY_ADMIN_PORT}"'
    for tls, route, rps, (read, write) in (
        (_SCRAPER_TLS, _DEFAULT_ROUTE, SCRAPE_RPS, _SCRAPE_BYTES),
        (_NO_IDENTITY, _PROBE_ROUTE, ADMIN_PROBE_RPS, _PROBE_BYTES),
    ):
        http = f'direction="inbound",{_ADMIN_TARGET},{tls},{server},{route}'
        _http_series(shard, "", http, p, rps, None, s, histograms)
        authz = f"{_ADMIN_TARGET},{server},{route},{tls}"
        shard.add(
            "inbound_http_authz_allow_total",
            f"inbound_http_authz_allow_total{{{authz},{p}}}",
            0,
            rps,
            s,
        )
        tcp = f'direction="inbound",peer="src",{_ADMIN_TARGET},{tls},{server}'
        # Prometheus keeps its connection open; the kubelet opens one per probe.
        scraper = tls == _SCRAPER_TLS
        _tcp_series(
            shard,
            tcp,
            p,
            1 if scraper else 0,
            rps * read,
            rps * write,
            s,
            opened=1 / CONNECTION_LIFETIME_SECONDS if scraper else rps,
        )
        tcp_authz = f"{_ADMIN_TARGET},{server},{_DEFAULT_AUTHZ},{tls}"
        shard.add(
            "inbound_tcp_authz_allow_total",
            f"inbound_tcp_authz_allow_total{{{tcp_authz},{p}}}",
            0,
            1 / CONNECTION_LIFETIME_SECONDS if scraper else rps,
            s,
        )
    if w.http_probes:
        target = f'target_addr="{pod.ip}:{w.port}",target_ip="{pod.ip}",target_port="{w.port}"'
        server = _server_labels(w)[0]
        http = f'direction="inbound",{target},{_NO_IDENTITY},{server},{_PROBE_ROUTE}'
        _http_series(shard, "", http, p, APP_PROBE_RPS * w.http_probes, None, s, histograms)


def _server_labels(w: DemoWorkload) -> tuple[str, str]:
    """The ``srv_*`` labels of w's port and the ``authz_*`` labels that allow its callers:
    its Server and AuthorizationPolicy, or the default policy."""
    if not w.server:
        return f'{_DEFAULT_SERVER},srv_port="{w.port}"', _DEFAULT_AUTHZ
    server = (
        f'srv_group="policy.linkerd.io",srv_kind="server",srv_name="{escape(w.server)}",'
        f'srv_port="{w.port}"'
    )
    authz = (
        'authz_group="policy.linkerd.io",authz_kind="authorizationpolicy",'
        f'authz_name="{escape(w.authorization_policy)}"'
    )
    return server, authz


def _denials(shard: Shard, w: DemoWorkload, pod: DemoPod, p: str, target: str, server: str):
    """Requests and connections from an identity w's policy does not authorize, spread over
    its serving pods. A denied request never reaches the application."""
    share = 1 / max(1, len(w.serving_pods))
    tls = f'tls="true",client_id="{escape(w.denied_client)}"'
    if w.denied_rps:
        labels = f"{target},{server},{_DEFAULT_ROUTE_ONLY},{tls}"
        name = "inbound_http_authz_deny_total"
        shard.add(name, f"{name}{{{labels},{p}}}", 0, w.denied_rps * share, pod.started_at)
    if w.denied_connections_per_second:
        labels = f"{target},{server},{tls}"
        name = "inbound_tcp_authz_deny_total"
        rate = w.denied_connections_per_second * share
        shard.add(name, f"{name}{{{labels},{p}}}", 0, rate, pod.started_at)


def _inbound_series(
    shard: Shard, w: DemoWorkload, pod: DemoPod, p: str, clients: dict[str, list]
) -> None:
    s = pod.started_at
    target = f'target_addr="{pod.ip}:{w.port}",target_ip="{pod.ip}",target_port="{w.port}"'
    server, allowed = _server_labels(w)
    route = f"{_DEFAULT_ROUTE_ONLY},{allowed}"
    if pod.running and w.serves_mtls:
        _denials(shard, w, pod, p, target, server)
    total_rps = total_connections = 0
    for client, (rps, connections) in sorted(clients.items()):
        tls = f'tls="true",client_id="{escape(client)}"' if client else _NO_IDENTITY
        if w.speaks_http:
            http = f'direction="inbound",{target},{tls},{server},{route}'
            _http_series(shard, "", http, p, rps, w, s)
            authz = f"{target},{server},{route},{tls}"
            shard.add(
                "inbound_http_authz_allow_total",
                f"inbound_http_authz_allow_total{{{authz},{p}}}",
                0,
                rps,
                s,
            )
        else:
            authz = f"{target},{server},{allowed},{tls}"
            shard.add(
                "inbound_tcp_authz_allow_total",
                f"inbound_tcp_authz_allow_total{{{authz},{p}}}",
                0,
                connections / CONNECTION_LIFETIME_SECONDS,
                s,
            )
        tcp = f'direction="inbound",peer="src",{target},{tls},{server}'
        read, write = rps * w.request_bytes, rps * w.response_bytes
        _tcp_series(shard, tcp, p, connections, read, write, s, None, w.close_error_share)
        total_rps += rps
        total_connections += connections
    if not total_rps:
        return
    loopback = f'direction="inbound",peer="dst",{_LOOPBACK}'
    read, write = total_rps * w.response_bytes, total_rps * w.request_bytes
    _tcp_series(shard, loopback, p, total_connections, read, write, s)
    for route in w.routes:
        labels = f'direction="inbound",dst="{w.authority}",rt_route="{escape(route.name)}"'
        _http_series(shard, "route_", labels, p, total_rps * route.share, w, s)
    if w.stream_error_share and w.success_rate < 1:
        errors = total_rps * (1 - w.success_rate) * w.stream_error_share
        labels = f'{target},{server},error="unexpected"'
        shard.add(
            "inbound_http_errors_total", f"inbound_http_errors_total{{{labels},{p}}}", 0, errors, s
        )


def _dst_labels(dst: DemoWorkload, dst_pod: DemoPod) -> str:
    """The destination's metric labels, ``dst_``-prefixed, in the controller's sorted order."""
    labels = {
        f"dst_{'k8s_job' if dst.kind == 'job' else dst.kind}": dst.name,
        "dst_namespace": dst.namespace,
        "dst_pod": dst_pod.name,
        "dst_service": dst.service_name,
        "dst_serviceaccount": dst.service_account,
        "dst_zone": "",
        "dst_zone_locality": "unknown",
    }
    if dst.kind == "deployment":
        labels["dst_pod_template_hash"] = dst.template_hash
    if dst.meshed:
        labels["dst_control_plane_ns"] = LINKERD_NAMESPACE
    return ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))


def _outbound_series(
    shard: Shard,
    pod: DemoPod,
    p: str,
    dst: DemoWorkload,
    dst_pod: DemoPod,
    rps: float,
    connections: int,
    histogram: bool,
) -> None:
    s = pod.started_at
    if dst.serves_mtls:
        tls = f'tls="true",server_id="{escape(dst.identity)}"'
    else:
        # Unmeshed, or its port skips its proxy: the destination controller gives no identity.
        tls = 'tls="no_identity",no_tls_reason="not_provided_by_service_discovery"'
    ip, port = dst_pod.ip, dst.port
    target = f'target_addr="{ip}:{port}",target_ip="{ip}",target_port="{port}"'
    dst_text = _dst_labels(dst, dst_pod)
    # Opaque (TCP) traffic has no HTTP authority.
    authority = f'authority="{dst.authority}",' if dst.speaks_http else ""
    endpoint = f"{authority}{target},{tls},{dst_text}"
    if dst.speaks_http:
        _http_series(shard, "", f'direction="outbound",{endpoint}', p, rps, dst, s, histogram)
        if dst.stream_error_share and dst.success_rate < 1:
            errors = rps * (1 - dst.success_rate) * dst.stream_error_share
            labels = f'{target},error="response timeout"'
            shard.add(
                "outbound_http_errors_total",
                f"outbound_http_errors_total{{{labels},{p}}}",
                0,
                errors,
                s,
            )
    tcp = f'direction="outbound",peer="dst",{endpoint}'
    read, write = rps * dst.response_bytes, rps * dst.request_bytes
    _tcp_series(shard, tcp, p, connections, read, write, s)


def _route_histogram(
    shard: Shard,
    family: str,
    labels: str,
    p: str,
    rate: float,
    latency: LatencyModel,
    bounds_s: tuple[float, ...],
    s: float,
) -> None:
    """A prometheus-client histogram: _sum, _count, then the buckets (``le`` as f64 prints)."""
    mean_s = latency.mean_ms() / 1000
    shard.add(family, f"{family}_sum{{{labels},{p}}}", 0, rate * mean_s, s)
    shard.add(family, f"{family}_count{{{labels},{p}}}", 0, rate, s)
    fractions = latency.cumulative_fractions(tuple(bound * 1000 for bound in bounds_s))
    for bound, fraction in zip(bounds_s, fractions, strict=True):
        shard.add(family, f'{family}_bucket{{{labels},le="{bound!r}",{p}}}', 0, rate * fraction, s)
    shard.add(family, f'{family}_bucket{{{labels},le="+Inf",{p}}}', 0, rate, s)


def _policy_route_series(shard: Shard, pod: DemoPod, p: str, dst: DemoWorkload, rps: float) -> None:
    """The client-side route families of one Service called (none for a ServiceProfile's)."""
    if not dst.speaks_http or dst.routes or not rps:
        return
    s = pod.started_at
    parent = (
        f'parent_group="core",parent_kind="Service",parent_namespace="{dst.namespace}",'
        f'parent_name="{dst.service_name}",parent_port="{dst.port}",parent_section_name=""'
    )
    backend = (
        f'backend_group="core",backend_kind="Service",backend_namespace="{dst.namespace}",'
        f'backend_name="{dst.service_name}",backend_port="{dst.port}",backend_section_name=""'
    )
    routes = [(r.kind, r.name, r.share) for r in dst.policy_routes] or [("", "http", 1.0)]
    for kind, name, share in routes:
        rate = rps * share
        grpc = kind == "GRPCRoute"
        family = "outbound_grpc_route_" if grpc else "outbound_http_route_"
        if kind:
            route = (
                f'route_group="gateway.networking.k8s.io",route_kind="{kind}",'
                f'route_namespace="{dst.namespace}",route_name="{name}"'
            )
        else:
            route = 'route_group="",route_kind="default",route_namespace="",route_name="http"'
        labels = f'{parent},{route},hostname=""'
        statuses = _route_statuses(dst, grpc, rate)
        _route_histogram(
            shard,
            f"{family}request_duration_seconds",
            labels,
            p,
            rate,
            dst.latency,
            ROUTE_REQUEST_BOUNDS_S,
            s,
        )
        for status, value in statuses:
            name_ = f"{family}request_statuses_total"
            shard.add(name_, f"{name_}{{{labels},{status},{p}}}", 0, value, s)
        if not kind:
            continue  # the default route's backend families are left out (series budget)
        backend_labels = f"{parent},{route},{backend}"
        name_ = f"{family}backend_requests_total"
        shard.add(name_, f"{name_}{{{backend_labels},{p}}}", 0, rate, s)
        _route_histogram(
            shard,
            f"{family}backend_response_duration_seconds",
            backend_labels,
            p,
            rate,
            dst.latency,
            ROUTE_BACKEND_BOUNDS_S,
            s,
        )
        for status, value in statuses:
            name_ = f"{family}backend_response_statuses_total"
            shard.add(name_, f"{name_}{{{backend_labels},{status},{p}}}", 0, value, s)


def _route_statuses(dst: DemoWorkload, grpc: bool, rate: float) -> list[tuple[str, float]]:
    """(status labels, rate): ``grpc_status`` as a code name, or ``http_status``."""
    success = dst.success_rate
    if grpc:
        rows = [('grpc_status="OK",error=""', rate * success)]
        if success < 1:
            rows.append(('grpc_status="UNAVAILABLE",error=""', rate * (1 - success)))
        return rows
    if dst.protocol == PROTOCOL_GRPC:  # gRPC on the default HTTP route: all HTTP 200
        return [('http_status="200",error=""', rate)]
    rows = [('http_status="200",error=""', rate * success)]
    if success < 1:
        reset = rate * (1 - success) * dst.stream_error_share
        rows.append(('http_status="500",error=""', rate * (1 - success) - reset))
        if reset:
            rows.append(('http_status="",error="RESPONSE_HEADERS_TIMEOUT"', reset))
    return rows


# --- Serving: one HTTP server per shard, each answering GET /metrics.


class _MetricsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ShardServer

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        if self.path.split("?", 1)[0] != "/metrics":
            self._send(404, b"not found\n", "text/plain")
            return
        t = self.server.clock()
        self.server.renders.append(t)
        self._send(200, self.server.shard.render(t), CONTENT_TYPE)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the http.server API)
        """Scrapes are too frequent to log."""


class _ShardServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A scraper that gave up (timeout) is not an error of the exporter."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], shard: Shard, clock):
        super().__init__(address, _MetricsHandler)
        self.shard = shard
        self.clock = clock
        # When each scrape's values were computed: tests bound rate() errors with them.
        self.renders: deque[float] = deque(maxlen=1000)


class MetricsExporter:
    """Serves the shards on ``host`` (port 0: free ports; otherwise ``port``, ``port + 1``...)."""

    def __init__(
        self, mesh: DemoMesh, host: str = "127.0.0.1", port: int = 0, shards: int = 8, clock=None
    ):
        self.shards = build_shards(mesh, shards)
        clock = clock or time.time
        self.servers = [
            _ShardServer((host, port + i if port else 0), shard, clock)
            for i, shard in enumerate(self.shards)
        ]
        self.threads = [
            threading.Thread(target=server.serve_forever, name=f"demo-metrics-{i}", daemon=True)
            for i, server in enumerate(self.servers)
        ]
        for thread in self.threads:
            thread.start()

    @property
    def targets(self) -> list[str]:
        return [f"{host}:{port}" for host, port in (s.server_address[:2] for s in self.servers)]

    def render_times(self) -> dict[str, list[float]]:
        """Per target, the clock readings its recent scrapes' values were computed for."""
        return {t: list(s.renders) for t, s in zip(self.targets, self.servers, strict=True)}

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join()
