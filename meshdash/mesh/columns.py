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
