"""The columns of the workload and namespace lists, defined once: the sort keys the store
indexes, the tables' headings and cells (meshdash/dashboard/rows.py) and the CSV export's
fields all follow these tuples, in their order."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the ``sort`` URL parameter, and the heading's CSS class
    heading: str
    sort_by: str = ""  # the attribute the list sorts by; "" when the column does not sort
    csv: tuple[str, ...] = ()  # the fields the CSV export writes for it
    numeric: bool = False  # right-aligned, and sorted biggest first on the first click
    title: str = ""  # the heading's tooltip

    @property
    def sortable(self) -> bool:
        return bool(self.sort_by)


WORKLOAD_COLUMNS: tuple[Column, ...] = (
    # By HEALTH_ORDER rank rather than by name: ascending is worst first.
    Column("health", "Health", "health", ("health",)),
    Column("namespace", "Namespace", "namespace", ("namespace",)),
    Column("kind", "Kind", "kind", ("kind",)),
    Column("name", "Name", "name", ("name",)),
    Column("meshed", "Meshed", "meshed_pods", ("meshed_pods", "total_pods"), numeric=True),
    Column("success_rate", "Success", "success_rate", ("success_rate",), numeric=True),
    Column("rps", "RPS", "rps", ("rps",), numeric=True),
    Column("p50", "P50", "latency_ms_p50", ("latency_ms_p50",), numeric=True),
    Column("p95", "P95", "latency_ms_p95", ("latency_ms_p95",), numeric=True),
    Column("p99", "P99", "latency_ms_p99", ("latency_ms_p99",), numeric=True),
    Column("tcp", "TCP", "tcp_open_connections", ("tcp_open_connections",), numeric=True),
    Column(
        "mtls",
        "mTLS",
        "mtls_share",
        ("mtls_share",),
        numeric=True,
        title="Share of its inbound requests that came over mTLS",
    ),
    Column("trend", "Trend", title="RPS (blue) and success rate (green) over the last hour"),
)

# Sort key -> Workload attribute. None values sort last whatever the direction.
SORT_KEYS: dict[str, str] = {c.key: c.sort_by for c in WORKLOAD_COLUMNS if c.sortable}

# A spreadsheet row starts with what it is about, then the list's columns, then what only a
# spreadsheet has room for.
IDENTITY_FIELDS: tuple[str, ...] = ("namespace", "kind", "name")
EXPORT_ONLY_FIELDS: tuple[str, ...] = (
    "outbound_rps",
    "outbound_success_rate",
    "team",
    "last_rollout",
    "judged_on",
    "tcp_opened_per_second",
    "tcp_close_error_rate",
    "probe_rps",
    "probe_success_rate",
    "scrape_rps",
)
CSV_FIELDS: tuple[str, ...] = (
    IDENTITY_FIELDS
    + tuple(f for c in WORKLOAD_COLUMNS for f in c.csv if f not in IDENTITY_FIELDS)
    + EXPORT_ONLY_FIELDS
)

NAMESPACE_COLUMNS: tuple[Column, ...] = (
    Column("name", "Namespace", "name"),
    Column("workloads", "Workloads", "workloads", numeric=True),
    Column("meshed", "Meshed pods", "meshed_pods", numeric=True),
    Column("success_rate", "Success", "success_rate", numeric=True),
    Column("rps", "RPS", "rps", numeric=True),
    # By the counts of workloads in each state: ascending is the ones needing attention first.
    Column("health", "Health", "health_counts"),
    Column("inject", "linkerd.io/inject"),
)

# Sort key -> Namespace attribute.
NAMESPACE_SORT_KEYS: dict[str, str] = {c.key: c.sort_by for c in NAMESPACE_COLUMNS if c.sortable}

POD_COLUMNS: tuple[Column, ...] = (
    Column("namespace", "Namespace", "namespace", ("namespace",)),
    Column("name", "Pod", "name", ("name",)),
    Column("workload", "Workload", "workload_name", ("workload_kind", "workload_name")),
    Column("status", "Status", "status", ("status", "phase", "ready")),
    Column("restarts", "Restarts", "restarts", ("restarts", "proxy_restarts"), numeric=True),
    Column(
        "termination",
        "Last termination",
        "",
        ("proxy_last_termination", "app_last_termination", "app_last_termination_container"),
        title="Why each container's last run ended: the proxy's and the application's",
    ),
    Column("age", "Age", "created_at", ("created_at",), title="When the pod was created"),
    Column("node", "Node", "node", ("node",)),
    Column("proxy_version", "Proxy", "proxy_version", ("proxy_version",)),
    Column(
        "proxy_memory",
        "Proxy memory",
        "proxy_memory_share",
        ("proxy_memory_bytes", "proxy_memory_limit_bytes"),
        numeric=True,
        title="Resident memory of the proxy against its container's limit",
    ),
    Column("cert", "Leaf cert", "proxy_cert_expiry", ("proxy_cert_expiry",), numeric=True),
    Column("success_rate", "Success", "success_rate", ("success_rate",), numeric=True),
    Column("rps", "RPS", "rps", ("rps",), numeric=True),
    Column("p99", "P99", "latency_ms_p99", ("latency_ms_p99",), numeric=True),
)
# Sort key -> Pod attribute (``proxy_memory_share`` is a property of the row).
POD_SORT_KEYS: dict[str, str] = {c.key: c.sort_by for c in POD_COLUMNS if c.sortable}
POD_IDENTITY_FIELDS: tuple[str, ...] = ("namespace", "name")
POD_CSV_FIELDS: tuple[str, ...] = (
    POD_IDENTITY_FIELDS
    + tuple(f for c in POD_COLUMNS for f in c.csv if f not in POD_IDENTITY_FIELDS)
    + ("waiting_reason", "init_waiting", "has_proxy", "proxy_cert_refreshed_at")
)

SERVICE_COLUMNS: tuple[Column, ...] = (
    Column("health", "Health", "health", ("health",)),
    Column("namespace", "Namespace", "namespace", ("namespace",)),
    Column("name", "Service", "name", ("name",)),
    Column("workloads", "Backed by", "", ("workloads",)),
    Column("ports", "Ports", "", ("ports",)),
    Column("success_rate", "Success", "success_rate", ("success_rate",), numeric=True),
    Column("rps", "RPS", "rps", ("rps",), numeric=True),
    Column("p99", "P99", "latency_ms_p99", ("latency_ms_p99",), numeric=True),
    Column(
        "mtls",
        "mTLS",
        "mtls_share",
        ("mtls_share",),
        numeric=True,
        title="Share of its callers' requests sent over mTLS",
    ),
    Column("callers", "Callers", "callers", ("callers",), numeric=True),
)
SERVICE_SORT_KEYS: dict[str, str] = {c.key: c.sort_by for c in SERVICE_COLUMNS if c.sortable}
SERVICE_IDENTITY_FIELDS: tuple[str, ...] = ("namespace", "name")
SERVICE_CSV_FIELDS: tuple[str, ...] = (
    SERVICE_IDENTITY_FIELDS
    + tuple(f for c in SERVICE_COLUMNS for f in c.csv if f not in SERVICE_IDENTITY_FIELDS)
    + ("type", "cluster_ip", "meshed", "health_reason")
)
