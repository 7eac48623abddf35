"""The list tables' rows as HTML, built with format strings instead of the template engine.

Rows are the hot path of every list view (up to 200 a page, 12 cells and a sparkline each):
through templates they cost several times the rest of the request together. Every value from
the cluster goes through ``escape`` here exactly as the template engine would escape it. The
cells follow the columns of meshdash.mesh.columns, in their order.
"""

import re
import threading
from collections import OrderedDict
from urllib.parse import quote

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from meshdash.dashboard.bounded import AUTHZ_COLUMNS, EDGE_COLUMNS
from meshdash.dashboard.charts import sparkline_svg
from meshdash.dashboard.control_plane import leaf_certificate
from meshdash.lib.escaping import escape
from meshdash.lib.templatetags.meshdash import bytes_, ms, number, percent, rps, unix_iso
from meshdash.lib.timefmt import short_duration
from meshdash.mesh.columns import (
    NAMESPACE_COLUMNS,
    POD_COLUMNS,
    SERVICE_COLUMNS,
    WORKLOAD_COLUMNS,
)

# What reverse() leaves unquoted in a path segment. Quoting by hand gives the same URL in a
# microsecond where reverse() takes about sixty, and a page reverses two URLs per row.
PATH_SAFE = "!$&'()*+,;=~:@"
VALID_INJECT_VALUES = ("enabled", "disabled")


# Kubernetes names are made of these: quote() would leave them as they are.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+").fullmatch


def _segments(*values: str) -> str | None:
    """``a/b/c/`` for path segments, None when a route cannot carry them (empty, "/")."""
    if not all(value and "/" not in value for value in values):
        return None
    return "".join(
        (value if _PLAIN_SEGMENT(value) else quote(value, safe=PATH_SAFE)) + "/" for value in values
    )


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


def _health_badge(item) -> str:
    """As the ``health_badge`` filter: the state, and why as the tooltip."""
    state = escape(item.health or "unknown")
    why = f' title="{state}: {escape(item.health_reason)}"' if item.health_reason else ""
    return f'<span class="badge h-{state}"{why}>{escape(item.health or "?")}</span>'


def _meshed(w) -> str:
    short_of_pods = ' class="warn"' if w.meshed_pods < w.total_pods else ""
    return f"<td{short_of_pods}>{w.meshed_pods}/{w.total_pods}</td>"


class _Row:
    """One workload's values as the cells show them: escaped once, links built once."""

    __slots__ = ("w", "history", "namespace", "kind", "name", "href", "namespace_href")

    def __init__(self, w, history, bases: tuple[str, str], window_query: str):
        self.w, self.history = w, history
        self.namespace = escape(w.namespace)
        self.kind, self.name = escape(w.kind), escape(w.name)
        tail = _segments(w.namespace, w.kind, w.name)
        self.href = tail and escape(bases[0] + tail + window_query)
        ns_tail = _segments(w.namespace)
        self.namespace_href = ns_tail and escape(bases[1] + ns_tail + window_query)


def _escaped_link(href: str | None, text: str) -> str:
    return f'<a href="{href}">{text}</a>' if href else text


# The sparklines of recent histories, by their points: a history gains a point a minute and is
# drawn the same in every window's list, for every user, so one drawing serves many pages.
# Keyed by the points themselves, an entry is never stale; bounded, it never grows.
SPARKLINE_CACHE_SIZE = 2048  # at 16 points, about 4 KB an entry with its key
_sparklines: OrderedDict[tuple, str] = OrderedDict()
_sparklines_lock = threading.Lock()


def _sparkline(history) -> str:
    if not history:
        return ""
    key = tuple(history)
    with _sparklines_lock:
        svg = _sparklines.get(key)
        if svg is not None:
            _sparklines.move_to_end(key)
            return svg
    svg = sparkline_svg(history)
    with _sparklines_lock:
        _sparklines[key] = svg
        if len(_sparklines) > SPARKLINE_CACHE_SIZE:
            _sparklines.popitem(last=False)
    return svg


# Numbers are right-aligned by column in CSS: no class per cell on a 200-row page.
WORKLOAD_CELLS = {
    "health": lambda r: f"<td>{_health_badge(r.w)}</td>",
    "namespace": lambda r: f"<td>{_escaped_link(r.namespace_href, r.namespace)}</td>",
    "kind": lambda r: f"<td>{r.kind}</td>",
    "name": lambda r: f"<td{_full_name(r.w.name)}>{_escaped_link(r.href, r.name)}</td>",
    "meshed": lambda r: _meshed(r.w),
    "success_rate": lambda r: f"<td>{_success(r.w)}</td>",
    "rps": lambda r: f"<td>{rps(r.w.rps)}</td>",
    "p50": lambda r: f"<td>{ms(r.w.latency_ms_p50)}</td>",
    "p95": lambda r: f"<td>{ms(r.w.latency_ms_p95)}</td>",
    "p99": lambda r: f"<td>{ms(r.w.latency_ms_p99)}</td>",
    "tcp": lambda r: f"<td>{number(r.w.tcp_open_connections)}</td>",
    "mtls": lambda r: f"<td>{percent(r.w.mtls_share)}</td>",
    "trend": lambda r: f"<td>{_sparkline(r.history)}</td>",
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
        cells = "".join([cell(row) for cell in _WORKLOAD_CELLS])
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


def _empty(columns, text: str) -> SafeString:
    return mark_safe(  # noqa: S308 (escaped)
        f'<tr><td colspan="{len(columns)}" class="empty">{escape(text)}</td></tr>'
    )


def _termination(pod) -> str:
    """Why each container's last run ended, the proxy's and the application's."""
    parts = []
    if pod.proxy_last_termination:
        bad = " bad" if pod.proxy_last_termination == "OOMKilled" else ""
        parts.append(
            f'<span class="term{bad}" data-term="proxy">proxy: '
            f"{escape(pod.proxy_last_termination)}</span>"
        )
    if pod.app_last_termination:
        bad = " bad" if pod.app_last_termination == "OOMKilled" else ""
        container = escape(pod.app_last_termination_container or "app")
        parts.append(
            f'<span class="term{bad}" data-term="app">{container}: '
            f"{escape(pod.app_last_termination)}</span>"
        )
    return "<br>".join(parts) or "—"


def _pod_status(pod) -> str:
    text = escape(pod.status or pod.phase or "?")
    waiting = pod.init_waiting and f' title="waiting for init container {escape(pod.init_waiting)}"'
    return f'<td class="{"ok" if pod.ready else "bad"}"{waiting or ""}>{text}</td>'


def _proxy(pod) -> str:
    if not pod.has_proxy:
        return '<td><span class="bad">no proxy</span></td>'
    return f"<td>{escape(pod.proxy_version or '?')}</td>"


def _memory(pod) -> str:
    if pod.proxy_memory_bytes is None:
        return "<td>—</td>"
    share = pod.proxy_memory_share
    warn = ' class="warn"' if share is not None and share > 0.8 else ""
    limit = f" / {bytes_(pod.proxy_memory_limit_bytes)}" if pod.proxy_memory_limit_bytes else ""
    shown = f" ({share * 100:.0f} %)" if share is not None else ""
    return f"<td{warn}>{bytes_(pod.proxy_memory_bytes)}{limit}{shown}</td>"


def leaf_cell(leaf) -> str:
    """A leaf certificate's time left against its lifetime; "expired" once past."""
    if leaf.seconds_left is None:
        return "—"
    level = leaf.level
    badge = f"badge h-{level}" if level != "healthy" else "leaf"
    return mark_safe(  # noqa: S308 (escaped)
        f'<span class="{badge}" data-leaf="{level}" '
        f'title="expires {unix_iso(leaf.expiry)}">{escape(leaf.text)}</span>'
    )


def _cert(pod, now: float) -> str:
    return leaf_cell(leaf_certificate(pod.proxy_cert_expiry, pod.proxy_cert_refreshed_at, now))


def _restarts(pod) -> str:
    warn = ' class="warn"' if pod.restarts else ""
    proxy = f' title="proxy: {pod.proxy_restarts}"' if pod.proxy_restarts else ""
    return f"<td{warn}{proxy}>{pod.restarts}</td>"


class _PodRow:
    __slots__ = ("pod", "now", "workload_href", "namespace_href")

    def __init__(self, pod, now, bases, window_query):
        self.pod, self.now = pod, now
        tail = pod.workload_kind and _segments(pod.namespace, pod.workload_kind, pod.workload_name)
        self.workload_href = tail and bases[0] + tail + window_query
        ns_tail = _segments(pod.namespace)
        self.namespace_href = ns_tail and bases[1] + ns_tail + window_query


def _pod_workload(r) -> str:
    p = r.pod
    if not p.workload_name:
        return "<td>—</td>"
    text = escape(p.workload_name)
    link = f'<a href="{escape(r.workload_href)}" data-open>{text}</a>' if r.workload_href else text
    return f'<td title="{escape(p.workload_kind)}/{text}">{link}</td>'


POD_CELLS = {
    "namespace": lambda r: f"<td>{_link(r.namespace_href, escape(r.pod.namespace))}</td>",
    "name": lambda r: f'<td class="col-name"{_full_name(r.pod.name)}>{escape(r.pod.name)}</td>',
    "workload": _pod_workload,
    "status": lambda r: _pod_status(r.pod),
    "restarts": lambda r: _restarts(r.pod),
    "termination": lambda r: f"<td>{_termination(r.pod)}</td>",
    "age": lambda r: (
        f"<td>{short_duration(r.now - r.pod.created_at) if r.pod.created_at else '—'}</td>"
    ),
    "node": lambda r: (
        f'<td class="muted col-node"{_full_name(r.pod.node, 20)}>{escape(r.pod.node)}</td>'
    ),
    "proxy_version": lambda r: _proxy(r.pod),
    "proxy_memory": lambda r: _memory(r.pod),
    "cert": lambda r: f"<td>{_cert(r.pod, r.now)}</td>",
    "success_rate": lambda r: f"<td>{percent(r.pod.success_rate)}</td>",
    "rps": lambda r: f"<td>{rps(r.pod.rps)}</td>",
    "p99": lambda r: f"<td>{ms(r.pod.latency_ms_p99)}</td>",
}
_POD_CELLS = tuple(POD_CELLS[column.key] for column in POD_COLUMNS)


def pod_rows(pods, now: float, window_query: str = "") -> SafeString:
    """``<tr>`` elements for pods; their workload's page is the row's link."""
    if not pods:
        return _empty(POD_COLUMNS, "No pods match these filters.")
    bases = (reverse("workload_list"), reverse("namespace_list"))
    html = []
    for pod in pods:
        row = _PodRow(pod, now, bases, window_query)
        cells = "".join(cell(row) for cell in _POD_CELLS)
        problems = " ".join(escape(p) for p in pod.problems)
        html.append(
            f'<tr data-pod="{escape(pod.namespace)}/{escape(pod.name)}"'
            f' data-problems="{problems}">{cells}</tr>'
        )
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)


def _service_workloads(s, base: str, window_query: str) -> str:
    links = []
    for ref in s.workloads:
        kind, _, name = ref.partition("/")
        tail = _segments(s.namespace, kind, name)
        links.append(_link(tail and base + tail + window_query, escape(ref)))
    return ", ".join(links) or '<span class="muted">none</span>'


SERVICE_CELLS = {
    "health": lambda s, h: f"<td>{_health_badge(s)}</td>",
    "namespace": lambda s, h: f"<td>{escape(s.namespace)}</td>",
    "name": lambda s, h: (
        f'<td class="col-name"{_full_name(s.name)}>{_link(h[0], escape(s.name))}</td>'
    ),
    "workloads": lambda s, h: f"<td>{_service_workloads(s, h[1], h[2])}</td>",
    "ports": lambda s, h: f'<td class="muted">{escape(", ".join(s.ports))}</td>',
    "success_rate": lambda s, h: f"<td>{percent(s.success_rate)}</td>",
    "rps": lambda s, h: f"<td>{rps(s.rps)}</td>",
    "p99": lambda s, h: f"<td>{ms(s.latency_ms_p99)}</td>",
    "mtls": lambda s, h: f"<td>{percent(s.mtls_share)}</td>",
    "callers": lambda s, h: f"<td>{number(s.callers)}</td>",
}
_SERVICE_CELLS = tuple(SERVICE_CELLS[column.key] for column in SERVICE_COLUMNS)


def service_rows(services, window_query: str = "") -> SafeString:
    """``<tr>`` elements for Services, each linking its page."""
    if not services:
        return _empty(SERVICE_COLUMNS, "No services match these filters.")
    base = reverse("service_list")
    workload_base = reverse("workload_list")
    html = []
    for s in services:
        tail = _segments(s.namespace, s.name)
        links = (tail and base + tail + window_query, workload_base, window_query)
        cells = "".join(cell(s, links) for cell in _SERVICE_CELLS)
        html.append(f'<tr data-service="{escape(s.namespace)}/{escape(s.name)}">{cells}</tr>')
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)


def _side(namespace: str, kind: str, name: str, base: str, window_query: str) -> str:
    tail = kind and _segments(namespace, kind, name)
    text = f"{escape(namespace)}/{escape(name or 'unknown')}"
    return _link(tail and base + tail + window_query, text)


def edge_rows(edges, window_query: str = "") -> SafeString:
    """``<tr>`` elements for edges of the mTLS page (dashboard.bounded.EDGE_COLUMNS)."""
    if not edges:
        return _empty(EDGE_COLUMNS, "None in this window.")
    base = reverse("workload_list")
    html = []
    for e in edges:
        src = _side(e.src_namespace, e.src_kind, e.src_name, base, window_query)
        unmeshed = "" if e.src_meshed else ' <span class="muted">(unmeshed)</span>'
        dst = _side(e.dst_namespace, e.dst_kind, e.dst_name, base, window_query)
        html.append(
            f'<tr data-edge="{escape(e.src.id + ">" + e.dst.id)}">'
            f'<td class="col-name">{src}{unmeshed}</td><td class="col-name">{dst}</td>'
            f"<td>{escape(e.dst_service) or '—'}</td><td>{rps(e.rps)}</td>"
            f"<td>{percent(e.success_rate)}</td><td>{number(e.tcp_open_connections)}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)


def authz_rows(items, window_query: str = "") -> SafeString:
    """``<tr>`` elements for authorization decisions (dashboard.bounded.AUTHZ_COLUMNS)."""
    if not items:
        return _empty(AUTHZ_COLUMNS, "No authorization decisions in this window.")
    base = reverse("workload_list")
    html = []
    for a in items:
        who = _side(a.namespace, a.kind, a.name, base, window_query)
        server = f'{escape(a.server) or "—"} <span class="muted">{escape(a.server_kind)}</span>'
        policy = (
            f'{escape(a.policy)} <span class="muted">{escape(a.policy_kind)}</span>'
            if a.policy
            else '<span class="muted">none (denied)</span>'
        )
        denied = ' class="bad"' if a.denied else ""
        html.append(
            f'<tr data-authz="{escape(a.namespace)}/{escape(a.name)}/{escape(a.server)}">'
            f'<td class="col-name">{who}</td><td>{server}</td><td>{policy}</td>'
            f"<td>{rps(a.http_allowed_rps)} · tcp {rps(a.tcp_allowed_per_second)}</td>"
            f"<td{denied}>{rps(a.http_denied_rps)} · tcp {rps(a.tcp_denied_per_second)}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 (every value above is escaped)
