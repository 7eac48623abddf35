"""The snapshot's lists from one collection's answers: Prometheus results and cluster state.

Every derived fact (rates, quantiles, pod counts, the health of workloads and edges, namespace
rollups) is computed here once, so that the store only stores and the pages only read.
"""

import dataclasses
import functools
from collections import defaultdict
from dataclasses import dataclass

from meshdash.collectors.kubernetes import ClusterState
from meshdash.collectors.prometheus import Sample
from meshdash.mesh import metrics
from meshdash.mesh.health import HealthRules, assess, assess_edge, assess_workload
from meshdash.mesh.kinds import RUNS_TO_COMPLETION
from meshdash.mesh.model import (
    DEFAULT_GRPC_ROUTE,
    DEFAULT_HTTP_ROUTE,
    GRPC_ROUTE,
    HTTP_ROUTE,
    INBOUND,
    KIND_BY_PROM_LABEL,
    OUTBOUND,
    SERVICE_PROFILE,
    WINDOWS,
    Authorization,
    Edge,
    Namespace,
    Pod,
    Route,
    Service,
    Snapshot,
    Workload,
    WorkloadKey,
)

QUANTILES = (0.5, 0.95, 0.99)
_NOT_RUNNING = {"Failed", "Succeeded"}


# --- Reading samples.


@functools.cache
def _owner_labels(prefix: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``prefix`` + ``namespace``, and each owner label with ``prefix`` and its kind: made once,
    not a few times per sample."""
    owners = tuple((f"{prefix}{label}", kind) for label, kind in KIND_BY_PROM_LABEL.items())
    return f"{prefix}namespace", owners


def owner_parts(labels: dict[str, str], prefix: str = "") -> tuple[str, str, str] | None:
    """``(namespace, kind, name)`` of the workload a series belongs to, from ``namespace`` and
    the first owner label set."""
    namespace_label, owners = _owner_labels(prefix)
    namespace = labels.get(namespace_label, "")
    if not namespace:
        return None
    for label, kind in owners:
        name = labels.get(label, "")
        if name:
            return namespace, kind, name
    return None


def owner_key(labels: dict[str, str], prefix: str = "") -> WorkloadKey | None:
    """The workload a series belongs to, from ``namespace`` and the first owner label set."""
    parts = owner_parts(labels, prefix)
    return None if parts is None else WorkloadKey(*parts)


@dataclass
class Counts:
    success: float = 0.0
    failure: float = 0.0

    def add(self, classification: str, value: float) -> None:
        if classification == "success":
            self.success += value
        elif classification == "failure":
            self.failure += value

    @property
    def total(self) -> float:
        return self.success + self.failure


_UNPARSED = object()


def _series(samples: list[Sample]) -> list[tuple[dict, list[tuple[float, float]]]]:
    """Bucket samples as series: the labels of one bucket and every ``(bound, count)`` of the
    series (its labels but ``le``). Samples without a valid ``le`` are skipped.

    Callers key a series once, not each of its 26 buckets: at 5,000 workloads a bucket answer
    holds a quarter of a million samples.
    """
    series: dict[tuple, tuple[dict, list]] = {}
    # An answer has a couple of dozen distinct bounds: each parsed once (None: not a bound).
    bounds: dict[str, float | None] = {}
    for labels, value in samples:
        le = labels.get("le", "")
        bound = bounds.get(le, _UNPARSED)
        if bound is _UNPARSED:
            try:
                bound = metrics.parse_le(le)
            except ValueError:
                bound = None
            bounds[le] = bound
        if bound is None:
            continue
        # The labels but ``le``, in their order: list.remove runs in C, a filtering
        # generator per label did not (a third of this function's time).
        rest = list(labels.items())
        rest.remove(("le", le))
        rest = tuple(rest)
        entry = series.get(rest)
        if entry is None:
            entry = series[rest] = (labels, [])
        entry[1].append((bound, value))
    return list(series.values())


def _grouped(series: list[tuple[dict, list]], key_of) -> dict:
    """The buckets of every series with the same ``key_of(labels)`` together; None: left out."""
    grouped: dict = defaultdict(list)
    for labels, buckets in series:
        key = key_of(labels)
        if key is not None:
            grouped[key].extend(buckets)
    return grouped


def _p99(buckets: list[tuple[float, float]], scale: float = 1.0) -> float | None:
    value = metrics.histogram_quantile(0.99, buckets)
    return None if value is None else value * scale


def _build_version(labels: dict[str, str]) -> str:
    """The proxy's version from ``proxy_build_info``: ``exported_version`` when the pod has a
    ``version`` label of its own, which then holds the pod's label; ``git_version`` from an
    older proxy, which has no ``version``."""
    version = labels.get("exported_version") or labels.get("version") or labels.get("git_version")
    return metrics.normalise_version(version or "")


def _parent_service(labels: dict[str, str]) -> str:
    """``name.namespace`` of the Service an HTTPRoute-era route hangs off."""
    return ".".join(filter(None, [labels.get("parent_name"), labels.get("parent_namespace")]))


def _busiest(rates: dict[str, float]) -> str:
    return max(rates, key=rates.get) if rates else ""


# An unmeshed client has no proxy to say which workload it is.
_UNMESHED_CLIENT = WorkloadKey("", "", "")


# The tcp query's counters -> the Workload field of their per-second rate.
_TCP_RATES = {
    "opened": "tcp_opened_per_second",
    "closed": "tcp_closed_per_second",
    "close_errors": "tcp_close_errors_per_second",
    "read": "tcp_read_bytes_per_second",
    "write": "tcp_write_bytes_per_second",
}


class SnapshotBuilder:
    """Joins Prometheus results and cluster state into the snapshot's lists.

    ``lists_failed``: the cluster's workload lists could not be read, so pods only the metrics
    know are kept rather than taken for pods gone since the last scrape.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        cluster: ClusterState,
        results: dict[str, list[Sample]],
        rules: HealthRules,
        lists_failed: bool,
    ):
        self.snapshot = snapshot
        self.cluster = cluster
        self.results = results
        self.rules = rules
        self.lists_failed = lists_failed
        self.seconds = WINDOWS[snapshot.window]
        self.workloads: dict[WorkloadKey, Workload] = {}
        self.inbound: dict[WorkloadKey, Counts] = {}
        # Workloads the kubelet probes over HTTP on the application's port: they serve HTTP.
        self.probed_on_app_port: set[WorkloadKey] = set()
        # Inbound latency by workload and client: read for workloads and for edges.
        self.latency = _series(results.get("latency", []))
        # The Services called, as the callers' proxies counted them: (namespace, name) ->
        # counts, requests over mTLS, calling workloads.
        self.service_traffic: dict[tuple[str, str], dict] = {}
        # (namespace, kind, name) -> the workload's key.
        self._keys: dict[tuple[str, str, str], WorkloadKey] = {}
        self._workload_buckets: dict | None = None
        # Each workload's p99 from its buckets, for the Services it alone backs.
        self.workload_p99: dict[WorkloadKey, float | None] = {}

    def key(self, labels: dict[str, str], prefix: str = "") -> WorkloadKey | None:
        """The workload of a series (a CronJob's for its Jobs'). One key object per workload,
        made once: a frozen dataclass costs a microsecond or two to make, and dictionaries
        compare the same object without calling its ``__eq__``."""
        parts = owner_parts(labels, prefix)
        if parts is None:
            return None
        key = self._keys.get(parts)
        if key is None:
            key = WorkloadKey(*parts)
            key = self._keys[parts] = self.cluster.aliases.get(key, key)
        return key

    def workload_buckets(self) -> dict[WorkloadKey, list[tuple[float, float]]]:
        """Each workload's inbound buckets, all clients together: grouped once, read by the
        workloads' quantiles and the Services'."""
        if self._workload_buckets is None:
            self._workload_buckets = _grouped(self.latency, self.key)
        return self._workload_buckets

    def workload(self, key: WorkloadKey) -> Workload:
        workload = self.workloads.get(key)
        if workload is None:
            workload = self.workloads[key] = Workload(
                namespace=key.namespace, kind=key.kind, name=key.name
            )
        return workload

    def build(self) -> None:
        for key, info in self.cluster.workloads.items():
            workload = self.workload(key)
            workload.team = info.team
            workload.last_rollout = info.last_rollout
            workload.inject_annotation = info.inject_annotation
            workload.labels = info.labels
        self.golden()
        self.tcp()
        self.linkerd_traffic()
        self.mtls()
        edges = self.edges()
        pods = self.pods()
        self.pod_counts(pods)
        for workload in self.workloads.values():
            key = workload.key
            serves_http = key in self.inbound or key in self.probed_on_app_port
            workload.health, workload.judged_on, workload.health_reason = assess_workload(
                self.rules, workload, serves_http=serves_http, window_seconds=self.seconds
            )
        snapshot = self.snapshot
        snapshot.authorizations = self.authorizations()
        snapshot.events = [e for e in self.cluster.events if e.workload_key in self.workloads]
        for event in snapshot.events:
            self.workloads[event.workload_key].events += 1
        snapshot.workloads = sorted(self.workloads.values(), key=lambda w: w.key)
        snapshot.edges = edges
        snapshot.pods = sorted(pods, key=lambda p: (p.namespace, p.name))
        snapshot.routes = self.routes()
        snapshot.services = self.services()
        snapshot.namespaces = self.namespaces()
        snapshot.health_rules = dataclasses.asdict(self.rules)
        snapshot.control_plane = self.cluster.control_plane
        if not snapshot.control_plane.data_plane_versions:
            snapshot.control_plane.data_plane_versions = self.build_versions()

    def golden(self) -> None:
        for sample in self.results.get("inbound", []):
            key = self.key(sample.labels)
            if key is None:
                continue
            self.inbound.setdefault(key, Counts()).add(
                sample.labels.get("classification", ""), sample.value
            )
        for key, counts in self.inbound.items():
            workload = self.workload(key)
            workload.rps = metrics.per_second(counts.total, self.seconds)
            workload.success_rate = metrics.success_rate(counts.success, counts.failure)
        for key, buckets in self.workload_buckets().items():
            workload = self.workload(key)
            p50, p95, p99 = metrics.histogram_quantiles(QUANTILES, buckets)
            workload.latency_ms_p50, workload.latency_ms_p95 = p50, p95
            workload.latency_ms_p99 = self.workload_p99[key] = p99

    def tcp(self) -> None:
        for sample in self.results.get("tcp", []):
            key = self.key(sample.labels)
            if key is None:
                continue
            workload = self.workload(key)
            which = sample.labels.get("metric")
            if which == "open":
                workload.tcp_open_connections = sample.value
            elif which in _TCP_RATES:
                setattr(workload, _TCP_RATES[which], metrics.per_second(sample.value, self.seconds))
        for workload in self.workloads.values():
            if workload.tcp_closed_per_second > 0:
                workload.tcp_close_error_rate = min(
                    1.0, workload.tcp_close_errors_per_second / workload.tcp_closed_per_second
                )

    def linkerd_traffic(self) -> None:
        """Probes and scrapes per workload, on their own line, never in its numbers."""
        counts: dict[tuple[WorkloadKey, str], Counts] = {}
        for sample in self.results.get("linkerd_traffic", []):
            key = self.key(sample.labels)
            which = sample.labels.get("metric", "")
            if key is None or which not in ("scrape", "admin_probe", "app_probe"):
                continue
            if which == "app_probe" and sample.value > 0:
                self.probed_on_app_port.add(key)
            line = "scrape" if which == "scrape" else "probe"
            counts.setdefault((key, line), Counts()).add(
                sample.labels.get("classification", ""), sample.value
            )
        for (key, line), count in counts.items():
            workload = self.workload(key)
            rps = metrics.per_second(count.total, self.seconds)
            rate = metrics.success_rate(count.success, count.failure)
            if line == "probe":
                workload.probe_rps, workload.probe_success_rate = rps, rate
            else:
                workload.scrape_rps, workload.scrape_success_rate = rps, rate

    def mtls(self) -> None:
        """Each workload's share of inbound application requests that came over mTLS, from
        its proxies' count by TLS state (the ``clients`` answer)."""
        totals: dict[WorkloadKey, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for sample in self.results.get("clients", []):
            key = self.key(sample.labels)
            if key is None:
                continue
            entry = totals[key]
            entry[0] += sample.value
            if sample.labels.get("tls") == "true":
                entry[1] += sample.value
        self.mtls_totals = dict(totals)
        for key, (total, secure) in totals.items():
            if total > 0:
                self.workload(key).mtls_share = secure / total

    def authorizations(self) -> list[Authorization]:
        """Allowed and denied requests (and TCP connections) per workload, Server and policy;
        each workload's totals."""
        rows: dict[tuple, Authorization] = {}
        fields = {
            "http_allow": "http_allowed_rps",
            "http_deny": "http_denied_rps",
            "tcp_allow": "tcp_allowed_per_second",
            "tcp_deny": "tcp_denied_per_second",
        }
        for sample in self.results.get("authz", []):
            labels = sample.labels
            key = self.key(labels)
            which = fields.get(labels.get("metric", ""))
            if key is None or which is None:
                continue
            policy = (labels.get("authz_kind", ""), labels.get("authz_name", ""))
            rid = (key, labels.get("srv_kind", ""), labels.get("srv_name", ""), *policy)
            row = rows.get(rid)
            if row is None:
                row = rows[rid] = Authorization(
                    key.namespace, key.kind, key.name, rid[1], rid[2], policy[0], policy[1]
                )
            rate = metrics.per_second(sample.value, self.seconds)
            setattr(row, which, getattr(row, which) + rate)
        for row in rows.values():
            workload = self.workload(WorkloadKey(row.namespace, row.kind, row.name))
            workload.authz_allowed_rps += row.http_allowed_rps
            workload.authz_denied_rps += row.http_denied_rps
            workload.tcp_authz_denied_per_second += row.tcp_denied_per_second
        return sorted(
            rows.values(),
            key=lambda a: (a.namespace, a.kind, a.name, a.server, a.policy_kind, a.policy),
        )

    def services(self) -> list[Service]:
        """The cluster's Services with their callers' traffic (outbound, by ``dst_service``),
        the latency their backing workloads' proxies measured, judged as workloads are."""
        latency = self.workload_buckets()
        services = []
        for service in self.cluster.services:
            backing = [
                WorkloadKey(service.namespace, *entry.split("/", 1)) for entry in service.workloads
            ]
            service.meshed = any(
                self.workloads[key].meshed_pods > 0 for key in backing if key in self.workloads
            )
            traffic = self.service_traffic.get((service.namespace, service.name))
            if traffic:
                counts = traffic["counts"]
                service.rps = metrics.per_second(counts.total, self.seconds)
                service.success_rate = metrics.success_rate(counts.success, counts.failure)
                service.mtls_share = traffic["mtls"] / counts.total if counts.total else None
                service.callers = len(traffic["callers"])
            measured = [key for key in backing if key in latency]
            if len(measured) == 1 and measured[0] in self.workload_p99:
                # One workload's buckets: its p99, computed from the same buckets already.
                service.latency_ms_p99 = self.workload_p99[measured[0]]
            else:
                buckets = [bucket for key in measured for bucket in latency[key]]
                service.latency_ms_p99 = _p99(buckets)
            service.health, service.health_reason = assess(
                self.rules,
                # Meshed callers measure a Service without a proxy of its own too.
                meshed_pods=1 if service.meshed or service.rps > 0 else 0,
                rps=service.rps,
                success_rate=service.success_rate,
                latency_ms_p99=service.latency_ms_p99,
                requests=service.rps * self.seconds,
            )
            services.append(service)
        return services

    def edges(self) -> list[Edge]:
        """Meshed edges from the clients' outbound metrics; unmeshed clients from the servers'
        inbound metrics. Outbound totals per workload come from the same answer.

        An edge's p99 comes from the server's proxy where the traffic is mTLS (its inbound
        buckets by client identity, the answer the workloads' quantiles come from anyway) and
        from the client's proxy where it is not (a server without a proxy measures nothing).
        Aggregating every client's outbound buckets as well would double what one collection
        costs Prometheus. Workloads sharing a service account in a namespace share an identity,
        so their edges to one server show the latency of their traffic together.
        """
        pairs: dict[tuple[WorkloadKey, WorkloadKey], dict] = {}
        outbound: dict[WorkloadKey, Counts] = {}
        for sample in self.results.get("edges", []):
            src = self.key(sample.labels)
            if src is None:
                continue
            classification = sample.labels.get("classification", "")
            outbound.setdefault(src, Counts()).add(classification, sample.value)
            dst = self.key(sample.labels, "dst_")
            if dst is None:
                continue  # traffic leaving the cluster or to something that is not a workload
            service = sample.labels.get("dst_service", "")
            if service:
                traffic = self.service_traffic.setdefault(
                    (dst.namespace, service), {"counts": Counts(), "mtls": 0.0, "callers": set()}
                )
                traffic["counts"].add(classification, sample.value)
                traffic["callers"].add(src)
                if sample.labels.get("tls") == "true":
                    traffic["mtls"] += sample.value
            pair = pairs.setdefault(
                (src, dst),
                {
                    "counts": Counts(),
                    "plain": 0.0,
                    "servers": defaultdict(float),
                    "services": defaultdict(float),
                },
            )
            pair["counts"].add(classification, sample.value)
            if service:
                pair["services"][service] += sample.value
            if sample.labels.get("tls") == "true":
                pair["servers"][sample.labels.get("server_id", "")] += sample.value
            else:
                pair["plain"] += sample.value
        if "edges" in self.results:
            for src, counts in outbound.items():
                workload = self.workload(src)
                workload.outbound_rps = metrics.per_second(counts.total, self.seconds)
                workload.outbound_success_rate = metrics.success_rate(
                    counts.success, counts.failure
                )

        plain_buckets = _grouped(_series(self.results.get("edge_latency", [])), self.pair_key)
        # Server -> client identity ("" for clients without one) -> buckets.
        served: dict[WorkloadKey, dict[str, list]] = defaultdict(dict)
        for (dst, identity), buckets in _grouped(self.latency, self.server_and_client).items():
            served[dst][identity] = buckets

        clients: dict[WorkloadKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        unmeshed: dict[WorkloadKey, Counts] = {}
        for sample in self.results.get("clients", []):
            dst = self.key(sample.labels)
            if dst is None:
                continue
            if sample.labels.get("tls") == "true" and sample.labels.get("client_id"):
                clients[dst][sample.labels["client_id"]] += sample.value
            else:
                unmeshed.setdefault(dst, Counts()).add(
                    sample.labels.get("classification", ""), sample.value
                )

        edges = []
        for (src, dst), pair in pairs.items():
            counts = pair["counts"]
            servers = pair["servers"]
            buckets = list(plain_buckets.get((src, dst), []))
            for identity, identity_buckets in served.get(dst, {}).items():
                if identity and self.is_identity_of(src, identity):
                    buckets.extend(identity_buckets)
            identities = clients.get(dst, {})
            seen_as = [i for i in identities if self.is_identity_of(src, i)]
            edges.append(
                self.edge(
                    src,
                    dst,
                    counts,
                    latency_ms_p99=_p99(buckets),
                    tls=bool(servers) and pair["plain"] == 0,
                    server_id=max(servers, key=servers.get) if servers else "",
                    client_id=max(seen_as, key=identities.get) if seen_as else "",
                    dst_service=_busiest(pair["services"]),
                )
            )
        for dst, counts in unmeshed.items():
            edges.append(
                self.edge(
                    _UNMESHED_CLIENT,
                    dst,
                    counts,
                    latency_ms_p99=_p99(served.get(dst, {}).get("", [])),
                    tls=False,
                    src_meshed=False,
                )
            )
        self.tcp_edges(edges)
        for edge in edges:
            edge.health, edge.health_reason = assess_edge(
                self.rules, edge, window_seconds=self.seconds
            )
        edges.sort(key=lambda e: (e.dst, e.src))
        return edges

    def edge(
        self, src: WorkloadKey, dst: WorkloadKey, counts: Counts | None = None, **fields
    ) -> Edge:
        """An edge from ``src`` to ``dst``, with the request rate and success of ``counts``."""
        if counts is not None:
            fields["rps"] = metrics.per_second(counts.total, self.seconds)
            fields["success_rate"] = metrics.success_rate(counts.success, counts.failure)
        return Edge(src.namespace, src.kind, src.name, dst.namespace, dst.kind, dst.name, **fields)

    def tcp_edges(self, edges: list[Edge]) -> None:
        """TCP connections on every meshed edge, and the edges that carry nothing else (to a
        database, a cache): from the clients' outbound TCP, by destination."""
        connections: dict[tuple[WorkloadKey, WorkloadKey], dict] = {}
        for sample in self.results.get("tcp", []):
            which = sample.labels.get("metric")
            if which not in ("edge_open", "edge_opened"):
                continue
            pair = self.pair_key(sample.labels)
            if pair is None:
                continue
            entry = connections.setdefault(
                pair, {"open": 0.0, "opened": 0.0, "plain": False, "services": defaultdict(float)}
            )
            entry["open" if which == "edge_open" else "opened"] += sample.value
            if sample.labels.get("dst_service"):
                entry["services"][sample.labels["dst_service"]] += sample.value
            if sample.labels.get("tls") != "true" and sample.value > 0:
                entry["plain"] = True
        meshed = {(e.src, e.dst): e for e in edges if e.src_meshed}
        for (src, dst), entry in connections.items():
            edge = meshed.get((src, dst))
            opened = metrics.per_second(entry["opened"], self.seconds)
            if edge is None:
                if not entry["open"] and not opened:
                    continue
                edge = self.edge(
                    src, dst, tls=not entry["plain"], dst_service=_busiest(entry["services"])
                )
                edges.append(edge)
            edge.tcp_open_connections = entry["open"]
            edge.tcp_opened_per_second = opened

    def pair_key(self, labels: dict[str, str]) -> tuple[WorkloadKey, WorkloadKey] | None:
        src, dst = self.key(labels), self.key(labels, "dst_")
        return None if src is None or dst is None else (src, dst)

    def server_and_client(self, labels: dict[str, str]) -> tuple[WorkloadKey, str] | None:
        dst = self.key(labels)
        return None if dst is None else (dst, labels.get("client_id", ""))

    def is_identity_of(self, src: WorkloadKey, identity: str) -> bool:
        """Whether ``src``'s pods carry ``identity``: one of their service accounts, in their
        namespace (the workload's name when the cluster could not be read)."""
        parsed = metrics.parse_identity(identity)
        if parsed is None or parsed.namespace != src.namespace:
            return False
        return parsed.service_account in (self.cluster.service_accounts.get(src) or {src.name})

    def pods(self) -> list[Pod]:
        by_name = {(p.namespace, p.name): p for p in self.cluster.pods}
        self.proxy_owners: dict[tuple[str, str], WorkloadKey] = {}
        for sample in self.results.get("proxies", []):
            labels = sample.labels
            name = (labels.get("namespace", ""), labels.get("pod", ""))
            if not all(name):
                continue
            pod = by_name.get(name)
            if pod is None:
                if not self.lists_failed:
                    continue  # a pod gone since Prometheus last scraped it
                pod = by_name[name] = Pod(namespace=name[0], name=name[1], has_proxy=True)
            which = labels.get("metric")
            if which == "memory":
                pod.proxy_memory_bytes = sample.value
                owner = self.key(labels)
                if owner:
                    self.proxy_owners[name] = owner
                    pod.workload_kind = pod.workload_kind or owner.kind
                    pod.workload_name = pod.workload_name or owner.name
            elif which == "cpu":
                pod.proxy_cpu_cores = sample.value
            elif which in ("cert_expiry", "cert_expiry_legacy"):
                if which == "cert_expiry" or pod.proxy_cert_expiry is None:
                    pod.proxy_cert_expiry = sample.value
            elif which == "build" and not pod.proxy_version:
                pod.proxy_version = _build_version(labels)
            elif which == "cert_refreshed":
                pod.proxy_cert_refreshed_at = sample.value
        self.pod_traffic(by_name)
        return list(by_name.values())

    def pod_traffic(self, by_name: dict[tuple[str, str], Pod]) -> None:
        """Each pod's inbound application rate, success and p99 (the ``pods`` answer; the p99
        computed by Prometheus)."""
        counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
        p99: dict[tuple[str, str], float] = {}
        for sample in self.results.get("pods", []):
            labels = sample.labels
            name = (labels.get("namespace", ""), labels.get("pod", ""))
            if name not in by_name:
                continue
            which = labels.get("metric")
            if which == "responses":
                counts[name].add(labels.get("classification", ""), sample.value)
            elif which == "p99":
                p99[name] = sample.value
        for name, count in counts.items():
            pod = by_name[name]
            pod.rps = metrics.per_second(count.total, self.seconds)
            pod.success_rate = metrics.success_rate(count.success, count.failure)
            pod.latency_ms_p99 = p99.get(name)

    def pod_counts(self, pods: list[Pod]) -> None:
        """Pods per workload from the cluster; a workload only the metrics know is meshed (its
        proxy reported it) with as many pods as proxies reported memory for it."""
        for key in self.workloads.keys() - self.cluster.workloads.keys():
            proxies = sum(1 for owner in self.proxy_owners.values() if owner == key)
            self.workloads[key].meshed_pods = self.workloads[key].total_pods = max(proxies, 1)
        for pod in pods:
            if not pod.workload_kind:
                continue
            key = WorkloadKey(pod.namespace, pod.workload_kind, pod.workload_name)
            if key not in self.cluster.workloads:
                continue
            # A Job's pods that ran to completion are its pods still: a finished Job is
            # meshed and idle, not unmeshed.
            finished = pod.phase == "Succeeded" and key.kind in RUNS_TO_COMPLETION
            if pod.phase in _NOT_RUNNING and not finished:
                continue
            workload = self.workload(key)
            workload.total_pods += 1
            workload.meshed_pods += int(pod.has_proxy)

    def routes(self) -> list[Route]:
        """ServiceProfile routes from the server's proxy; HTTPRoute and GRPCRoute routes (and
        the default routes of Services without any) from the client's."""
        routes: dict[tuple, Route] = {}
        counts: dict[tuple, Counts] = {}
        for sample in self.results.get("routes", []):
            rid = self.profile_route_id(sample.labels)
            if rid is not None:
                counts.setdefault(rid, Counts()).add(
                    sample.labels.get("classification", ""), sample.value
                )
        for sample in self.results.get("policy_routes", []):
            rid = self.policy_route_id(sample.labels)
            if rid is None:
                continue
            labels = sample.labels
            if labels.get("metric") == "grpc":
                ok = metrics.grpc_route_succeeded(
                    labels.get("grpc_status", ""), labels.get("error", "")
                )
            else:
                ok = metrics.http_route_succeeded(
                    labels.get("http_status", ""), labels.get("error", "")
                )
            counts.setdefault(rid, Counts()).add("success" if ok else "failure", sample.value)
        for rid, count in counts.items():
            key, route_kind, route, service = rid
            routes[rid] = Route(
                namespace=key.namespace,
                kind=key.kind,
                name=key.name,
                route=route,
                service=service,
                rps=metrics.per_second(count.total, self.seconds),
                success_rate=metrics.success_rate(count.success, count.failure),
                route_kind=route_kind,
                direction=INBOUND if route_kind == SERVICE_PROFILE else OUTBOUND,
            )
        # The p99s Prometheus computed (one a route, but for the routes of a CronJob's Jobs,
        # which show the highest: never below the p99 of their requests together).
        for name, id_of, scale in (
            ("route_latency", self.profile_route_id, 1.0),
            ("policy_route_latency", self.policy_route_id, 1000.0),
        ):
            for sample in self.results.get(name, []):
                route = routes.get(id_of(sample.labels))
                if route is not None:
                    p99 = sample.value * scale
                    if route.latency_ms_p99 is None or p99 > route.latency_ms_p99:
                        route.latency_ms_p99 = p99
        return sorted(
            routes.values(),
            key=lambda r: (r.namespace, r.kind, r.name, r.direction, r.route_kind, r.route),
        )

    def profile_route_id(self, labels: dict[str, str]) -> tuple | None:
        key = self.key(labels)
        if key is None:
            return None
        return (key, SERVICE_PROFILE, labels.get("rt_route", ""), labels.get("dst", ""))

    def policy_route_id(self, labels: dict[str, str]) -> tuple | None:
        key = self.key(labels)
        if key is None:
            return None
        grpc = labels.get("metric") == "grpc"
        route_kind = labels.get("route_kind", "")
        if route_kind not in (HTTP_ROUTE, GRPC_ROUTE):
            route_kind = DEFAULT_GRPC_ROUTE if grpc else DEFAULT_HTTP_ROUTE
        return (key, route_kind, labels.get("route_name", ""), _parent_service(labels))

    def namespaces(self) -> list[Namespace]:
        names = set(self.cluster.namespaces) | {w.namespace for w in self.workloads.values()}
        rollups = {
            name: Namespace(name=name, inject_annotation=self.cluster.namespaces.get(name, ""))
            for name in names
        }
        totals: dict[str, Counts] = defaultdict(Counts)
        for workload in self.workloads.values():
            namespace = rollups[workload.namespace]
            namespace.workloads += 1
            namespace.meshed_pods += workload.meshed_pods
            namespace.total_pods += workload.total_pods
            namespace.rps += workload.rps
            namespace.health_counts[workload.health] = (
                namespace.health_counts.get(workload.health, 0) + 1
            )
            counts = self.inbound.get(workload.key)
            if counts:
                totals[workload.namespace].success += counts.success
                totals[workload.namespace].failure += counts.failure
        for name, counts in totals.items():
            rollups[name].success_rate = metrics.success_rate(counts.success, counts.failure)
        secure: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for key, (total, over_mtls) in getattr(self, "mtls_totals", {}).items():
            if key.namespace in rollups:
                secure[key.namespace][0] += total
                secure[key.namespace][1] += over_mtls
        for name, (total, over_mtls) in secure.items():
            if total > 0:
                rollups[name].mtls_share = over_mtls / total
        for workload in self.workloads.values():
            rollups[workload.namespace].authz_denied_rps += workload.authz_denied_rps
        return sorted(rollups.values(), key=lambda n: n.name)

    def build_versions(self) -> dict[str, int]:
        versions: dict[str, int] = defaultdict(int)
        for sample in self.results.get("proxies", []):
            if sample.labels.get("metric") == "build":
                versions[_build_version(sample.labels)] += 1
        return dict(versions)
