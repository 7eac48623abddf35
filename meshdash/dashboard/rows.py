"""The workload table's rows as HTML, built with format strings instead of the template engine.

Rows are the hot path of every list view (up to 200 a page, 12 cells and a sparkline each):
through templates they cost several times the rest of the request together. Every value from
the cluster goes through ``escape`` here exactly as the template engine would escape it.
"""

from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from meshdash.dashboard.charts import sparkline_svg
from meshdash.dashboard.templatetags.meshdash import ms, number, percent, rps

# What reverse() leaves unquoted in a path segment. Quoting by hand gives the same URL in a
# microsecond where reverse() takes about sixty, and a page reverses two URLs per row.
PATH_SAFE = "!$&'()*+,;=~:@"


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


def workload_rows(rows, window_query: str = "", colspan: int = 12) -> SafeString:
    """``<tr>`` elements for (workload, history) pairs; ``window_query`` is "" or "?window=…"."""
    if not rows:
        return mark_safe(  # noqa: S308 (constant text)
            f'<tr><td colspan="{colspan}" class="empty">No workloads match these filters.</td></tr>'
        )
    workloads_base, namespaces_base = reverse("workload_list"), reverse("namespace_list")
    html = []
    for w, history in rows:
        namespace, kind, name = escape(w.namespace), escape(w.kind), escape(w.name)
        health = escape(w.health or "unknown")
        tail = _segments(w.namespace, w.kind, w.name)
        path = tail and workloads_base + tail
        ns_tail = _segments(w.namespace)
        ns_path = ns_tail and namespaces_base + ns_tail
        short_of_pods = ' class="warn"' if w.meshed_pods < w.total_pods else ""
        html.append(
            f'<tr data-workload="{namespace}/{kind}/{name}">'
            f'<td><span class="badge h-{health}">{escape(w.health or "?")}</span></td>'
            f"<td>{_link(ns_path and ns_path + window_query, namespace)}</td>"
            f"<td>{kind}</td>"
            f"<td{_full_name(w.name)}>{_link(path and path + window_query, name)}</td>"
            # Numbers are right-aligned by column in CSS: no class per cell on a 200-row page.
            f"<td{short_of_pods}>{w.meshed_pods}/{w.total_pods}</td>"
            f"<td>{_success(w)}</td>"
            f"<td>{rps(w.rps)}</td>"
            f"<td>{ms(w.latency_ms_p50)}</td>"
            f"<td>{ms(w.latency_ms_p95)}</td>"
            f"<td>{ms(w.latency_ms_p99)}</td>"
            f"<td>{number(w.tcp_open_connections)}</td>"
            f"<td>{sparkline_svg(history)}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)
