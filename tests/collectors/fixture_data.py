"""Known proxy metrics to backfill into a private Prometheus, and the truth they imply.

Counters grow linearly at a stated rate per second, sampled every 15 s, so that at EVAL_AT
``increase(x[1m])`` is exactly ``rate * 60`` (the window starts and ends on a sample). Latency
buckets grow the same way, so the quantiles of one minute equal those of the rates.
"""

STEP = 15
SAMPLES = 41  # ten minutes of history
LINKERD_BOUNDS = [
    1,
    2,
    3,
    4,
    5,
    10,
    20,
    30,
    40,
    50,
    100,
    200,
    300,
    400,
    500,
    1000,
    2000,
    3000,
    4000,
    5000,
    10000,
    20000,
    30000,
    40000,
    50000,
]

HOSTILE = '<script>alert("x")</script>'
LONG = "l" * 400

ID = "{sa}.{ns}.serviceaccount.identity.linkerd.cluster.local"

# Inbound traffic by client: (ns, owner label, name, tls, client_id) -> (success/s, failure/s)
CLIENTS = {
    ("shop", "deployment", "web", "no_identity", ""): (9.0, 1.0),
    ("shop", "deployment", "api", "true", ID.format(sa="web", ns="shop")): (12.0, 0.5),
    ("shop", "deployment", "api", "true", ID.format(sa="gateway", ns="edge")): (7.5, 0.0),
    ("shop", "statefulset", "db", "true", ID.format(sa="api-sa", ns="shop")): (4.0, 0.0),
    ("batch", "k8s_job", "report", "true", ID.format(sa="cron", ns="batch")): (0.5, 0.0),
    ("shop", "deployment", HOSTILE, "true", ID.format(sa="x", ns="shop")): (1.0, 0.0),
    ("shop", "deployment", LONG, "true", ID.format(sa="y", ns="shop")): (2.0, 0.0),
}


def _inbound() -> dict[tuple[str, str, str], tuple[float, float]]:
    totals: dict[tuple[str, str, str], tuple[float, float]] = {}
    for (ns, label, name, _, _), (ok, bad) in CLIENTS.items():
        before = totals.get((ns, label, name), (0.0, 0.0))
        totals[(ns, label, name)] = (before[0] + ok, before[1] + bad)
    return totals


# Workloads whose application series carry the port and route labels of a 2.18 proxy; the
# others' lack them, as older proxies' do, and must be counted all the same.
LABELLED_AS_2_18 = {("shop", "deployment", "api")}
APP_POLICY = {"target_port": "8080", "route_name": "default"}

# Inbound rates per workload, summed over its clients: (ns, label, name) -> (success/s, failure/s)
INBOUND = _inbound()

# Inbound latency by client identity ("" for clients without one), as the server's proxy
# measures it. Per-second observations per bucket (not cumulative): {upper bound: rate}.
CLIENT_LATENCY = {
    ("shop", "deployment", "web", ""): {10: 4.0, 50: 4.0, 100: 1.5, 1000: 0.5},
    ("shop", "deployment", "api", ID.format(sa="web", ns="shop")): {5: 8.0, 20: 4.0, 500: 0.5},
    ("shop", "deployment", "api", ID.format(sa="gateway", ns="edge")): {5: 2.0, 20: 5.0, 500: 0.5},
    ("shop", "statefulset", "db", ID.format(sa="api-sa", ns="shop")): {3: 4.0},
}


def _latency() -> dict[tuple[str, str, str], dict[int, float]]:
    totals: dict[tuple[str, str, str], dict[int, float]] = {}
    for (ns, label, name, _), rates in CLIENT_LATENCY.items():
        merged = totals.setdefault((ns, label, name), {})
        for bound, rate in rates.items():
            merged[bound] = merged.get(bound, 0.0) + rate
    return totals


# Inbound latency per workload, summed over its clients: (ns, label, name) -> bucket rates
LATENCY = _latency()

# Outbound edges: (src ns, src label, src name, dst ns, dst label, dst name, tls) ->
# (success/s, failure/s, latency bucket rates as the client's proxy measures them: slower than
# the server's view where the edge is mTLS, so that tests see which side a p99 comes from)
EDGES = {
    ("shop", "deployment", "web", "shop", "deployment", "api", "true"): (
        12.0,
        0.5,
        {5: 8.0, 20: 4.0, 1000: 0.5},
    ),
    ("shop", "deployment", "api", "shop", "statefulset", "db", "true"): (4.0, 0.0, {3: 4.0}),
    # A destination that is not meshed: no identity.
    ("shop", "deployment", "api", "legacy", "deployment", "mainframe", "no_identity"): (
        2.0,
        2.0,
        {100: 4.0},
    ),
}

# TCP inbound peer=src: (ns, label, name) -> (open connections, read bytes/s, write bytes/s)
TCP = {("shop", "deployment", "api"): (7.0, 1000.0, 4000.0)}

# Linkerd's own traffic, which every 2.18 proxy records as ordinary inbound series and which is
# never the application's: (ns, label, name) -> [(target port, route_name, tls, client_id,
# success/s, failure/s)]. Prometheus scrapes the admin port over mTLS; the kubelet probes /live
# and /ready there, and the application's httpGet probes on its own port (route "probe").
PROMETHEUS_ID = ID.format(sa="prometheus", ns="linkerd-viz")
SCRAPE = ("4191", "default", "true", PROMETHEUS_ID)
ADMIN_PROBE = ("4191", "probe", "no_identity", "")
APP_PROBE = ("8080", "probe", "no_identity", "")
OWN_TRAFFIC = {
    ("shop", "deployment", "web"): [(*SCRAPE, 0.1, 0.0), (*ADMIN_PROBE, 0.2, 0.0)],
    ("shop", "deployment", "api"): [
        (*SCRAPE, 0.1, 0.0),
        (*ADMIN_PROBE, 0.2, 0.0),
        (*APP_PROBE, 0.05, 0.05),  # a readiness probe failing half the time
    ],
    ("shop", "statefulset", "db"): [(*SCRAPE, 0.1, 0.0), (*ADMIN_PROBE, 0.2, 0.0)],
    # A meshed workload nobody calls: only Linkerd's own traffic reaches it.
    ("shop", "deployment", "quiet"): [
        (*SCRAPE, 0.1, 0.0),
        (*ADMIN_PROBE, 0.2, 0.0),
        (*APP_PROBE, 0.1, 0.0),
    ],
}
# Connections to the admin port, open now, per workload: not the application's.
ADMIN_TCP_OPEN = 3.0
# The meshed Prometheus's proxy sees its scrapes as outbound traffic to every proxy's admin
# port: (src ns, src label, src name) -> destinations scraped, each at 0.1/s.
SCRAPER = ("linkerd-viz", "deployment", "prometheus")
SCRAPED = [("shop", "deployment", "web"), ("shop", "deployment", "api")]

# Proxies: (ns, pod, owner label, owner name) -> (memory bytes, cert expiry, build version)
# proxy_build_info's labels: 2.18 prints the version without the "v"; a pod with a ``version``
# label of its own has the proxy's renamed ``exported_version`` by the scrape.
PROXIES = {
    ("shop", "web-abc12-x1", "deployment", "web"): (
        20e6,
        1.9e9,
        {"version": "v1", "exported_version": "2.294.0"},
    ),
    ("shop", "api-def34-y2", "deployment", "api"): (30e6, 1.8e9, {"version": "2.294.0"}),
    ("shop", "db-0", "statefulset", "db"): (25e6, 1.7e9, {"version": "v2.300.0"}),
    # An older proxy's build has no version, only its git_version (linkerd2's 2022 sample).
    ("shop", "cache-0", "statefulset", "cache"): (15e6, 1.6e9, {"git_version": "279b301"}),
}
# What meshdash should read as each pod's proxy build.
PROXY_BUILDS = {
    "web-abc12-x1": "2.294.0",
    "api-def34-y2": "2.294.0",
    "db-0": "2.300.0",
    "cache-0": "279b301",
}

# A workload that serves TCP only (a cache; opaque, no HTTP series), its proxy a native sidecar:
# (ns, label, name) -> (open connections, opened/s, closed/s, closed with an errno/s).
TCP_ONLY = {("shop", "statefulset", "cache"): (5.0, 2.0, 2.0, 0.2)}

# Outbound TCP from the client's proxy, per destination: (src ns, label, name, dst ns, label,
# name) -> (open connections, opened/s). api -> cache carries no HTTP at all.
TCP_EDGES = {
    ("shop", "deployment", "api", "shop", "statefulset", "cache"): (4.0, 0.5),
    ("shop", "deployment", "web", "shop", "deployment", "api"): (2.0, 0.1),
}

# A Job whose meshed pod has finished; its proxy was scraped and probed until then.
FINISHED_JOB = ("batch", "k8s_job", "migrate")

# An inbound gRPC server (metrics only): every response is HTTP 200, gRPC failures are in
# classification and grpc_status; a stream error has no status_code at all.
# (status_code or None, grpc_status, error, classification) -> per second
GRPC_SERVER = ("shop", "deployment", "grpc-api")
GRPC_INBOUND = {
    ("200", "0", "", "success"): 3.0,
    ("200", "5", "", "success"): 1.0,  # NOT_FOUND: a success for Linkerd
    ("200", "14", "", "failure"): 1.0,  # UNAVAILABLE behind HTTP 200
    (None, "", "h2(CANCEL)", "failure"): 0.5,  # reset before any response
    (None, "", "timeout", "failure"): 0.5,
}

# Gateway API routes, outbound from the client's proxy: (client ns, label, name, parent ns,
# parent name, route_kind, route_name) -> {(status, error): per second}. HTTP statuses are
# numbers, gRPC statuses names (as linkerd2-proxy prints them).
HTTP_ROUTES = {
    ("shop", "deployment", "web", "shop", "api", "HTTPRoute", "items"): {
        ("200", ""): 2.0,
        ("503", ""): 0.5,
        ("", "FAIL_FAST"): 0.5,
    },
    # A Service without routes of its own: the policy controller's default route.
    ("shop", "deployment", "api", "legacy", "mainframe", "default", "http"): {("200", ""): 1.0},
}
GRPC_ROUTES = {
    ("shop", "deployment", "web", "shop", "grpc-api", "GRPCRoute", "items-grpc"): {
        ("OK", ""): 3.0,
        ("NOT_FOUND", ""): 1.0,
        ("UNAVAILABLE", ""): 1.0,
        ("UNKNOWN", "RESPONSE_HEADERS_TIMEOUT"): 0.5,
    },
}
# Request durations of the HTTPRoute route, per second in each bucket (seconds).
HTTP_ROUTE_BOUNDS = [0.05, 0.5, 1.0, 10.0]
HTTP_ROUTE_LATENCY = {0.05: 2.0, 0.5: 0.5, 10.0: 0.5}

# ServiceProfile routes (inbound): (ns, label, name, rt_route, dst) -> (success/s, failure/s)
ROUTES = {
    ("shop", "deployment", "api", "GET /items", "api.shop.svc.cluster.local:8080"): (3.0, 1.0)
}


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


def _owner(ns: str, label: str, name: str, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}namespace": ns, f"{prefix}{label}": name}


def _cumulative(rates: dict[int, float]) -> list[tuple[str, float]]:
    running, out = 0.0, []
    for bound in LINKERD_BOUNDS:
        running += rates.get(bound, 0.0)
        out.append((str(bound), running))
    out.append(("+Inf", running))
    return out


def openmetrics(start: int) -> str:
    """The whole data set as OpenMetrics text, samples from ``start`` every STEP seconds."""
    series: dict[str, list[tuple[str, float, str]]] = {}  # family -> (labels, rate, kind)

    def counter(family: str, rate: float, **labels: str) -> None:
        series.setdefault(family, []).append((_labels(**labels), rate, "counter"))

    def gauge(family: str, value: float, **labels: str) -> None:
        series.setdefault(family, []).append((_labels(**labels), value, "gauge"))

    proxy = {"control_plane_ns": "linkerd"}
    for (ns, label, name, client), rates in CLIENT_LATENCY.items():
        tls = {"tls": "true", "client_id": client} if client else {"tls": "no_identity"}
        for le, rate in _cumulative(rates):
            counter(
                "response_latency_ms_bucket",
                rate,
                direction="inbound",
                le=le,
                status_code="200",
                **tls,
                **_owner(ns, label, name),
                **proxy,
            )
    for (sns, sl, sn, dns, dl, dn, tls), (ok, bad, rates) in EDGES.items():
        extra = (
            {"server_id": ID.format(sa=dn, ns=dns)}
            if tls == "true"
            else {"no_tls_reason": "not_provided_by_service_discovery"}
        )
        for classification, rate in (("success", ok), ("failure", bad)):
            counter(
                "response_total",
                rate,
                direction="outbound",
                tls=tls,
                classification=classification,
                **extra,
                **_owner(sns, sl, sn),
                **_owner(dns, dl, dn, "dst_"),
                **proxy,
            )
        for le, rate in _cumulative(rates):
            counter(
                "response_latency_ms_bucket",
                rate,
                direction="outbound",
                le=le,
                tls=tls,
                **_owner(sns, sl, sn),
                **_owner(dns, dl, dn, "dst_"),
                **proxy,
            )
    for (ns, label, name, tls, client), (ok, bad) in CLIENTS.items():
        policy = APP_POLICY if (ns, label, name) in LABELLED_AS_2_18 else {}
        for classification, rate in (("success", ok), ("failure", bad)):
            counter(
                "response_total",
                rate,
                direction="inbound",
                tls=tls,
                client_id=client,
                classification=classification,
                status_code="200",
                **policy,
                **_owner(ns, label, name),
                **proxy,
            )
    for (ns, label, name), series_of in OWN_TRAFFIC.items():
        for port, route, tls, client, ok, bad in series_of:
            labels = {
                "direction": "inbound",
                "target_addr": f"{'0.0.0.0' if port == '4191' else '10.0.0.1'}:{port}",
                "target_port": port,
                "tls": tls,
                **({"client_id": client} if client else {"no_tls_reason": "no_tls_from_remote"}),
                "route_name": route,
                **_owner(ns, label, name),
                **proxy,
            }
            for classification, rate in (("success", ok), ("failure", bad)):
                status = "200" if classification == "success" else "503"
                counter(
                    "response_total",
                    rate,
                    status_code=status,
                    classification=classification,
                    **labels,
                )
            # Fast answers, so that counting them would pull every quantile down.
            for le, rate in _cumulative({1: ok + bad}):
                counter("response_latency_ms_bucket", rate, le=le, status_code="200", **labels)
        gauge(
            "tcp_open_connections",
            ADMIN_TCP_OPEN,
            direction="inbound",
            peer="src",
            target_port="4191",
            **_owner(ns, label, name),
            **proxy,
        )
    for dns, dl, dn in SCRAPED:
        counter(
            "response_total",
            0.1,
            direction="outbound",
            target_port="4191",
            tls="true",
            server_id=ID.format(sa=dn, ns=dns),
            classification="success",
            status_code="200",
            **_owner(*SCRAPER),
            **_owner(dns, dl, dn, "dst_"),
            **proxy,
        )
    for (ns, label, name), (open_, read, write) in TCP.items():
        gauge(
            "tcp_open_connections",
            open_,
            direction="inbound",
            peer="src",
            **_owner(ns, label, name),
            **proxy,
        )
        gauge(
            "tcp_open_connections",
            99.0,
            direction="inbound",
            peer="dst",
            **_owner(ns, label, name),
            **proxy,
        )
        counter(
            "tcp_read_bytes",
            read,
            direction="inbound",
            peer="src",
            **_owner(ns, label, name),
            **proxy,
        )
        counter(
            "tcp_write_bytes",
            write,
            direction="inbound",
            peer="src",
            **_owner(ns, label, name),
            **proxy,
        )
    for (ns, pod, label, name), (memory, expiry, build) in PROXIES.items():
        base = {"namespace": ns, "pod": pod, label: name, **proxy}
        gauge("process_resident_memory_bytes", memory, **base)
        gauge("control_identity_cert_expiration_timestamp_seconds", expiry, **base)
        gauge("proxy_build_info", 1.0, **build, vendor="linkerd", profile="release", **base)
    for (ns, label, name), (open_, opened, closed, errors) in TCP_ONLY.items():
        tcp_labels = {
            "direction": "inbound",
            "peer": "src",
            "target_addr": "10.0.0.9:6379",
            "target_ip": "10.0.0.9",
            "target_port": "6379",
            "tls": "true",
            "client_id": ID.format(sa="api-sa", ns="shop"),
            "srv_name": "all-unauthenticated",
            **_owner(ns, label, name),
            **proxy,
        }
        gauge("tcp_open_connections", open_, **tcp_labels)
        counter("tcp_open_total", opened, **tcp_labels)
        counter("tcp_close_total", closed - errors, errno="", **tcp_labels)
        counter("tcp_close_total", errors, errno="ECONNRESET", **tcp_labels)
        # The admin port's connections (scrapes, probes): not the application's.
        admin = {**tcp_labels, "target_port": "4191", "target_addr": "0.0.0.0:4191"}
        counter("tcp_open_total", 0.3, **admin)
        counter("tcp_close_total", 0.3, errno="EPIPE", **admin)
    for (sns, sl, sn, dns, dl, dn), (open_, opened) in TCP_EDGES.items():
        edge_labels = {
            "direction": "outbound",
            "peer": "dst",
            "target_port": "6379",
            "tls": "true",
            "server_id": ID.format(sa=dn, ns=dns),
            **_owner(sns, sl, sn),
            **_owner(dns, dl, dn, "dst_"),
            **proxy,
        }
        gauge("tcp_open_connections", open_, **edge_labels)
        counter("tcp_open_total", opened, **edge_labels)
    # The meshed Prometheus's connections to the admin ports it scrapes: no edge.
    for dns, dl, dn in SCRAPED:
        gauge(
            "tcp_open_connections",
            1.0,
            direction="outbound",
            peer="dst",
            target_port="4191",
            tls="true",
            **_owner(*SCRAPER),
            **_owner(dns, dl, dn, "dst_"),
            **proxy,
        )
    job_ns, job_label, job_name = FINISHED_JOB
    counter(
        "response_total",
        0.1,
        direction="inbound",
        target_port="4191",
        route_name="default",
        tls="true",
        client_id=PROMETHEUS_ID,
        classification="success",
        status_code="200",
        **_owner(job_ns, job_label, job_name),
        **proxy,
    )
    for (status, grpc, error, classification), rate in GRPC_INBOUND.items():
        counter(
            "response_total",
            rate,
            direction="inbound",
            target_port="9090",
            route_name="default",
            tls="true",
            client_id=ID.format(sa="web", ns="shop"),
            **({"status_code": status} if status else {}),
            classification=classification,
            grpc_status=grpc,
            error=error,
            **_owner(*GRPC_SERVER),
            **proxy,
        )
    for family, routes, status_label in (
        ("outbound_http_route_request_statuses_total", HTTP_ROUTES, "http_status"),
        ("outbound_grpc_route_request_statuses_total", GRPC_ROUTES, "grpc_status"),
    ):
        for (cns, cl, cn, pns, pn, kind, route), statuses in routes.items():
            route_labels = {
                "parent_group": "core",
                "parent_kind": "Service",
                "parent_namespace": pns,
                "parent_name": pn,
                "parent_port": "8080",
                "parent_section_name": "",
                "route_group": "" if kind == "default" else "gateway.networking.k8s.io",
                "route_kind": kind,
                "route_namespace": "" if kind == "default" else pns,
                "route_name": route,
                "hostname": "",
                **_owner(cns, cl, cn),
                **proxy,
            }
            for (status, error), rate in statuses.items():
                counter(family, rate, **{status_label: status}, error=error, **route_labels)
            if family.startswith("outbound_http") and kind == "HTTPRoute":
                running = 0.0
                for bound in [*HTTP_ROUTE_BOUNDS, "+Inf"]:
                    running += HTTP_ROUTE_LATENCY.get(bound, 0.0)
                    counter(
                        "outbound_http_route_request_duration_seconds_bucket",
                        running,
                        le=str(bound),
                        **{k: v for k, v in route_labels.items() if k != "hostname"},
                    )
    # The control plane's own Go process: no control_plane_ns, must not count as a proxy.
    gauge(
        "process_resident_memory_bytes",
        5e9,
        namespace="shop",
        pod="web-abc12-x1",
        component="destination",
    )
    for (ns, label, name, route, dst), (ok, bad) in ROUTES.items():
        for classification, rate in (("success", ok), ("failure", bad)):
            counter(
                "route_response_total",
                rate,
                direction="inbound",
                rt_route=route,
                dst=dst,
                classification=classification,
                **_owner(ns, label, name),
                **proxy,
            )

    lines = []
    for family, items in series.items():
        kind = items[0][2]
        metric_type = "histogram" if family.endswith("_bucket") else kind
        base = family.removesuffix("_bucket").removesuffix("_total")
        lines.append(f"# TYPE {base} {metric_type}")
        for labels, rate, _ in items:
            for i in range(SAMPLES):
                at = start + i * STEP
                value = rate * i * STEP if kind == "counter" else rate
                suffix = "_total" if kind == "counter" and not family.endswith("_bucket") else ""
                name = family if family.endswith(("_bucket", "_total")) else base + suffix
                lines.append(f"{name}{labels} {value} {at}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
