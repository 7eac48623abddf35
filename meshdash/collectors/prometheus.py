"""PromQL for one collection, and a client that runs it with bounded concurrency.

Every query is grouped over the whole mesh (``sum by (namespace, <owners>, ...)``), so one
collection costs the same number of queries whatever the size of the mesh: 15 per window, and
``shards - 1`` more when the heaviest one is split by namespace. Latency quantiles come from one
bucket aggregation, interpolated in Python (``meshdash.mesh.metrics``): ``histogram_quantile``
three times over would aggregate the same buckets three times, and the same answer, by client,
gives the p99 of every mTLS edge. Where a series' p99 is all that is read (a pod's, a route's),
it is Prometheus's ``histogram_quantile`` over the same one aggregation: one number a series,
not its buckets.
Linkerd's own traffic (Prometheus's scrapes and the kubelet's probes of the admin port, the
kubelet's probes of the application's port) is kept out of every application query and read by
a query of its own (``linkerd_traffic``). What the on-call checks need beyond the snapshot (leaf
refreshes, the issuer's TTL, the proxies' calls to the control plane) is one more query,
``check_inputs``, read by ``fill_check_inputs``.
"""

import math
import string
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import orjson
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from meshdash.collectors.waiting import WaitClock, seconds_left
from meshdash.mesh.checks.inputs import CheckInputs, ControlPlaneClient, ProxyIdentity
from meshdash.mesh.kinds import KIND_BY_PROM_LABEL
from meshdash.mesh.metrics import histogram_quantile, parse_le
from meshdash.mesh.model import MAX_TEXT, bound_text

OWNER_LABELS: tuple[str, ...] = tuple(KIND_BY_PROM_LABEL)
DST_OWNER_LABELS: tuple[str, ...] = tuple(f"dst_{label}" for label in OWNER_LABELS)
_OWNERS = ", ".join(OWNER_LABELS)
_DST_OWNERS = ", ".join(DST_OWNER_LABELS)

# Namespaces are DNS labels: they start with a lower-case letter or a digit.
_NAMESPACE_FIRST = string.ascii_lowercase + string.digits
_MAX_LABEL_NAME = 64


class PrometheusError(Exception):
    """A query failed; the message is short and fit to show in the dashboard."""


class Sample(NamedTuple):
    # A tuple: a big answer holds a hundred thousand of them.
    labels: dict[str, str]
    value: float


_new_tuple = tuple.__new__


# --- PromQL builders. ``match`` is an extra label matcher, used to shard by namespace.


_INBOUND = 'direction="inbound"'
_OUTBOUND = 'direction="outbound"'
_NOT_MTLS = 'tls!="true"'
# The port of the proxy's admin server: Prometheus scrapes it and the kubelet probes it
# (/live, /ready), and the proxy records those requests as ordinary inbound traffic.
ADMIN_PORT = 4191
# The route the policy controller gives the kubelet's httpGet probes on the application's port.
_NOT_PROBE = 'route_name!="probe"'


def _not_admin(admin_port: int) -> str:
    # A negative matcher also matches series without the label, so traffic of proxies that
    # predate a label is kept rather than dropped.
    return f'target_port!="{admin_port}"'


def _selector(*matchers: str) -> str:
    present = [m for m in matchers if m]
    return "{" + ", ".join(present) + "}" if present else ""


def _sum_increase(by: str, metric: str, window: str, *matchers: str) -> str:
    """The shape of every counter query: one grouped sum of increases over the window."""
    return f"sum by ({by}) (increase({metric}{_selector(*matchers)}[{window}]))"


def _application(admin_port: int) -> tuple[str, str]:
    """Matchers keeping an inbound series only if the application served it: not the admin
    port, not a kubelet probe of the application's port."""
    return _not_admin(admin_port), _NOT_PROBE


def inbound_responses(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    return _sum_increase(
        f"namespace, {_OWNERS}, classification",
        "response_total",
        window,
        _INBOUND,
        *_application(admin_port),
        match,
    )


def inbound_latency_buckets(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """By client identity as well: summed over clients they give each workload's quantiles,
    one client's alone the p99 of its mTLS edge to the workload."""
    return _sum_increase(
        f"le, namespace, {_OWNERS}, client_id",
        "response_latency_ms_bucket",
        window,
        _INBOUND,
        *_application(admin_port),
        match,
    )


def inbound_clients(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Inbound traffic by client identity and TLS state: who calls, and who calls unmeshed."""
    return _sum_increase(
        f"namespace, {_OWNERS}, tls, client_id, classification",
        "response_total",
        window,
        _INBOUND,
        *_application(admin_port),
        match,
    )


def edge_responses(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Outbound by destination and the Service called (``dst_service``, which the destination
    controller sets): edges, and each Service's traffic as its callers see it. A meshed
    Prometheus's scrapes of other proxies left out."""
    return _sum_increase(
        f"namespace, {_OWNERS}, dst_namespace, {_DST_OWNERS}, dst_service, tls, server_id, "
        "classification",
        "response_total",
        window,
        _OUTBOUND,
        _not_admin(admin_port),
        match,
    )


def edge_latency_buckets(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Plain-text edges only, from the client's side: an mTLS edge's latency comes from its
    server's inbound buckets, which the workloads' quantiles aggregate anyway, and all
    outbound buckets together cost Prometheus more than any other query."""
    return _sum_increase(
        f"le, namespace, {_OWNERS}, dst_namespace, {_DST_OWNERS}",
        "response_latency_ms_bucket",
        window,
        _OUTBOUND,
        _NOT_MTLS,
        _not_admin(admin_port),
        match,
    )


def _p99_of(buckets: str) -> str:
    """The p99 of each series of a bucket aggregation, computed by Prometheus where the p99 is
    all that is read: one number a series instead of its buckets. ``>= 0`` drops the NaN of a
    series without observations in the window, whose p99 is unknown either way."""
    return f"histogram_quantile(0.99, {buckets}) >= 0"


def _tagged(expr: str, metric: str) -> str:
    """``expr`` with a ``metric`` label, so that several results travel in one answer."""
    return f'label_replace({expr}, "metric", "{metric}", "", "")'


def tcp(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Inbound TCP from clients: open connections now; connections opened, closed and closed
    with an error (``errno`` set), bytes read and written over the window. Outbound, by
    destination: connections open and opened. Connections to the admin port (scrapes,
    probes) are not the application's."""
    sel = _selector(_INBOUND, 'peer="src"', _not_admin(admin_port), match)
    errors = _selector(_INBOUND, 'peer="src"', _not_admin(admin_port), 'errno!=""', match)
    by = f"sum by (namespace, {_OWNERS})"
    # The clients' side, by destination: the edges to workloads that serve TCP only.
    out = _selector(_OUTBOUND, 'peer="dst"', _not_admin(admin_port), match)
    by_edge = f"sum by (namespace, {_OWNERS}, dst_namespace, {_DST_OWNERS}, dst_service, tls)"
    return " or ".join(
        [
            _tagged(f"{by} (tcp_open_connections{sel})", "open"),
            _tagged(f"{by_edge} (tcp_open_connections{out})", "edge_open"),
            _tagged(f"{by_edge} (increase(tcp_open_total{out}[{window}]))", "edge_opened"),
            _tagged(f"{by} (increase(tcp_open_total{sel}[{window}]))", "opened"),
            _tagged(f"{by} (increase(tcp_close_total{sel}[{window}]))", "closed"),
            _tagged(f"{by} (increase(tcp_close_total{errors}[{window}]))", "close_errors"),
            _tagged(f"{by} (increase(tcp_read_bytes_total{sel}[{window}]))", "read"),
            _tagged(f"{by} (increase(tcp_write_bytes_total{sel}[{window}]))", "write"),
        ]
    )


def linkerd_traffic(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Linkerd's own inbound traffic, which the application numbers leave out: Prometheus's
    scrapes of the admin port, the kubelet's probes of the admin port (``/live``, ``/ready``)
    and of the application's port (the policy controller's ``probe`` route)."""
    by = f"sum by (namespace, {_OWNERS}, classification)"
    admin, probe = f'target_port="{admin_port}"', 'route_name="probe"'
    parts = {
        "scrape": (admin, _NOT_PROBE),
        "admin_probe": (admin, probe),
        "app_probe": (_not_admin(admin_port), probe),
    }
    return " or ".join(
        _tagged(
            f"{by} (increase(response_total{_selector(_INBOUND, *matchers, match)}[{window}]))",
            name,
        )
        for name, matchers in parts.items()
    )


def pod_traffic(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Per pod, the application's inbound responses by classification and its p99: the one
    bad replica among its workload's pods.

    The pages show a pod's p99 alone, so Prometheus computes it (the same interpolation as
    ``meshdash.mesh.metrics``, over the same one aggregation of the buckets) instead of sending
    some 26 buckets a pod, a quarter of a collection's samples."""
    sel = _selector(_INBOUND, *_application(admin_port), match)
    return " or ".join(
        [
            _tagged(
                "sum by (namespace, pod, classification) "
                f"(increase(response_total{sel}[{window}]))",
                "responses",
            ),
            _tagged(
                _p99_of(
                    "sum by (le, namespace, pod) "
                    f"(increase(response_latency_ms_bucket{sel}[{window}]))"
                ),
                "p99",
            ),
        ]
    )


def authorizations(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Inbound authorization decisions per workload, Server (``srv_*``) and policy
    (``authz_*``; denials have none): ``inbound_{http,tcp}_authz_{allow,deny}_total``, which
    carry no ``direction``. The admin port and the kubelet's probes are Linkerd's own."""
    application = _selector(*_application(admin_port), match)
    by = f"namespace, {_OWNERS}, srv_kind, srv_name"
    parts = {
        "http_allow": ("inbound_http_authz_allow_total", f"{by}, authz_kind, authz_name"),
        "http_deny": ("inbound_http_authz_deny_total", by),
        "tcp_allow": ("inbound_tcp_authz_allow_total", f"{by}, authz_kind, authz_name"),
        "tcp_deny": ("inbound_tcp_authz_deny_total", by),
    }
    return " or ".join(
        _tagged(f"sum by ({group}) (increase({metric}{application}[{window}]))", name)
        for name, (metric, group) in parts.items()
    )


def proxies(match: str = "", window: str = "1m") -> str:
    """Per proxy: resident memory, CPU over the window, leaf certificate expiry (current and
    pre-2.16 names), when the leaf was last refreshed, build.

    The certificate gauges are the proxy's ``CertMetrics`` (linkerd2-proxy
    ``linkerd/identity/src/metrics.rs``, registry prefix ``control_identity_cert``): both are
    0 until the proxy has set its first certificate, so only positive values are read (0 is
    "no leaf yet", not a leaf that expired in 1970). Proxies before the 2024 registry
    refactor name the expiry ``identity_cert_expiration_timestamp_seconds`` and export no
    refresh timestamp (the 2022 sample in tests/fixtures/real).

    The build's version is ``exported_version`` where the pod has a ``version`` label of its
    own (Prometheus renames the scraped label that clashes with a target label), and
    ``git_version`` from older proxies, which had no ``version``. Only series
    from proxies carry ``control_plane_ns`` (copied from the pod label the proxy injector
    sets), which keeps the control plane's own Go processes out of the memory figure.
    """
    sel = _selector('control_plane_ns!=""', match)
    return " or ".join(
        [
            _tagged(
                f"max by (namespace, pod, {_OWNERS}) (process_resident_memory_bytes{sel})",
                "memory",
            ),
            _tagged(
                f"sum by (namespace, pod) (rate(process_cpu_seconds_total{sel}[{window}]))",
                "cpu",
            ),
            _tagged(
                "max by (namespace, pod) "
                f"(control_identity_cert_expiration_timestamp_seconds{sel} > 0)",
                "cert_expiry",
            ),
            _tagged(
                f"max by (namespace, pod) (identity_cert_expiration_timestamp_seconds{sel} > 0)",
                "cert_expiry_legacy",
            ),
            _tagged(
                "max by (namespace, pod) "
                f"(control_identity_cert_refresh_timestamp_seconds{sel} > 0)",
                "cert_refreshed",
            ),
            _tagged(
                "count by (namespace, pod, version, exported_version, git_version) "
                f"(proxy_build_info{sel})",
                "build",
            ),
        ]
    )


def service_profile_routes(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    return _sum_increase(
        f"rt_route, dst, namespace, {_OWNERS}, classification",
        "route_response_total",
        window,
        _INBOUND,
        match,
    )


def service_profile_route_latency_buckets(
    window: str, match: str = "", *, admin_port: int = ADMIN_PORT
) -> str:
    """Each ServiceProfile route's p99."""
    return _p99_of(
        _sum_increase(
            f"le, rt_route, dst, namespace, {_OWNERS}",
            "route_response_latency_ms_bucket",
            window,
            _INBOUND,
            match,
        )
    )


def policy_routes(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """Gateway API routes (Linkerd 2.16+), from the client's side: HTTPRoute (and the default
    route of a Service without one) by HTTP status, GRPCRoute by gRPC status name."""
    by = f"namespace, {_OWNERS}, parent_namespace, parent_name, route_kind, route_name"
    return " or ".join(
        [
            _tagged(
                _sum_increase(
                    f"{by}, http_status, error",
                    "outbound_http_route_request_statuses_total",
                    window,
                    match,
                ),
                "http",
            ),
            _tagged(
                _sum_increase(
                    f"{by}, grpc_status, error",
                    "outbound_grpc_route_request_statuses_total",
                    window,
                    match,
                ),
                "grpc",
            ),
        ]
    )


def policy_route_latency_buckets(
    window: str, match: str = "", *, admin_port: int = ADMIN_PORT
) -> str:
    """Each HTTPRoute's and GRPCRoute's p99, in seconds, from the client's side."""
    by = f"le, namespace, {_OWNERS}, parent_namespace, parent_name, route_kind, route_name"
    return " or ".join(
        _tagged(
            _p99_of(
                _sum_increase(
                    by, f"outbound_{family}_route_request_duration_seconds_bucket", window, match
                )
            ),
            family,
        )
        for family in ("http", "grpc")
    )


def check_inputs(window: str, match: str = "", *, admin_port: int = ADMIN_PORT) -> str:
    """What the on-call checks read from Prometheus beyond the snapshot, in one query whose
    cost does not grow with the mesh (``fill_check_inputs`` reads it):

    - ``refreshes``: per proxy, the increase of ``control_identity_cert_refreshes_total`` by
      ``result`` ("ok", "error") over the window. Current proxies (linkerd2-proxy
      ``linkerd/identity/src/metrics.rs``, Linkerd 2.16 and later): both series exist from
      the start; "error" counts certificates the proxy received but could not use (its
      ``set_certificate`` failed), "ok" every leaf it installed.
    - ``refreshes_legacy``: the older proxies' ``identity_cert_refresh_count`` (2022 sample in
      tests/fixtures/real): successes only, no label.
    - ``control_requests``, ``control_responses``, ``control_latency``: the proxies' calls to
      the control plane, from the legacy ``control_request_total``,
      ``control_response_total`` and ``control_response_latency_ms`` families (the proxy's
      ``ControlLabels``: ``addr`` and the TLS connect labels; responses add ``status_code``
      and ``classification``). A 2.18 proxy still prints them in its hand-written part
      (``/work/shared/real-proxy-metrics.md``), as did the 2022 proxy; the per-client
      ``control_destination_*``/``control_policy_*`` registry families carry no request
      outcome. Requests and responses by ``addr`` over all proxies as rates; responses also
      per pod, so a proxy failing every call shows.
    - ``issuer_not_after`` and ``evaluated_at``: the identity controller's
      ``issuer_cert_ttl_seconds`` (linkerd2 ``pkg/identity/service.go``, edge-25.2.1 and
      later; viz scrapes it in job ``linkerd-controller`` with ``component="identity"``, no
      namespace or pod label) shifted by ``time()``, so that an expired issuer's negative TTL
      stays a positive number, and the evaluation time to shift it back. The smallest of
      several identity replicas (or scrape jobs) is the one that matters.
    """
    proxy = _selector('control_plane_ns!=""', match)
    by_pod = "namespace, pod"
    return " or ".join(
        [
            _tagged(
                f"sum by ({by_pod}, result) "
                f"(increase(control_identity_cert_refreshes_total{proxy}[{window}]))",
                "refreshes",
            ),
            _tagged(
                f"sum by ({by_pod}) (increase(identity_cert_refresh_count{proxy}[{window}]))",
                "refreshes_legacy",
            ),
            _tagged(
                f"sum by (addr) (rate(control_request_total{proxy}[{window}]))",
                "control_requests",
            ),
            _tagged(
                f"sum by ({by_pod}, addr, classification) "
                f"(rate(control_response_total{proxy}[{window}]))",
                "control_responses",
            ),
            _tagged(
                f"sum by (le, addr) (rate(control_response_latency_ms_bucket{proxy}[{window}]))",
                "control_latency",
            ),
            _tagged("min(issuer_cert_ttl_seconds) + time()", "issuer_not_after"),
            _tagged("vector(time())", "evaluated_at"),
        ]
    )


# Query name -> builder taking (window, match, admin_port=...). Names double as the parts of a
# snapshot that can fail on their own. The inbound bucket aggregation costs Prometheus most by
# far: it comes first, so that it starts at once and the cheap queries fill the other slots.
WINDOW_QUERIES = {
    "latency": inbound_latency_buckets,
    "edge_latency": edge_latency_buckets,
    "inbound": inbound_responses,
    "clients": inbound_clients,
    "edges": edge_responses,
    "tcp": tcp,
    "linkerd_traffic": linkerd_traffic,
    "routes": service_profile_routes,
    "route_latency": service_profile_route_latency_buckets,
    "policy_routes": policy_routes,
    "policy_route_latency": policy_route_latency_buckets,
    "pods": pod_traffic,
    "authz": authorizations,
    "check_inputs": check_inputs,
}


def namespace_shards(count: int) -> list[str]:
    """``count`` label matchers that split namespaces by their first character, together
    covering every valid namespace exactly once; [""] (no matcher) for a single shard."""
    if count <= 1:
        return [""]
    count = min(count, len(_NAMESPACE_FIRST))
    groups = [_NAMESPACE_FIRST[i::count] for i in range(count)]
    return [f'namespace=~"[{group}].*"' for group in groups]


def collection_queries(
    window: str, shards: dict[str, int] | None = None, admin_port: int = ADMIN_PORT
) -> dict[str, list[str]]:
    """Every query one collection of ``window`` runs: name -> its shards' PromQL."""
    shards = shards or {}
    queries = {
        name: [
            build(window, match, admin_port=admin_port)
            for match in namespace_shards(shards.get(name, 1))
        ]
        for name, build in WINDOW_QUERIES.items()
    }
    queries["proxies"] = [
        proxies(match, window) for match in namespace_shards(shards.get("proxies", 1))
    ]
    return queries


# --- Reading the check inputs.

# The control-plane components a proxy calls, by the first DNS label of the client's ``addr``
# (the injector's LINKERD2_PROXY_*_SVC_ADDR: ``linkerd-dst-headless.<ns>.svc.<domain>.:8086``,
# ``linkerd-identity-headless...:8080``, ``linkerd-policy...:8090``; charts/partials
# _proxy.tpl), and by port for the control plane's own proxies, which call ``localhost.``.
_CONTROL_COMPONENTS = {
    "linkerd-dst-headless": "destination",
    "linkerd-dst": "destination",
    "linkerd-destination": "destination",
    "linkerd-identity-headless": "identity",
    "linkerd-identity": "identity",
    "linkerd-policy": "policy",
}
_LOCAL_CONTROL_PORTS = {"8086": "destination", "8080": "identity", "8090": "policy"}
_P99 = 0.99


def control_plane_component(addr: str) -> str:
    """``linkerd-dst-headless.linkerd.svc.cluster.local.:8086`` -> "destination"; "" for an
    address that is none of destination, identity and policy (a trace collector, say)."""
    host, _, port = addr.rpartition(":")
    first = host.rstrip(".").split(".", 1)[0]
    if first == "localhost":
        return _LOCAL_CONTROL_PORTS.get(port, "")
    return _CONTROL_COMPONENTS.get(first, "")


def _number(value: object) -> float | None:
    """A finite, non-negative float, or None (hand-made or damaged results)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    return number


def fill_check_inputs(inputs: CheckInputs, results: dict) -> None:
    """Fill ``inputs.proxy_identity``, ``identity_issuer_ttl_seconds`` and
    ``control_plane_clients`` from a collection's query results (``check_inputs``).

    What was not collected keeps its default ("not collected", which the checks skip): all of
    them when the query failed (its name missing from ``results``); ``proxy_identity`` holds
    only proxies that export a refresh counter, of either generation; the TTL stays None
    without an identity controller's gauge; a component is listed only when some proxy has
    a client series to it, its success rate None without responses and its p99 None without
    latency buckets. Samples with missing labels or values that no counter or gauge can take
    (NaN, infinite, negative) are skipped.
    """
    samples = results.get("check_inputs")
    if samples is None:
        return
    refreshes: dict[tuple[str, str], list[float]] = {}  # (ns, pod) -> [ok, errors]
    requests: dict[str, float] = defaultdict(float)
    responses: dict[str, list[float]] = {}  # component -> [success, failure]
    per_pod: dict[tuple[str, str, str], list[float]] = {}  # (component, ns, pod) -> same
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    not_after = evaluated_at = None
    for sample in samples:
        labels, value = sample.labels, _number(sample.value)
        if value is None:
            continue
        which = labels.get("metric")
        if which in ("refreshes", "refreshes_legacy"):
            namespace, pod = labels.get("namespace"), labels.get("pod")
            if not namespace or not pod:
                continue
            counts = refreshes.setdefault((namespace, pod), [0.0, 0.0])
            if which == "refreshes_legacy" or labels.get("result") == "ok":
                counts[0] += value
            elif labels.get("result") == "error":
                counts[1] += value
        elif which in ("control_requests", "control_responses", "control_latency"):
            component = control_plane_component(labels.get("addr", ""))
            if not component:
                continue
            if which == "control_requests":
                requests[component] += value
            elif which == "control_latency":
                try:
                    buckets[component].append((parse_le(labels.get("le", "")), value))
                except ValueError:
                    continue
            else:
                classification = labels.get("classification")
                if classification not in ("success", "failure"):
                    continue
                slot = 0 if classification == "success" else 1
                responses.setdefault(component, [0.0, 0.0])[slot] += value
                namespace, pod = labels.get("namespace"), labels.get("pod")
                if namespace and pod:
                    per_pod.setdefault((component, namespace, pod), [0.0, 0.0])[slot] += value
        elif which == "issuer_not_after":
            not_after = value if not_after is None else min(not_after, value)
        elif which == "evaluated_at":
            evaluated_at = value

    inputs.proxy_identity = [
        ProxyIdentity(namespace, pod, refresh_errors=errors, refresh_ok=ok)
        for (namespace, pod), (ok, errors) in sorted(refreshes.items())
    ]
    if not_after is not None and evaluated_at is not None:
        inputs.identity_issuer_ttl_seconds = not_after - evaluated_at
    clients = []
    for component in sorted(set(requests) | set(responses) | set(buckets)):
        success, failure = responses.get(component, (0.0, 0.0))
        failing = tuple(
            sorted(
                (namespace, pod)
                for (c, namespace, pod), (ok, failed) in per_pod.items()
                if c == component and failed > 0 and ok == 0
            )
        )
        p99 = histogram_quantile(_P99, buckets[component]) if component in buckets else None
        clients.append(
            ControlPlaneClient(
                component,
                rps=requests[component] if component in requests else success + failure,
                success_rate=success / (success + failure) if success + failure > 0 else None,
                latency_ms_p99=p99,
                failing_pods=failing,
            )
        )
    inputs.control_plane_clients = clients


# --- The client.


def _parse_result(result: object) -> list[Sample]:
    """An instant vector from Prometheus's JSON; PrometheusError on any other shape or on
    values no counter or gauge meshdash reads can take (NaN, infinite, negative)."""
    if not isinstance(result, list):
        raise PrometheusError("Prometheus answered nonsense (not a vector)")
    samples: list[Sample] = []
    append = samples.append
    for item in result:
        if not isinstance(item, dict):
            raise PrometheusError("Prometheus answered nonsense (not a vector)")
        metric, value = item.get("metric"), item.get("value")
        if not isinstance(metric, dict) or not isinstance(value, list) or len(value) != 2:
            raise PrometheusError("Prometheus answered nonsense (not a vector)")
        try:
            number = float(value[1])
        except (TypeError, ValueError):
            raise PrometheusError("Prometheus answered nonsense (not a number)") from None
        if not 0 <= number < math.inf:  # NaN fails both comparisons
            raise PrometheusError(f"Prometheus answered nonsense ({bound_text(value[1], 20)})")
        # Sample's own __new__ is a Python function: tuple's is not.
        append(_new_tuple(Sample, (_bounded_labels(metric), number)))
    return samples


def _bounded_labels(metric: dict) -> dict[str, str]:
    """``metric`` itself when every name and value is a string of fit length (nearly always,
    and cheap to check), otherwise a bounded copy."""
    for name, value in metric.items():
        if (
            type(value) is not str
            or len(value) > MAX_TEXT
            or type(name) is not str
            or len(name) > _MAX_LABEL_NAME
        ):
            return {bound_text(k, _MAX_LABEL_NAME): bound_text(v) for k, v in metric.items()}
    return metric


def _reason(exc: Exception) -> str:
    if isinstance(exc, PrometheusError):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return "Prometheus timed out"
    if isinstance(exc, requests.ConnectionError):
        return "Prometheus unreachable (connection refused or reset)"
    if isinstance(exc, PrometheusApiClientException):
        return bound_text(f"Prometheus answered an error: {exc}", 200)
    if isinstance(exc, ValueError | KeyError | TypeError):
        return "Prometheus answered nonsense (not JSON from its API)"
    return bound_text(f"Prometheus query failed: {type(exc).__name__}", 200)


class PrometheusClient:
    """Runs instant queries, counting them and the time spent waiting on Prometheus."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 20.0,
        max_concurrency: int = 4,
        shards: dict[str, int] | None = None,
        admin_port: int = ADMIN_PORT,
    ):
        # No automatic retries: the collection's deadline, not urllib3, decides when to give up.
        # ``read=False`` lets a read timeout surface as one, not as a connection error.
        self._connect = PrometheusConnect(
            url=url, retry=Retry(total=0, read=False), timeout=timeout
        )
        self.url = url
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.shards = shards or {}
        self.admin_port = admin_port
        self._waiting = WaitClock()

    @property
    def query_count(self) -> int:
        return self._waiting.count

    @property
    def seconds(self) -> float:
        """Wall time spent waiting on Prometheus (and reading its answers)."""
        return self._waiting.seconds

    @classmethod
    def from_settings(cls) -> "PrometheusClient":
        from django.conf import settings

        return cls(
            settings.PROMETHEUS_URL,
            timeout=settings.PROMETHEUS_TIMEOUT_SECONDS,
            max_concurrency=settings.PROMETHEUS_MAX_CONCURRENCY,
            # The two bucket aggregations over every inbound series: by client, and by pod.
            shards={"latency": settings.PROMETHEUS_SHARDS, "pods": settings.PROMETHEUS_SHARDS},
            admin_port=settings.MESHDASH_PROXY_ADMIN_PORT,
        )

    def query(self, promql: str, *, at: float | None = None, timeout: float | None = None):
        """One instant query (at ``at``, unix seconds, or now) as a list of Samples."""
        timeout = self.timeout if timeout is None else min(timeout, self.timeout)
        if timeout <= 0:
            raise PrometheusError("collection deadline passed before the query")
        params = {"timeout": f"{max(1, int(timeout * 1000))}ms"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        with self._waiting.request():
            result = self._answer(promql, params, timeout)
        return _parse_result(result)

    def _answer(self, promql: str, params: dict, timeout: float):
        """``PrometheusConnect.custom_query``'s request and errors, its answer read by orjson:
        a collection reads tens of megabytes of them, a third faster than by json."""
        connect = self._connect
        session = connect._session
        response = session.request(
            method=connect._method,
            url=f"{connect.url}/api/v1/query",
            params={"query": promql, **params},
            verify=session.verify,
            headers=connect.headers,
            auth=connect.auth,
            cert=session.cert,
            timeout=timeout,
        )
        if response.status_code != 200:
            raise PrometheusApiClientException(
                f"HTTP Status Code {response.status_code} ({response.content!r})"
            )
        return orjson.loads(response.content)["data"]["result"]

    def query_many(
        self,
        queries: dict[str, list[str]],
        *,
        at: float | None = None,
        deadline: float | None = None,
    ) -> tuple[dict[str, list[Sample]], dict[str, str]]:
        """Run named queries (each a list of shards) with at most ``max_concurrency`` in flight.

        Returns the samples of every name whose shards all succeeded, and a reason for every
        name that failed or was still running at ``deadline`` (a ``time.monotonic()`` value).
        """

        def run(promql: str) -> list[Sample]:
            remaining = seconds_left(deadline)
            return self.query(promql, at=at, timeout=remaining)

        pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="promql")
        futures = {
            pool.submit(run, promql): name for name, shards in queries.items() for promql in shards
        }
        try:
            remaining = seconds_left(deadline)
            done, _ = wait(futures, timeout=remaining)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

        results: dict[str, list[Sample]] = {name: [] for name in queries}
        errors: dict[str, str] = {}
        for future, name in futures.items():
            if name in errors:
                continue
            if future not in done:
                errors[name] = "Prometheus did not answer before the collection deadline"
            elif future.exception() is not None:
                errors[name] = _reason(future.exception())
            else:
                results[name].extend(future.result())
        for name in errors:
            results.pop(name, None)
        return results, errors
