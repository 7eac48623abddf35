"""Geometry for the inline SVG the pages draw: sparklines, hour charts and the neighbourhood graph.

Pure functions returning coordinates; the templates turn them into SVG elements, so every
name that ends up in a chart is escaped by the template engine like any other text. The one
exception is the list rows' sparkline, written here whole (``sparkline_svg``) for the rows that
meshdash.dashboard.rows builds without templates: it holds only numbers this module formats.
"""

from dataclasses import dataclass, field

from meshdash.mesh.health import HEALTH_ORDER


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


def _spark_line(
    values: list[float | None], xs: list[int], low: float, high: float
) -> list[list[str]]:
    """Runs of "x,y" points in whole pixels; a None value breaks the line."""
    span = (high - low) or 1.0
    scale = (SPARK_HEIGHT - 2) / span
    lines, current = [], []
    for x, value in zip(xs, values, strict=True):
        if value is None:
            if current:
                lines.append(current)
            current = []
            continue
        clamped = min(max(value, low), high)
        current.append(f"{x},{round(SPARK_HEIGHT - 1 - (clamped - low) * scale)}")
    if current:
        lines.append(current)
    return lines


def sparkline_svg(history) -> str:
    """An inline SVG of RPS (scaled to its peak) and success rate (0-100 %), or "" without
    history. Sampled to ``SPARK_POINTS`` points, newest kept, to keep a 200-row page small."""
    if not history:
        return ""
    step = -(-len(history) // SPARK_POINTS)
    sample = history[len(history) - 1 :: -step][::-1]
    count = len(sample)
    xs = [round(1 + i * (SPARK_WIDTH - 2) / max(1, count - 1)) for i in range(count)]
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
    for css, values, low, high in (("rps", loads, 0.0, peak or 1.0), ("sr", rates, 0.0, 1.0)):
        for points in _spark_line(values, xs, low, high):
            if len(points) == 1:  # a lone sample: a short flat stroke
                x, y = points[0].split(",")
                points = [f"{int(x) - 1},{y}", f"{int(x) + 1},{y}"]
            parts.append(f'<polyline class="{css}" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Chart:
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


def hour_chart(
    history,
    attr: str,
    label: str,
    unit: str,
    *,
    zero_based: bool = True,
    ceiling: float | None = None,
    width: int = 360,
    height: int = 90,
) -> Chart:
    """One golden metric over the stored history (the last hour at one-minute resolution).

    ``ceiling`` fixes the top (a success rate tops at 100 %); the range then spans at least
    one percent of it.
    """
    samples = [(p.t, getattr(p, attr)) for p in history]
    values = [v for _, v in samples if v is not None]
    high = (ceiling if ceiling is not None else max(values)) if values else None
    low = (0.0 if zero_based else min(values)) if values else None
    if ceiling is not None and low is not None:
        low = min(low, ceiling - 0.01)  # a line just under the ceiling is not at the bottom
    elif high is not None and low is not None and high <= low:
        high = low + (abs(low) * 0.01 or 1.0)
    y_range = (low, high) if values else None
    return Chart(
        label=label,
        unit=unit,
        width=width,
        height=height,
        segments=polyline_segments(samples, width, height, y_range=y_range, pad=3.0),
        low=low,
        high=high,
        last=values[-1] if values else None,
        start=samples[0][0] if samples else None,
        end=samples[-1][0] if samples else None,
    )


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
