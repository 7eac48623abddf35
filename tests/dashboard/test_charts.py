import re

from meshdash.dashboard.charts import (
    history_chart,
    neighbourhood,
    polyline_segments,
    sparkline_svg,
)
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


def test_it_scales_rps_to_its_peak_and_success_to_ninety_to_a_hundred_percent():
    history = [
        HistoryPoint(t=60 * i, success_rate=1.0, rps=float(i), latency_ms_p99=1.0) for i in range(3)
    ]
    svg = sparkline_svg(history)
    # Three minutes at the right end of the hour: drawn against time, not spread by index.
    assert _lines(svg) == {"rps": ["92,21 93,11 95,1"], "sr": ["92,1 93,1 95,1"]}
    assert "<title>peak 2.0 rps, min 100.0 %</title>" in svg


def test_it_draws_a_sparkline_across_the_hour_against_time():
    history = [
        HistoryPoint(t=t, success_rate=1.0, rps=1.0, latency_ms_p99=None) for t in (0, 60, 3540)
    ]
    (first, last) = _lines(sparkline_svg(history))["sr"]
    assert first.split()[0] == "1,1" and last.split()[-1] == "96,1"


def test_it_shows_a_dip_from_99_to_95_percent_as_several_pixels():
    history = [
        HistoryPoint(t=60 * i, success_rate=rate, rps=1.0, latency_ms_p99=None)
        for i, rate in enumerate([0.99, 0.95, 0.99])
    ]
    (line,) = _lines(sparkline_svg(history))["sr"]
    heights = [int(point.split(",")[1]) for point in line.split()]
    assert heights[1] - heights[0] >= 6 and heights[0] == heights[2]


def test_it_breaks_the_sparkline_where_minutes_are_missing():
    history = [
        HistoryPoint(t=t, success_rate=1.0, rps=1.0, latency_ms_p99=None)
        for t in (0, 60, 120, 600, 660)
    ]
    assert len(_lines(sparkline_svg(history))["sr"]) == 2


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
    assert _lines(sparkline_svg(history))["sr"] == ["89,1 91,1", "93,21 95,21"]


def test_it_charts_an_hour_with_its_range_and_last_value():
    history = [
        HistoryPoint(t=60 * i, success_rate=None, rps=float(i), latency_ms_p99=None)
        for i in range(60)
    ]
    chart = history_chart(history, "rps", "RPS", "rps", step=60)
    assert (chart.low, chart.high, chart.last) == (0.0, 59.0, 59.0)
    assert history_chart(history, "latency_ms_p99", "P99", "ms", step=60).segments == []


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
    chart = history_chart(history, "success_rate", "Success", "%", zero_based=False, ceiling=1.0)
    assert (round(chart.low, 3), chart.high) == (0.99, 1.0)
    varied = [HistoryPoint(t=0, success_rate=0.5, rps=1.0, latency_ms_p99=1.0), *history]
    chart = history_chart(varied, "success_rate", "Success", "%", zero_based=False, ceiling=1.0)
    assert (chart.low, chart.high) == (0.5, 1.0)


def test_it_draws_the_health_the_collector_judged_and_ranks_unjudged_edges_last():
    frontend = named_workloads()[0]
    unjudged = Edge("ns0", "deployment", "old", "shop", "deployment", "frontend", rps=500.0)
    # A judgement the web process could not have made itself from these figures.
    judged = Edge("ns1", "deployment", "new", "shop", "deployment", "frontend", rps=1.0)
    judged.health = "warning"
    graph = neighbourhood(frontend, [unjudged, judged], [])
    assert [(n.key.name, n.health) for n in graph.callers] == [("new", "warning"), ("old", "")]


def _points(times, value=lambda t: 1.0):
    return [HistoryPoint(t=t, success_rate=None, rps=value(t), latency_ms_p99=None) for t in times]


def test_it_draws_a_missing_stretch_of_time_as_a_gap():
    times = [*range(0, 600, 60), *range(1200, 1800, 60)]
    chart = history_chart(_points(times), "rps", "RPS", "rps", start=0, end=1800, step=60)
    assert len(chart.segments) == 2
    first_end = float(chart.segments[0].split()[-1].split(",")[0])
    second_start = float(chart.segments[1].split()[0].split(",")[0])
    assert second_start - first_end > chart.plot_width / 3


def test_it_draws_at_most_two_points_per_pixel_and_keeps_the_dips():
    day = range(0, 86400 * 30, 60)  # a month at one minute: 43,200 points
    dip = 86400 * 15

    def value(t):
        return 0.5 if t == dip else 1.0

    chart = history_chart(
        _points(day, value),
        "rps",
        "RPS",
        "rps",
        start=0,
        end=86400 * 30,
        step=60,
        width=360,
        zero_based=False,
    )
    assert chart.points_drawn <= 2 * chart.plot_width
    (line,) = chart.segments
    lowest = max(float(point.split(",")[1]) for point in line.split())
    assert lowest == chart.plot_bottom  # the one low minute is still drawn


def test_it_places_ticks_at_whole_utc_hours_and_days():
    chart = history_chart(_points([0, 3600 * 6]), "rps", "RPS", "rps", start=0, end=21600)
    assert chart.tick_step == 7200 and [t.label for t in chart.ticks][:2] == ["00:00", "02:00"]
    month = history_chart(_points([0]), "rps", "RPS", "rps", start=0, end=86400 * 30)
    assert month.tick_step == 7 * 86400 and month.ticks[1].label == "Jan 8"
    assert all(chart.left <= t.x <= chart.left + chart.plot_width for t in chart.ticks)


def test_it_marks_rollouts_inside_the_range_only():
    chart = history_chart(
        _points([0, 3600]),
        "rps",
        "RPS",
        "rps",
        start=0,
        end=3600,
        markers=[(-10, "rollout"), (1800, "rollout"), (4000, "rollout")],
    )
    assert [(m.t, m.x) for m in chart.markers] == [(1800, chart.left + chart.plot_width / 2)]


def test_it_writes_chart_values_in_their_unit():
    chart = history_chart(_points([0, 60]), "rps", "Memory", "bytes", start=0, end=60)
    assert chart.high_text.endswith("B") and chart.last_text == chart.high_text
