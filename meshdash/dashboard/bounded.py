"""Lists the snapshot keeps whole and bounded when it is written (the mTLS page's edges, the
authorization page's decisions: at most a few hundred rows each), paged and sorted here in
Python: their columns, their query and one page of them."""

from dataclasses import dataclass

from meshdash.mesh.columns import Column
from meshdash.mesh.query import DEFAULT_PER_PAGE, Page

EDGE_COLUMNS: tuple[Column, ...] = (
    Column("src", "Client", "src_id", ("src_namespace", "src_kind", "src_name", "src_meshed")),
    Column("dst", "Server", "dst_id", ("dst_namespace", "dst_kind", "dst_name")),
    Column("service", "Service", "dst_service", ("dst_service",)),
    Column("rps", "RPS", "rps", ("rps",), numeric=True),
    Column("success_rate", "Success", "success_rate", ("success_rate",), numeric=True),
    Column("tcp", "TCP", "tcp_open_connections", ("tcp_open_connections",), numeric=True),
)
AUTHZ_COLUMNS: tuple[Column, ...] = (
    Column("workload", "Workload", "workload_id", ("namespace", "kind", "name")),
    Column("server", "Server", "server", ("server_kind", "server")),
    Column("policy", "Policy", "policy", ("policy_kind", "policy")),
    Column(
        "allowed",
        "Allowed",
        "allowed",
        ("http_allowed_rps", "tcp_allowed_per_second"),
        numeric=True,
        title="HTTP requests per second, and TCP connections per second",
    ),
    Column(
        "denied",
        "Denied",
        "denied",
        ("http_denied_rps", "tcp_denied_per_second"),
        numeric=True,
        title="HTTP requests per second, and TCP connections per second",
    ),
)


def csv_fields(columns) -> tuple[str, ...]:
    return tuple(f for column in columns for f in column.csv)


@dataclass(frozen=True)
class BoundedQuery:
    namespaces: tuple[str, ...] = ()  # either side in one of these; empty: every namespace
    search: str = ""  # a substring of either side's name
    sort: str = ""
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def _value(item, attribute: str):
    if attribute == "src_id":
        return item.src.id
    if attribute == "dst_id":
        return item.dst.id
    if attribute == "workload_id":
        return f"{item.namespace}/{item.kind}/{item.name}"
    if attribute == "allowed":
        return item.http_allowed_rps + item.tcp_allowed_per_second
    return getattr(item, attribute)


def _names(item) -> tuple[tuple[str, str], ...]:
    if hasattr(item, "src_namespace"):
        return ((item.src_namespace, item.src_name), (item.dst_namespace, item.dst_name))
    return ((item.namespace, item.name),)


def matching(items, query: BoundedQuery) -> list:
    """The items the query's filters keep, in its order (None values last either way)."""
    kept = [
        item
        for item in items
        if (not query.namespaces or any(ns in query.namespaces for ns, _ in _names(item)))
        and (not query.search or any(query.search in name for _, name in _names(item)))
    ]
    attribute = next(c.sort_by for c in EDGE_COLUMNS + AUTHZ_COLUMNS if c.key == query.sort)
    known = [item for item in kept if _value(item, attribute) is not None]
    unknown = [item for item in kept if _value(item, attribute) is None]
    known.sort(key=lambda item: _value(item, attribute), reverse=query.descending)
    return known + unknown


def page_of(items, query: BoundedQuery) -> Page:
    """One page of ``items`` as the query asks; a page past the end is the last one."""
    return Page.of(matching(items, query), query.page, query.per_page)
