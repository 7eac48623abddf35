"""Geometry for the inline SVG the pages draw: sparklines, history charts and the neighbourhood
graph.

Pure functions returning coordinates; the templates turn them into SVG elements, so every
name that ends up in a chart is escaped by the template engine like any other text. The one
exception is the list rows' sparkline, written here whole (``sparkline_svg``) for the rows that
meshdash.dashboard.rows builds without templates: it holds only numbers this module formats.
"""

import operator
import time
from dataclasses import dataclass, field

from meshdash.lib.templatetags.meshdash import bytes_, ms, number, percent, rps
from meshdash.mesh.health import HEALTH_ORDER
from meshdash.store.store import HISTORY_MINUTES


def _scale(value: float, low: float, high: float, size: float) -> float:
    if high <= low:
        return size / 2
    return (value - low) / (high - low) * size


def polyline_segments(
    points: list[tuple[float, float | None]],
    width: float,
    height: float,
    *,
    t_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    pad: float = 1.0,
) -> list[str]:
    """SVG ``points`` strings for (t, y) samples; a None y breaks the line into segments."""
    known = [(t, y) for t, y in points if y is not None]
    if not known:
        return []
    t_low, t_high = t_range or (min(t for t, _ in points), max(t for t, _ in points))
    y_low, y_high = y_range or (min(y for _, y in known), max(y for _, y in known))
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    segments: list[str] = []
    current: list[str] = []
    for t, y in points:
        if y is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        x = pad + _scale(t, t_low, t_high, inner_w)
        y_px = pad + inner_h - _scale(min(max(y, y_low), y_high), y_low, y_high, inner_h)
        current.append(f"{x:.1f},{y_px:.1f}")
    if current:
        segments.append(" ".join(current))
    # A single sample draws nothing as a polyline: widen it to a short flat stroke.
    return [seg if " " in seg else _flat(seg) for seg in segments]


def _flat(point: str) -> str:
    x, y = (float(part) for part in point.split(","))
    return f"{x - 1.5:.1f},{y:.1f} {x + 1.5:.1f},{y:.1f}"


SPARK_WIDTH, SPARK_HEIGHT, SPARK_POINTS = 96, 22, 16
# The span a sparkline's x axis covers, ending at its newest point: the Redis history's hour.
SPARK_SPAN_SECONDS = (HISTORY_MINUTES - 1) * 60
# Success rates are drawn on 90-100 %, lower ones at the bottom: a sparkline 22 pixels high on
# 0-100 % draws a 99 -> 95 % dip as one pixel, on this scale as eight.
SPARK_SUCCESS_FLOOR = 0.9


def _spark_line(
    values: list[float | None], xs: list[int], breaks: set[int], low: float, high: float
) -> list[list[str]]:
    """Runs of "x,y" points in whole pixels; a None value, or an index in ``breaks`` (a
    missing stretch of time before it), breaks the line."""
    span = (high - low) or 1.0
    scale = (SPARK_HEIGHT - 2) / span
    lines, current = [], []
    for i, (x, value) in enumerate(zip(xs, values, strict=True)):
        if (value is None or i in breaks) and current:
            lines.append(current)
            current = []
        if value is None:
            continue
        clamped = min(max(value, low), high)
        current.append(f"{x},{round(SPARK_HEIGHT - 1 - (clamped - low) * scale)}")
    if current:
        lines.append(current)
    return lines


def sparkline_svg(history) -> str:
    """An inline SVG of RPS (scaled to its peak) and success rate (on 90-100 %) against time,
    the last hour up to the newest point, or "" without history.

    Sampled to ``SPARK_POINTS`` points, newest kept, to keep a 200-row page small; a stretch
    without points (more than one and a half times the sample's closest spacing) is a gap.
    """
    if not history:
        return ""
    step = -(-len(history) // SPARK_POINTS)
    sample = history[len(history) - 1 :: -step][::-1]
    times = [p.t for p in sample]
    since = times[-1] - SPARK_SPAN_SECONDS
    x_scale = (SPARK_WIDTH - 2) / SPARK_SPAN_SECONDS
    xs = [round(1 + (t - since) * x_scale) if t > since else 1 for t in times]
    breaks: set[int] = set()
    if len(times) > 1:
        spacings = [b - a for a, b in zip(times, times[1:], strict=False)]
        limit = 1.5 * (min(spacings) or 60)
        breaks = {i for i, d in enumerate(spacings, 1) if d > limit}
    rates = [p.success_rate for p in sample]
    loads = [p.rps for p in sample]
    peak = max((v for v in loads if v is not None), default=0.0)
    known_rates = [v for v in rates if v is not None]
    low_rate = f"{min(known_rates) * 100:.1f} %" if known_rates else "n/a"
    title = f"peak {peak:.1f} rps, min {low_rate}"
    parts = [
        f'<svg class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img">'
        f"<title>{title}</title>"
    ]
    for css, values, low, high in (
        ("rps", loads, 0.0, peak or 1.0),
        ("sr", rates, SPARK_SUCCESS_FLOOR, 1.0),
    ):
        for points in _spark_line(values, xs, breaks, low, high):
            if len(points) == 1:  # a lone sample: a short flat stroke
                x, y = points[0].split(",")
                points = [f"{int(x) - 1},{y}", f"{int(x) + 1},{y}"]
            parts.append(f'<polyline class="{css}" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)


# Tick spacings a time axis picks from, the smallest that keeps the labels apart.
TICK_STEPS = (
    60,
    300,
    600,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
)
TICK_MIN_PIXELS = 70  # between two labels ("23:45", "Dec 31")
DAY = 86400


@dataclass
class Tick:
    x: float
    t: int  # unix seconds; the browser relabels (and re-places) ticks in its local time
    label: str  # in UTC, for a browser without scripts


@dataclass
class Marker:
    x: float
    t: int  # unix seconds
    label: str  # what happened, e.g. "rollout"


def _cores(value) -> str:
    return number(None) if value is None else f"{value * 1000:,.0f} m"


def _days(value) -> str:
    return number(None) if value is None else f"{value:,.1f} d"


# How a chart's unit is written; any other unit is a plain number.
UNIT_FORMATS = {"%": percent, "ms": ms, "rps": rps, "bytes": bytes_, "cores": _cores, "d": _days}


@dataclass
class Chart:
    """One metric over a time range, ready for templates/dashboard/_history_chart.html.

    The plot area is ``left``..``width - right`` by ``top``..``height - bottom``; below it the
    time axis.
    """

    label: str
    unit: str
    width: int
    height: int
    segments: list[str]
    low: float | None
    high: float | None
    last: float | None
    start: float | None
    end: float | None
    ticks: list[Tick] = field(default_factory=list)
    tick_step: int = 0
    markers: list[Marker] = field(default_factory=list)
    points_drawn: int = 0
    top: int = 3
    bottom: int = 3
    left: int = 3
    right: int = 3

    def _text(self, value) -> str:
        return UNIT_FORMATS.get(self.unit, number)(value)

    @property
    def high_text(self) -> str:
        return self._text(self.high)

    @property
    def low_text(self) -> str:
        return self._text(self.low)

    @property
    def last_text(self) -> str:
        return self._text(self.last)

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.top


def _runs(samples, step: float | None) -> list[list[tuple[float, float]]]:
    """(t, y) samples split where a value is missing or, with ``step``, where time passes
    without a point for more than one and a half steps."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    previous_t = None
    for t, y in samples:
        gap = step and previous_t is not None and t - previous_t > 1.5 * step
        if (y is None or gap) and current:
            runs.append(current)
            current = []
        previous_t = t
        if y is not None:
            current.append((t, y))
    if current:
        runs.append(current)
    return runs


def _per_pixel(run, start: float, span: float, columns: int) -> list[tuple[float, float]]:
    """At most two samples per pixel column, the lowest and the highest in time order: a run
    of thousands of points draws the same shape, dips and spikes included, in a few hundred."""
    kept: list[tuple[float, float]] = []
    column_of = None
    bucket: list[tuple[float, float]] = []

    def flush():
        if len(bucket) <= 2:
            kept.extend(bucket)
            return
        low, high = min(bucket, key=lambda s: s[1]), max(bucket, key=lambda s: s[1])
        kept.extend(sorted({low, high}))

    for sample in run:
        column = int((sample[0] - start) / span * columns) if span else 0
        if column != column_of and bucket:
            flush()
            bucket = []
        column_of = column
        bucket.append(sample)
    if bucket:
        flush()
    return kept


def _utc_label(t: int, step: int) -> str:
    format_ = "%b %-d" if step >= DAY else "%H:%M"
    return time.strftime(format_, time.gmtime(t))


def time_ticks(start: float, end: float, width: float) -> tuple[int, list[int]]:
    """The tick spacing for ``start``..``end`` drawn ``width`` pixels wide, and the ticks in
    UTC (whole multiples of the spacing)."""
    span = end - start
    wanted = max(1, int(width // TICK_MIN_PIXELS))
    step = next((s for s in TICK_STEPS if span / s <= wanted), TICK_STEPS[-1])
    first = -(-int(start) // step) * step
    return step, list(range(first, int(end) + 1, step))


def history_chart(
    points,
    attr: str,
    label: str,
    unit: str,
    *,
    start: float | None = None,
    end: float | None = None,
    step: float | None = None,
    markers=(),
    zero_based: bool = True,
    ceiling: float | None = None,
    width: int = 360,
    height: int = 110,
) -> Chart:
    """One metric of ``points`` (oldest first, each with ``t`` and ``attr``, the name of an
    attribute or a function of a point) over
    ``start``..``end`` (the points' own span by default).

    ``step`` is the points' resolution: more than one and a half steps without a point is a
    gap, drawn as one. ``ceiling`` fixes the top (a success rate tops at 100 %); the range then
    spans at least one percent of it. ``markers`` are (unix seconds, label) pairs drawn as
    vertical lines (rollouts). At most two points per pixel column are drawn.
    """
    value_of = attr if callable(attr) else operator.attrgetter(attr)
    samples = [(p.t, value_of(p)) for p in points]
    values = [v for _, v in samples if v is not None]
    high = (ceiling if ceiling is not None else max(values)) if values else None
    low = (0.0 if zero_based else min(values)) if values else None
    if ceiling is not None and low is not None:
        low = min(low, ceiling - 0.01)  # a line just under the ceiling is not at the bottom
    elif high is not None and low is not None and high <= low:
        high = low + (abs(low) * 0.01 or 1.0)
    if start is None:
        start = samples[0][0] if samples else None
    if end is None:
        end = samples[-1][0] if samples else None
    chart = Chart(
        label=label,
        unit=unit,
        width=width,
        height=height,
        segments=[],
        low=low,
        high=high,
        last=values[-1] if values else None,
        start=start,
        end=end,
        bottom=16,
    )
    if start is None or end is None:
        return chart
    span = end - start
    inner_w = chart.plot_width
    inner_h = chart.plot_bottom - chart.top
    for run in _runs([s for s in samples if start <= s[0] <= end], step):
        drawn = _per_pixel(run, start, span, inner_w)
        chart.points_drawn += len(drawn)
        if values:
            chart.segments.extend(
                polyline_segments(
                    drawn,
                    inner_w + 2 * chart.left,
                    inner_h + 2 * chart.top,
                    t_range=(start, end),
                    y_range=(low, high),
                    pad=chart.left,
                )
            )

    def x_of(t: float) -> float:
        return round(chart.left + _scale(t, start, end, inner_w), 1)

    chart.tick_step, ticks = time_ticks(start, end, inner_w)
    chart.ticks = [Tick(x=x_of(t), t=t, label=_utc_label(t, chart.tick_step)) for t in ticks]
    chart.markers = [
        Marker(x=x_of(t), t=int(t), label=text) for t, text in markers if start <= t <= end
    ]
    return chart


@dataclass(frozen=True)
class ChartSpec:
    """What one chart of a series draws: ``value`` is an attribute name or a function of a
    point."""

    value: object
    label: str
    unit: str
    zero_based: bool = True
    ceiling: float | None = None


def _cert_days_left(point) -> float | None:
    expiry = point.cert_expiry
    return None if expiry is None else (expiry - point.t) / DAY


WORKLOAD_CHARTS = (
    ChartSpec("success_rate", "Success rate", "%", zero_based=False, ceiling=1.0),
    ChartSpec("rps", "Requests per second", "rps"),
    ChartSpec("p99", "P99 latency", "ms"),
    ChartSpec("tcp_connections", "TCP connections", ""),
)
# Memory is not drawn from zero: a creep of a megabyte a week on 20 MB must show.
POD_CHARTS = (
    ChartSpec("memory_bytes", "Proxy memory", "bytes", zero_based=False),
    ChartSpec("cpu_cores", "Proxy CPU", "cores"),
    ChartSpec(_cert_days_left, "Leaf certificate: days left", "d"),
    ChartSpec("restarts", "Restarts", ""),
)


def series_charts(series, specs, *, width: int = 360, height: int = 110) -> list[Chart]:
    """A chart per spec of one history series (``start``, ``end``, ``step``, ``points``
    oldest first, ``deploys``: rollout times drawn as markers)."""
    markers = [(t, "rollout") for t in series.deploys]
    return [
        history_chart(
            series.points,
            spec.value,
            spec.label,
            spec.unit,
            start=series.start,
            end=series.end,
            step=series.step,
            markers=markers,
            zero_based=spec.zero_based,
            ceiling=spec.ceiling,
            width=width,
            height=height,
        )
        for spec in specs
    ]


@dataclass
class GraphNode:
    key: object  # WorkloadKey
    label: str
    x: float
    y: float
    health: str
    rps: float
    success_rate: float | None
    tls: bool
    path: str = ""  # the curve linking this node to the centre


@dataclass
class Graph:
    width: int
    height: int
    node_width: int
    node_height: int
    center: GraphNode
    center_height: int
    callers: list[GraphNode] = field(default_factory=list)
    callees: list[GraphNode] = field(default_factory=list)
    hidden_callers: int = 0
    hidden_callees: int = 0


def _label(key, center_namespace: str, limit: int = 34) -> str:
    text = key.name if key.namespace == center_namespace else f"{key.namespace}/{key.name}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Where an edge without a judged health ranks (one from a snapshot written before edges carried
# it): after every state.
UNJUDGED = len(HEALTH_ORDER)


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (x1 + x2) / 2
    return f"M{x1:.0f},{y1:.1f} C{mid:.0f},{y1:.1f} {mid:.0f},{y2:.1f} {x2:.0f},{y2:.1f}"


def neighbourhood(
    workload,
    callers,
    callees,
    *,
    max_side: int = 40,
    width: int = 1000,
    row: int = 22,
    node_width: int = 250,
) -> Graph:
    """Callers in a column on the left, callees on the right, the workload in the middle.

    Each side is ordered worst first (by the health the collector judged each edge to have),
    then busiest, and cut at ``max_side`` nodes so that a hub with hundreds of neighbours still
    draws a readable graph; the cut is reported.
    """
    node_height, center_height = row - 4, 40

    def side(edges):
        ranked = sorted(
            edges, key=lambda e: (HEALTH_ORDER.get(e.health, UNJUDGED), -(e.rps or 0.0))
        )
        return ranked[:max_side], max(0, len(ranked) - max_side)

    left, hidden_left = side(callers)
    right, hidden_right = side(callees)
    height = max(len(left), len(right), 2) * row + 16
    center_x = (width - node_width) / 2
    center_y = height / 2

    def column(edges, x, pick_key, inbound: bool):
        top = (height - len(edges) * row) / 2 + 2
        nodes = []
        for i, edge in enumerate(edges):
            key = pick_key(edge)
            y = top + i * row
            mid_y = y + node_height / 2
            if inbound:
                path = _curve(x + node_width, mid_y, center_x, center_y)
            else:
                path = _curve(center_x + node_width, center_y, x, mid_y)
            nodes.append(
                GraphNode(
                    key=key,
                    label=_label(key, workload.namespace),
                    x=x,
                    y=y,
                    health=edge.health,
                    rps=edge.rps or 0.0,
                    success_rate=edge.success_rate,
                    tls=edge.tls,
                    path=path,
                )
            )
        return nodes

    center = GraphNode(
        key=workload.key,
        label=_label(workload.key, workload.namespace),
        x=center_x,
        y=center_y - center_height / 2,
        health=workload.health,
        rps=workload.rps,
        success_rate=workload.success_rate,
        tls=True,
    )
    return Graph(
        width=width,
        height=int(height),
        node_width=node_width,
        node_height=node_height,
        center=center,
        center_height=center_height,
        callers=column(left, 2, lambda e: e.src, inbound=True),
        callees=column(right, width - node_width - 2, lambda e: e.dst, inbound=False),
        hidden_callers=hidden_left,
        hidden_callees=hidden_right,
    )
