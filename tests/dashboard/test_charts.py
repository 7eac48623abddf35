import re

from meshdash.dashboard.charts import hour_chart, neighbourhood, polyline_segments, sparkline_svg
from meshdash.mesh.health import HealthRules, judge_edge
from meshdash.mesh.model import Edge
from meshdash.store import HistoryPoint
from tests.dashboard.known import named_workloads


def test_it_scales_points_into_the_box():
    assert polyline_segments([(0, 0.0), (10, 5.0), (20, 10.0)], 22, 12) == [
        "1.0,11.0 11.0,6.0 21.0,1.0"
    ]


def test_it_breaks_the_line_where_values_are_missing():
    segments = polyline_segments([(0, 1.0), (1, 2.0), (2, None), (3, 2.0), (4, 1.0)], 10, 10)
    assert len(segments) == 2


def test_it_draws_a_lone_point_as_a_short_stroke():
    (segment,) = polyline_segments([(0, None), (1, 3.0), (2, None)], 10, 10)
    assert len(segment.split()) == 2


def test_it_has_no_sparkline_without_history():
    assert sparkline_svg([]) == ""
    assert sparkline_svg(None) == ""


def _lines(svg: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for css, points in re.findall(r'<polyline class="(\w+)" points="([^"]+)"/>', svg):
        found.setdefault(css, []).append(points)
    return found


def test_it_scales_rps_to_its_peak_and_success_to_the_whole_height():
    history = [
        HistoryPoint(t=60 * i, success_rate=1.0, rps=float(i), latency_ms_p99=1.0) for i in range(3)
    ]
    svg = sparkline_svg(history)
    assert _lines(svg) == {"rps": ["1,21 48,11 95,1"], "sr": ["1,1 48,1 95,1"]}
    assert "<title>peak 2.0 rps, min 100.0 %</title>" in svg


def test_it_samples_an_hour_down_and_keeps_the_newest_point():
    history = [
        HistoryPoint(t=60 * i, success_rate=None, rps=float(i), latency_ms_p99=None)
        for i in range(60)
    ]
    (rps,) = _lines(sparkline_svg(history))["rps"]
    points = rps.split()
    assert len(points) <= 24 and points[-1] == "95,1"
    assert "sr" not in _lines(sparkline_svg(history))


def test_it_breaks_the_sparkline_at_gaps_and_draws_lone_points():
    history = [
        HistoryPoint(t=60 * i, success_rate=rate, rps=1.0, latency_ms_p99=None)
        for i, rate in enumerate([1.0, None, 0.5, 0.5])
    ]
    assert _lines(sparkline_svg(history))["sr"] == ["0,1 2,1", "64,11 95,11"]


def test_it_charts_an_hour_with_its_range_and_last_value():
    history = [
        HistoryPoint(t=60 * i, success_rate=None, rps=float(i), latency_ms_p99=None)
        for i in range(60)
    ]
    chart = hour_chart(history, "rps", "RPS", "rps")
    assert (chart.low, chart.high, chart.last) == (0.0, 59.0, 59.0)
    assert hour_chart(history, "latency_ms_p99", "P99", "ms").segments == []


def _judged(edge: Edge) -> Edge:
    """The edge as the collector stores it, its health judged."""
    edge.health = judge_edge(HealthRules(), edge)
    return edge


def _edge(i, **kwargs):
    return _judged(
        Edge(f"ns{i}", "deployment", f"caller-{i}", "shop", "deployment", "frontend", **kwargs)
    )


def test_it_lays_out_thirty_callers_without_overlap_and_worst_first():
    frontend = named_workloads()[0]
    callers = [_edge(i, rps=float(i + 1), success_rate=1.0) for i in range(29)]
    callers.append(_edge(99, rps=5.0, success_rate=0.5))
    graph = neighbourhood(frontend, callers, [])
    assert len(graph.callers) == 30
    assert graph.callers[0].key.name == "caller-99"  # critical first
    assert graph.callers[1].key.name == "caller-28"  # then the busiest
    tops = [node.y for node in graph.callers]
    assert all(b - a >= graph.node_height for a, b in zip(tops, tops[1:], strict=False))
    assert tops[-1] + graph.node_height <= graph.height
    assert graph.callers[0].x + graph.node_width < graph.center.x


def test_it_caps_each_side_and_counts_the_rest():
    frontend = named_workloads()[0]
    callees = [
        _judged(Edge("shop", "deployment", "frontend", "x", "deployment", f"d{i}", rps=1.0))
        for i in range(50)
    ]
    graph = neighbourhood(frontend, [], callees, max_side=40)
    assert (len(graph.callees), graph.hidden_callees, graph.hidden_callers) == (40, 10, 0)
    assert graph.callees[0].x > graph.center.x + graph.node_width


def test_it_tops_success_charts_at_one_hundred_percent():
    history = [
        HistoryPoint(t=60 * i, success_rate=0.999, rps=1.0, latency_ms_p99=1.0) for i in range(3)
    ]
    chart = hour_chart(history, "success_rate", "Success", "%", zero_based=False, ceiling=1.0)
    assert (round(chart.low, 3), chart.high) == (0.99, 1.0)
    varied = [HistoryPoint(t=0, success_rate=0.5, rps=1.0, latency_ms_p99=1.0), *history]
    chart = hour_chart(varied, "success_rate", "Success", "%", zero_based=False, ceiling=1.0)
    assert (chart.low, chart.high) == (0.5, 1.0)


def test_it_draws_the_health_the_collector_judged_and_ranks_unjudged_edges_last():
    frontend = named_workloads()[0]
    unjudged = Edge("ns0", "deployment", "old", "shop", "deployment", "frontend", rps=500.0)
    # A judgement the web process could not have made itself from these figures.
    judged = Edge("ns1", "deployment", "new", "shop", "deployment", "frontend", rps=1.0)
    judged.health = "warning"
    graph = neighbourhood(frontend, [unjudged, judged], [])
    assert [(n.key.name, n.health) for n in graph.callers] == [("new", "warning"), ("old", "")]
