"""The list tables' rows as HTML, built with format strings instead of the template engine.

Rows are the hot path of every list view (up to 200 a page, 12 cells and a sparkline each):
through templates they cost several times the rest of the request together. Every value from
the cluster goes through ``escape`` here exactly as the template engine would escape it. The
cells follow the columns of meshdash.mesh.columns, in their order.
"""

from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from meshdash.dashboard.charts import sparkline_svg
from meshdash.lib.templatetags.meshdash import ms, number, percent, rps
from meshdash.mesh.columns import NAMESPACE_COLUMNS, WORKLOAD_COLUMNS

# What reverse() leaves unquoted in a path segment. Quoting by hand gives the same URL in a
# microsecond where reverse() takes about sixty, and a page reverses two URLs per row.
PATH_SAFE = "!$&'()*+,;=~:@"
VALID_INJECT_VALUES = ("enabled", "disabled")


def _segments(*values: str) -> str | None:
    """``a/b/c/`` for path segments, None when a route cannot carry them (empty, "/")."""
    if not all(value and "/" not in value for value in values):
        return None
    return "".join(quote(value, safe=PATH_SAFE) + "/" for value in values)


def _link(href: str | None, text: str) -> str:
    return f'<a href="{escape(href)}">{text}</a>' if href else text


def _full_name(name: str, shown: int = 28) -> str:
    """A tooltip for names the column cuts short; short ones need none (bytes add up)."""
    return f' title="{escape(name)}"' if len(name) > shown else ""


def _success(w) -> str:
    """The success rate of requests, or for a workload judged on TCP the share of its
    connections closed cleanly, marked as such."""
    if w.judged_on != "tcp":
        return percent(w.success_rate)
    clean = None if w.tcp_close_error_rate is None else 1 - w.tcp_close_error_rate
    return f'<span title="TCP: connections closed without an error">tcp {percent(clean)}</span>'


def _meshed(w) -> str:
    short_of_pods = ' class="warn"' if w.meshed_pods < w.total_pods else ""
    return f"<td{short_of_pods}>{w.meshed_pods}/{w.total_pods}</td>"


class _Row:
    """One workload's values as the cells show them: escaped once, links built once."""

    __slots__ = ("w", "history", "namespace", "kind", "name", "href", "namespace_href")

    def __init__(self, w, history, bases: tuple[str, str], window_query: str):
        self.w, self.history = w, history
        self.namespace, self.kind, self.name = escape(w.namespace), escape(w.kind), escape(w.name)
        tail = _segments(w.namespace, w.kind, w.name)
        self.href = tail and bases[0] + tail + window_query
        ns_tail = _segments(w.namespace)
        self.namespace_href = ns_tail and bases[1] + ns_tail + window_query


# Numbers are right-aligned by column in CSS: no class per cell on a 200-row page.
WORKLOAD_CELLS = {
    "health": lambda r: (
        f'<td><span class="badge h-{escape(r.w.health or "unknown")}">'
        f"{escape(r.w.health or '?')}</span></td>"
    ),
    "namespace": lambda r: f"<td>{_link(r.namespace_href, r.namespace)}</td>",
    "kind": lambda r: f"<td>{r.kind}</td>",
    "name": lambda r: f"<td{_full_name(r.w.name)}>{_link(r.href, r.name)}</td>",
    "meshed": lambda r: _meshed(r.w),
    "success_rate": lambda r: f"<td>{_success(r.w)}</td>",
    "rps": lambda r: f"<td>{rps(r.w.rps)}</td>",
    "p50": lambda r: f"<td>{ms(r.w.latency_ms_p50)}</td>",
    "p95": lambda r: f"<td>{ms(r.w.latency_ms_p95)}</td>",
    "p99": lambda r: f"<td>{ms(r.w.latency_ms_p99)}</td>",
    "tcp": lambda r: f"<td>{number(r.w.tcp_open_connections)}</td>",
    "trend": lambda r: f"<td>{sparkline_svg(r.history)}</td>",
}
_WORKLOAD_CELLS = tuple(WORKLOAD_CELLS[column.key] for column in WORKLOAD_COLUMNS)


def workload_rows(rows, window_query: str = "") -> SafeString:
    """``<tr>`` elements for (workload, history) pairs; ``window_query`` is "" or "?window=…"."""
    if not rows:
        return mark_safe(  # noqa: S308 (constant text)
            f'<tr><td colspan="{len(WORKLOAD_COLUMNS)}" class="empty">'
            "No workloads match these filters.</td></tr>"
        )
    bases = (reverse("workload_list"), reverse("namespace_list"))
    html = []
    for w, history in rows:
        row = _Row(w, history, bases, window_query)
        cells = "".join(cell(row) for cell in _WORKLOAD_CELLS)
        html.append(f'<tr data-workload="{row.namespace}/{row.kind}/{row.name}">{cells}</tr>')
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)


def _health_counts(ns) -> str:
    return "".join(
        f'<span class="badge h-{escape(state)}" title="{escape(state)}">'
        f"{count} {escape(state)}</span> "
        for state, count in (ns.health_counts or {}).items()
        if count
    )


def _inject(ns) -> str:
    value = ns.inject_annotation
    if value and value not in VALID_INJECT_VALUES:
        hint = "The valid values are enabled and disabled"
        return f'<td class="bad" title="{hint}">{escape(value)}</td>'
    return f"<td>{escape(value) or '—'}</td>"


NAMESPACE_CELLS = {
    "name": lambda ns, href: (
        f'<td class="col-name" title="{escape(ns.name)}">{_link(href, escape(ns.name))}</td>'
    ),
    "workloads": lambda ns, href: f'<td class="num">{ns.workloads}</td>',
    "meshed": lambda ns, href: (
        f'<td class="num{" warn" if ns.meshed_pods < ns.total_pods else ""}">'
        f"{ns.meshed_pods}/{ns.total_pods}</td>"
    ),
    "success_rate": lambda ns, href: f'<td class="num">{percent(ns.success_rate)}</td>',
    "rps": lambda ns, href: f'<td class="num">{rps(ns.rps)}</td>',
    "health": lambda ns, href: f'<td class="health-counts">{_health_counts(ns)}</td>',
    "inject": lambda ns, href: _inject(ns),
}
_NAMESPACE_CELLS = tuple(NAMESPACE_CELLS[column.key] for column in NAMESPACE_COLUMNS)


def namespace_rows(
    namespaces, window_query: str = "", empty: str = "No namespaces in this snapshot."
) -> SafeString:
    """``<tr>`` elements for namespace rollups; ``window_query`` is "" or "?window=…"."""
    if not namespaces:
        return mark_safe(  # noqa: S308 (constant text)
            f'<tr><td colspan="{len(NAMESPACE_COLUMNS)}" class="empty">{escape(empty)}</td></tr>'
        )
    base = reverse("namespace_list")
    html = []
    for ns in namespaces:
        tail = _segments(ns.name)
        href = tail and base + tail + window_query
        cells = "".join(cell(ns, href) for cell in _NAMESPACE_CELLS)
        html.append(f'<tr data-namespace="{escape(ns.name)}">{cells}</tr>')
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)
