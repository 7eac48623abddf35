"""The workload page's history charts and neighbourhood graph as HTML, built with format
strings instead of the template engine.

As templates (one include per chart, per graph node, a tick loop per chart) they were a third
of a workload page's rendering. The markup is the templates' own, character for character
(``tests/dashboard/test_svg_html.py`` renders the reference templates beside these), and
every text goes through ``escape`` as autoescaping would escape it.
"""

from django.template.defaultfilters import floatformat, slugify
from django.utils.safestring import SafeString, mark_safe

from meshdash.lib.escaping import escape as _e
from meshdash.lib.templatetags.meshdash import (
    edge_traces_href,
    ms,
    number,
    percent,
    rps,
    unix_iso,
    workload_href,
)


def history_chart_html(chart) -> SafeString:
    """One ``meshdash.dashboard.charts.Chart`` as ``<figure>``."""
    label = _e(chart.label)
    last = (
        f' <span class="muted">· last {_e(chart.last_text)}</span>'
        if chart.last is not None
        else ""
    )
    head = (
        f'\n<figure class="chart" data-chart="{slugify(chart.label)}">\n'
        f"  <figcaption>{label}{last}</figcaption>\n  "
    )
    if chart.start is None:
        return mark_safe(  # noqa: S308 (every value is escaped)
            head + '<p class="muted empty-chart">No history yet.</p>\n</figure>\n'
        )
    top, bottom, left = chart.top, chart.plot_bottom, chart.left
    ticks = "".join(
        f'<g class="tick" data-t="{_e(tick.t)}"><line x1="{_e(tick.x)}" x2="{_e(tick.x)}" '
        f'y1="{top}" y2="{bottom}"/><text class="axis" x="{_e(tick.x)}" y="{bottom + 12}" '
        f'text-anchor="middle">{_e(tick.label)}<title>{_e(unix_iso(tick.t))}</title></text></g>'
        for tick in chart.ticks
    )
    segments = "".join(f'<polyline class="line" points="{_e(seg)}"/>' for seg in chart.segments)
    markers = "".join(
        f'<line class="marker" x1="{_e(m.x)}" x2="{_e(m.x)}" y1="{top}" y2="{bottom}" '
        f'data-marker-t="{_e(m.t)}" data-marker-label="{_e(m.label)}"><title>{_e(m.label)} at '
        f"{_e(unix_iso(m.t))}</title></line>"
        for m in chart.markers
    )
    if chart.high is not None:
        scale = (
            f'\n    <text class="axis" x="{left + 3}" y="12">{_e(chart.high_text)}</text>\n'
            f'    <text class="axis" x="{left + 3}" y="{bottom - 4}">{_e(chart.low_text)}</text>\n'
            "    "
        )
    else:
        scale = (
            f'<text class="axis" x="{left + 6}" y="{bottom - 8}">No points in this range.</text>'
        )
    width, height = _e(chart.width), _e(chart.height)
    svg = (
        f'\n  <svg class="history-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}"\n'
        f'       data-start="{floatformat(chart.start, "0u")}" '
        f'data-end="{floatformat(chart.end, "0u")}" data-tick="{_e(chart.tick_step)}"\n'
        f'       data-left="{left}" data-top="{top}" data-plot-width="{chart.plot_width}" '
        f'data-plot-bottom="{bottom}" data-points="{_e(chart.points_drawn)}">\n'
        f'    <rect class="frame" x="{left}" y="{top}" width="{chart.plot_width}" '
        f'height="{chart.plot_height}"/>\n'
        f'    <g class="ticks">{ticks}</g>\n'
        f"    {segments}\n"
        f"    {markers}\n"
        f"    {scale}\n"
        "  </svg>\n  "
    )
    return mark_safe(head + svg + "\n</figure>\n")  # noqa: S308 (every value is escaped)


def _add(value, number: int):
    """The ``add`` filter on a coordinate: ``int()`` of it plus ``number``."""
    return int(value) + number


def _node_html(context, graph, n) -> str:
    href = workload_href(context, n.key)
    key = n.key
    link = f' href="{_e(href)}"' if href else ""
    return (
        f'\n<a{link} class="node h-{_e(n.health or "unknown")}"><title>{_e(key.kind)} '
        f"{_e(key.namespace)}/{_e(key.name)}: {percent(n.success_rate)}, {rps(n.rps)} rps</title>\n"
        f'  <rect x="{_e(n.x)}" y="{_e(n.y)}" width="{_e(graph.node_width)}" '
        f'height="{_e(graph.node_height)}" rx="3"/>\n'
        f'  <text x="{_add(n.x, 6)}" y="{_add(n.y, 13)}">{_e(n.label)}</text>\n'
        f'  <text class="metric" x="{_add(n.x, int(graph.node_width)) - 6}" y="{_add(n.y, 13)}" '
        f'text-anchor="end">{rps(n.rps)}</text>\n</a>\n'
    )


def _link_html(n) -> str:
    plain = "" if n.tls else " plain"
    return f'<path class="link h-{_e(n.health or "unknown")}{plain}" d="{_e(n.path)}"/>'


def neighbourhood_html(context, graph) -> SafeString:
    """A ``meshdash.dashboard.charts.Graph``: callers, the workload, callees; the nodes link to
    their workload pages in the page's window (``context["window_params"]``)."""
    g, c = graph, graph.center
    nodes = (
        "".join(_node_html(context, g, n) for n in g.callers),
        "".join(_node_html(context, g, n) for n in g.callees),
    )
    hidden = (
        f'<p class="muted">The graph shows the least healthy and busiest neighbours; '
        f"{_e(g.hidden_callers)} more callers and {_e(g.hidden_callees)} more callees are in "
        "the tables below.</p>"
        if g.hidden_callers or g.hidden_callees
        else ""
    )
    html = (
        f'\n\n<svg class="graph" viewBox="0 0 {_e(g.width)} {_e(g.height)}" width="100%" '
        'role="img" aria-label="Callers on the left, callees on the right">\n'
        f"  {''.join(_link_html(n) for n in g.callers)}\n"
        f"  {''.join(_link_html(n) for n in g.callees)}\n"
        f"  {nodes[0]}\n"
        f"  {nodes[1]}\n"
        "  \n"
        f'  <g class="node center h-{_e(c.health or "unknown")}">\n'
        f'    <rect x="{_e(c.x)}" y="{_e(c.y)}" width="{_e(g.node_width)}" '
        f'height="{_e(g.center_height)}" rx="4"/>\n'
        f'    <text x="{_add(c.x, 8)}" y="{_add(c.y, 16)}">{_e(c.label)}</text>\n'
        f'    <text class="metric" x="{_add(c.x, 8)}" y="{_add(c.y, 32)}">'
        f"{percent(c.success_rate)} · {rps(c.rps)} rps</text>\n"
        "  </g>\n"
        "  \n"
        "</svg>\n"
        f"{hidden}\n\n"
    )
    return mark_safe(html)  # noqa: S308 (every value is escaped)


_LOCK_ICON = (
    '<svg class="lock-icon" width="12" height="14" viewBox="0 0 12 14" aria-hidden="true">'
    '<path d="M3.5 6.5V4.2a2.5 2.5 0 0 1 5 0v2.3"/>'
    '<rect x="1" y="6" width="10" height="7.5" rx="1.5"/></svg>'
)


def _edge_row_html(context, edge, key, side: str, center_namespace) -> str:
    namespace, kind, name = _e(key.namespace), _e(key.kind), _e(key.name)
    href = workload_href(context, key)
    if href:
        prefix = f"{namespace}/" if key.namespace != center_namespace else ""
        shown = f'<a href="{_e(href)}">{prefix}{name}</a>'
    else:
        shown = f"{namespace}/{_e(key.name or 'unknown')}"
    unmeshed = "" if edge.src_meshed else ' <span class="muted">(unmeshed)</span>'
    traces = edge_traces_href(edge)
    traces = (
        f' <a class="traces" href="{_e(traces)}" rel="noopener noreferrer" target="_blank" '
        "data-traces>traces</a>"
        if traces
        else ""
    )
    if edge.tcp_only:
        open_now = number(edge.tcp_open_connections)
        volume = (
            f'<span class="muted" title="TCP only: {open_now} connections open, '
            f'{rps(edge.tcp_opened_per_second)} opened per second" data-tcp-edge>'
            f"TCP · {open_now} conn</span>"
        )
    else:
        volume = rps(edge.rps)
    if edge.tls:
        client, server = _e(edge.client_id or "unknown"), _e(edge.server_id or "unknown")
        tls = (
            f'<span class="lock" title="mTLS&#10;client: {client}&#10;server: {server}" '
            f'aria-label="mTLS: client {client}, server {server}">{_LOCK_ICON} mTLS</span>'
        )
    else:
        tls = '<span class="bad" title="Not encrypted by the mesh">open</span>'
    identity = edge.client_id if side == "src" else edge.server_id
    identity_cell = f'<td class="identity" title="{_e(identity)}">{_e(identity or "—")}</td>'
    return (
        f'\n<tr data-edge="{namespace}/{kind}/{name}">\n'
        f'  <td class="col-name" title="{kind} {namespace}/{name}">{shown}{unmeshed}{traces}</td>\n'
        f'  <td class="num">{percent(edge.success_rate)}</td>\n'
        f'  <td class="num">{volume}</td>\n'
        f'  <td class="num">{ms(edge.latency_ms_p99)}</td>\n'
        f'  <td class="tls">{tls}</td>\n'
        f"  {identity_cell}{chr(10) + '  ' if side == 'src' else ''}\n"
        "</tr>\n"
    )


def edges_table_html(context, edges, side: str) -> SafeString:
    """A workload's (or a Service's) callers (``side`` "src": rows name the client) or callees
    ("dst"), as the edges table. Names link to their workload pages in the page's window."""
    workload = context.get("workload")
    center_namespace = getattr(workload, "namespace", "")
    rows = "".join(
        "\n  "
        + _edge_row_html(
            context, edge, edge.src if side == "src" else edge.dst, side, center_namespace
        )
        + ("\n  " if side == "src" else "")
        + "\n  "
        for edge in edges
    )
    if not edges:
        rows = '\n  <tr><td colspan="6" class="empty">None seen in this window.</td></tr>\n  '
    who = "Client" if side == "src" else "Server"
    return mark_safe(  # noqa: S308 (every value is escaped)
        '\n<table class="compact edges">\n'
        '  <thead><tr><th>Workload</th><th class="num">Success</th><th class="num">RPS</th>'
        '<th class="num">P99</th><th title="mTLS">TLS</th>'
        f"<th>{who} identity</th></tr></thead>\n"
        f"  <tbody>\n  {rows}\n  </tbody>\n</table>\n"
    )
