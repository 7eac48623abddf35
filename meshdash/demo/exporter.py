"""Linkerd proxy metrics of the demo mesh, in Prometheus text format, split over scrape targets.

Each series carries the labels it has once stored by the linkerd-viz Prometheus (proxy labels,
then ``instance``, ``job="linkerd-proxy"`` and the relabelled pod labels), so the job scraping
the shards sets ``honor_labels: true``. Every value is ``a + b * (t - started_at)`` of its pod:
counters have ``a = 0`` and ``b`` = their rate; gauges ``b = 0``; proxy memory creeps with
``b > 0``. Label strings are built once per mesh (``Shard``); a scrape only formats numbers.
Samples carry the time their value was computed for (real proxies send none; Prometheus keeps
ours by default), so a scrape delayed on a busy machine still stores exact (time, value) pairs.

Families: ``request_total``, ``response_total`` (per ``status_code``/``classification``),
``response_latency_ms`` (Linkerd's 26 buckets) inbound and outbound; ``route_*`` for
workloads with ServiceProfile routes; ``tcp_open_total``, ``tcp_open_connections``,
``tcp_read_bytes_total``, ``tcp_write_bytes_total``, ``tcp_close_total`` (inbound
``peer="src"`` per client, the loopback ``peer="dst"`` per pod, outbound ``peer="dst"`` per
endpoint); ``process_start_time_seconds``, ``process_resident_memory_bytes``,
``process_cpu_seconds_total``, ``proxy_build_info`` and
``control_identity_cert_expiration_timestamp_seconds``. Left out to save series: the outbound
loopback (``direction="outbound",peer="src"``) TCP series. ``proxy_build_info`` carries the
proxy's ``version``, not the pod label of that name (which would clash with it).

Series budget: latency histograms carry only ``status_code="200"`` (they count the successful
responses); ``response_total`` has a ``500`` series only where a workload fails at all. One
client/server pod pair costs 35 or 36 series (HTTP 30-31, TCP 5) on each side, a serving pod
10 more (process, build info, certificate, loopback TCP). With 1.45 pods and 1.13 callees per
workload on average, ``series_count(build_mesh(5000))`` is 567,952 series: about 114 series
per workload (104 at 300 workloads).
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from meshdash.demo.model import (
    LATENCY_BOUNDS_MS,
    LINKERD_NAMESPACE,
    PROXY_ADMIN_PORT,
    PROXY_BUILD_VERSIONS,
    DemoMesh,
    DemoPod,
    DemoWorkload,
    LatencyModel,
    pod_labels,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CONNECTION_LIFETIME_SECONDS = 300.0  # connections are replaced at this pace: open/close rates

_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("request_total", "counter", "Total count of HTTP requests."),
    ("response_total", "counter", "Total count of HTTP responses."),
    (
        "response_latency_ms",
        "histogram",
        "Elapsed times between a request's headers being "
        "received and its response stream completing",
    ),
    ("route_request_total", "counter", "Total count of HTTP requests."),
    ("route_response_total", "counter", "Total count of HTTP responses."),
    (
        "route_response_latency_ms",
        "histogram",
        "Elapsed times between a request's headers "
        "being received and its response stream completing",
    ),
    ("tcp_open_total", "counter", "Total count of opened connections"),
    ("tcp_open_connections", "gauge", "Number of currently-open connections"),
    ("tcp_read_bytes_total", "counter", "Total count of bytes read from peers"),
    ("tcp_write_bytes_total", "counter", "Total count of bytes written to peers"),
    ("tcp_close_total", "counter", "Total count of closed connections"),
    (
        "process_start_time_seconds",
        "gauge",
        "Time that the process started (in seconds since the UNIX epoch)",
    ),
    ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes."),
    ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."),
    ("proxy_build_info", "gauge", "Proxy build info"),
    (
        "control_identity_cert_expiration_timestamp_seconds",
        "gauge",
        "Time when this proxy's "
        "current mTLS identity certificate will expire (in seconds since the UNIX epoch)",
    ),
)
_BUCKET_BOUNDS = [str(bound) for bound in LATENCY_BOUNDS_MS] + ["+Inf"]
_SUCCESS = 'status_code="200",classification="success",grpc_status="",error=""'
_FAILURE = 'status_code="500",classification="failure",grpc_status="",error=""'
_DEFAULT_POLICY_SERVER = 'srv_group="",srv_kind="default",srv_name="all-unauthenticated"'
_DEFAULT_POLICY_ROUTE = (
    'route_group="",route_kind="default",route_name="default",'
    'authz_group="",authz_kind="default",authz_name="all-unauthenticated"'
)
_BUILD = (
    'date="2025-08-14T09:12:40Z",git_sha="{sha}",profile="release",vendor="linkerd",version="{v}"'
)


def escape(value: str) -> str:
    """A label value as the text format writes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_labels(w: DemoWorkload, pod: DemoPod, drop: str = "") -> str:
    """The labels the viz Prometheus job adds to every series of the pod's proxy (§2.7).

    ``drop`` leaves out a pod label the series carries itself (``version`` on build info).
    """
    pairs = [
        ("instance", f"{pod.ip}:{PROXY_ADMIN_PORT}"),
        ("job", "linkerd-proxy"),
        ("namespace", w.namespace),
        ("pod", pod.name),
    ]
    linkerd, rest = [], []
    for key, value in pod_labels(w, pod).items():
        if key.startswith("linkerd.io/proxy-"):
            pairs.append((key.removeprefix("linkerd.io/proxy-"), value))
        elif key.startswith("linkerd.io/"):
            linkerd.append((_sanitize(key.removeprefix("linkerd.io/")), value))
        else:
            rest.append((_sanitize(key), value))
    labels = pairs + linkerd + rest
    return ",".join(f'{key}="{escape(value)}"' for key, value in labels if key != drop)


def _sanitize(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)


@dataclass
class Shard:
    """The lines of one scrape target: a line's value is ``a + b * (t - s)``."""

    families: dict[str, list[tuple[str, float, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    prefixes: list[bytes] = field(default_factory=list)
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    s: list[float] = field(default_factory=list)

    def add(self, family: str, series: str, a: float, b: float, s: float) -> None:
        self.families[family].append((series, a, b, s))

    def freeze(self) -> None:
        """Turn the collected series into byte prefixes, grouped by family with headers."""
        for name, kind, help_text in _FAMILIES:
            lines = self.families.get(name, [])
            for i, (series, a, b, s) in enumerate(lines):
                head = f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n" if i == 0 else ""
                newline = "\n" if self.prefixes else ""
                self.prefixes.append(f"{newline}{head}{series} ".encode())
                self.a.append(a)
                self.b.append(b)
                self.s.append(s)
        self.families = {}

    def __len__(self) -> int:
        return len(self.prefixes)

    def render(self, t: float) -> bytes:
        """The exposition at unix time ``t``, each sample stamped with ``t`` in milliseconds.

        The timestamp makes rates exact even when a scrape waits for this process on a busy
        machine: the value and its time come from the same clock reading.
        """
        t_ms = round(t * 1000)
        t = t_ms / 1000
        values = [a + b * (t - s) for a, b, s in zip(self.a, self.b, self.s, strict=True)]
        # Interleaving prefixes, formatted numbers and the timestamp keeps per-line work in C.
        parts: list[bytes] = [b""] * (3 * len(values))
        parts[0::3] = self.prefixes
        parts[1::3] = map(b"%r".__mod__, values)
        parts[2::3] = [b" %d" % t_ms] * len(values)
        return b"".join(parts) + b"\n"


def build_shards(mesh: DemoMesh, shards: int = 8) -> list[Shard]:
    """Every exporting pod's series, pods dealt round-robin over ``shards`` targets."""
    result = [Shard() for _ in range(max(1, shards))]
    inbound: dict[int, dict[str, list]] = defaultdict(dict)
    outbound: dict[int, dict[int, list]] = defaultdict(dict)
    for f in mesh.flows:
        client = f.src.identity if f.src is not None and f.src.meshed else ""
        entry = inbound[id(f.dst_pod)].setdefault(client, [0.0, 0])
        entry[0] += f.rps
        entry[1] += f.connections
        if f.src_pod is not None and f.src_pod.exports_metrics:
            entry = outbound[id(f.src_pod)].setdefault(id(f.dst_pod), [f.dst, f.dst_pod, 0.0, 0])
            entry[2] += f.rps
            entry[3] += f.connections
    n = 0
    for w in mesh.all_workloads:
        for pod in w.pods:
            if not pod.exports_metrics:
                continue
            shard = result[n % len(result)]
            n += 1
            _pod_series(shard, w, pod)
            _inbound_series(shard, w, pod, inbound[id(pod)])
            for dst, dst_pod, rps, connections in outbound[id(pod)].values():
                _outbound_series(shard, w, pod, dst, dst_pod, rps, connections)
    for shard in result:
        shard.freeze()
    return result


def series_count(mesh: DemoMesh) -> int:
    """How many series Prometheus holds after scraping every shard of the mesh."""
    return sum(len(shard) for shard in build_shards(mesh, 1))


def _pod_series(shard: Shard, w: DemoWorkload, pod: DemoPod) -> None:
    p = prometheus_labels(w, pod)
    s = pod.started_at
    build_version = PROXY_BUILD_VERSIONS[pod.proxy_version]
    sha = hashlib.sha1(build_version.encode(), usedforsecurity=False).hexdigest()
    shard.add("process_start_time_seconds", f"process_start_time_seconds{{{p}}}", s, 0, s)
    shard.add(
        "process_resident_memory_bytes",
        f"process_resident_memory_bytes{{{p}}}",
        pod.memory_base,
        pod.memory_slope,
        s,
    )
    shard.add("process_cpu_seconds_total", f"process_cpu_seconds_total{{{p}}}", 0, pod.cpu_rate, s)
    shard.add(
        "proxy_build_info",
        f"proxy_build_info{{{_BUILD.format(sha=sha, v=build_version)},"
        f"{prometheus_labels(w, pod, drop='version')}}}",
        1,
        0,
        s,
    )
    shard.add(
        "control_identity_cert_expiration_timestamp_seconds",
        f"control_identity_cert_expiration_timestamp_seconds{{{p}}}",
        pod.cert_expiry,
        0,
        s,
    )


def _http_series(
    shard: Shard,
    prefix: str,
    labels: str,
    p: str,
    rps: float,
    success: float,
    latency: LatencyModel,
    s: float,
) -> None:
    shard.add(f"{prefix}request_total", f"{prefix}request_total{{{labels},{p}}}", 0, rps, s)
    ok = rps * success
    if success > 0:
        shard.add(
            f"{prefix}response_total",
            f"{prefix}response_total{{{labels},{_SUCCESS},{p}}}",
            0,
            ok,
            s,
        )
    if success < 1:
        shard.add(
            f"{prefix}response_total",
            f"{prefix}response_total{{{labels},{_FAILURE},{p}}}",
            0,
            rps - ok,
            s,
        )
    family = f"{prefix}response_latency_ms"
    base = f'{labels},status_code="200"'
    for bound, fraction in zip(_BUCKET_BOUNDS, (*latency.cumulative_fractions(), 1.0), strict=True):
        shard.add(family, f'{family}_bucket{{{base},le="{bound}",{p}}}', 0, ok * fraction, s)
    shard.add(family, f"{family}_sum{{{base},{p}}}", 0, ok * latency.mean_ms(), s)
    shard.add(family, f"{family}_count{{{base},{p}}}", 0, ok, s)


def _tcp_series(
    shard: Shard,
    labels: str,
    p: str,
    connections: int,
    read_rate: float,
    write_rate: float,
    s: float,
) -> None:
    churn = connections / CONNECTION_LIFETIME_SECONDS
    shard.add("tcp_open_total", f"tcp_open_total{{{labels},{p}}}", 0, churn, s)
    shard.add("tcp_open_connections", f"tcp_open_connections{{{labels},{p}}}", connections, 0, s)
    shard.add("tcp_read_bytes_total", f"tcp_read_bytes_total{{{labels},{p}}}", 0, read_rate, s)
    shard.add("tcp_write_bytes_total", f"tcp_write_bytes_total{{{labels},{p}}}", 0, write_rate, s)
    shard.add("tcp_close_total", f'tcp_close_total{{{labels},errno="",{p}}}', 0, churn, s)


def _inbound_series(shard: Shard, w: DemoWorkload, pod: DemoPod, clients: dict[str, list]) -> None:
    p = prometheus_labels(w, pod)
    s = pod.started_at
    target = f'target_addr="{pod.ip}:{w.port}",target_ip="{pod.ip}",target_port="{w.port}"'
    total_rps = total_connections = 0
    for client, (rps, connections) in sorted(clients.items()):
        if client:
            tls = f'tls="true",client_id="{escape(client)}"'
        else:
            tls = 'tls="no_identity",no_tls_reason="no_tls_from_remote"'
        server = f'{_DEFAULT_POLICY_SERVER},srv_port="{w.port}"'
        http = f'direction="inbound",{target},{tls},{server},{_DEFAULT_POLICY_ROUTE}'
        _http_series(shard, "", http, p, rps, w.success_rate, w.latency, s)
        tcp = f'direction="inbound",peer="src",{target},{tls},{server}'
        _tcp_series(shard, tcp, p, connections, rps * w.request_bytes, rps * w.response_bytes, s)
        total_rps += rps
        total_connections += connections
    if total_rps:
        loopback = 'direction="inbound",peer="dst",tls="no_identity",no_tls_reason="loopback"'
        _tcp_series(
            shard,
            loopback,
            p,
            total_connections,
            total_rps * w.response_bytes,
            total_rps * w.request_bytes,
            s,
        )
        for route in w.routes:
            labels = f'direction="inbound",dst="{w.authority}",rt_route="{escape(route.name)}"'
            _http_series(
                shard, "route_", labels, p, total_rps * route.share, w.success_rate, w.latency, s
            )


def _outbound_series(
    shard: Shard,
    w: DemoWorkload,
    pod: DemoPod,
    dst: DemoWorkload,
    dst_pod: DemoPod,
    rps: float,
    connections: int,
) -> None:
    p = prometheus_labels(w, pod)
    s = pod.started_at
    dst_labels = {
        f"dst_{dst.kind}": dst.name,
        "dst_namespace": dst.namespace,
        "dst_pod": dst_pod.name,
        "dst_service": dst.service_name,
        "dst_serviceaccount": dst.service_account,
        "dst_zone": "",
        "dst_zone_locality": "unknown",
    }
    if dst.kind == "deployment":
        dst_labels["dst_pod_template_hash"] = dst.template_hash
    if dst.meshed:
        dst_labels["dst_control_plane_ns"] = LINKERD_NAMESPACE
        tls = f'tls="true",server_id="{escape(dst.identity)}"'
    else:
        tls = 'tls="no_identity",no_tls_reason="not_provided_by_service_discovery"'
    dst_text = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(dst_labels.items()))
    endpoint = (
        f'authority="{dst.authority}",target_addr="{dst_pod.ip}:{dst.port}",'
        f'target_ip="{dst_pod.ip}",target_port="{dst.port}",{tls},{dst_text}'
    )
    http = f'direction="outbound",{endpoint}'
    _http_series(shard, "", http, p, rps, dst.success_rate, dst.latency, s)
    tcp = f'direction="outbound",peer="dst",{endpoint}'
    _tcp_series(shard, tcp, p, connections, rps * dst.response_bytes, rps * dst.request_bytes, s)


# --- Serving: one HTTP server per shard, each answering GET /metrics.


class _MetricsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ShardServer

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        if self.path.split("?", 1)[0] != "/metrics":
            self._send(404, b"not found\n", "text/plain")
            return
        self._send(200, self.server.shard.render(self.server.clock()), CONTENT_TYPE)

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

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join()
