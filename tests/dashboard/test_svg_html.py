"""The workload page's charts and graph built in Python are the templates' markup, character for
character: the reference templates (tests/dashboard/reference/, what the pages rendered
before) beside ``meshdash.dashboard.svg_html`` on charts and graphs of every shape, hostile
names included."""

from pathlib import Path

import pytest
from django.http import QueryDict
from django.template import engines

from meshdash.dashboard.charts import history_chart, neighbourhood
from meshdash.dashboard.svg_html import edges_table_html, history_chart_html, neighbourhood_html
from meshdash.mesh.model import Edge
from meshdash.store import HistoryPoint
from tests.dashboard.known import named_workloads

REFERENCE = Path(__file__).parent / "reference"
HOSTILE = '<script>alert("x")</script>&\'q'


def _template(name: str):
    return engines["django"].from_string((REFERENCE / name).read_text())


def _reference(name: str, included: str, context: dict) -> str:
    """The reference template ``name`` rendered with ``context``, its include of the former
    ``dashboard/<included>`` read from the references too."""
    source = (REFERENCE / name).read_text().replace(f'"dashboard/{included}"', "included")
    return (
        engines["django"].from_string(source).render({**context, "included": _template(included)})
    )


def _points(times, value=lambda t: 1.0):
    return [
        HistoryPoint(t=t, success_rate=value(t), rps=value(t), latency_ms_p99=None) for t in times
    ]


def _charts():
    day = list(range(0, 86400, 300))
    gappy = [*range(0, 600, 60), *range(1200, 1800, 60)]
    return [
        history_chart([], "rps", "RPS", "rps"),  # no history: no start
        history_chart([], "rps", "RPS", "rps", start=0, end=3600),  # no points in range
        history_chart(_points([0]), "rps", HOSTILE, "rps", start=0, end=60),
        history_chart(_points(gappy), "rps", "RPS", "rps", start=0, end=1800, step=60),
        history_chart(
            _points(day, lambda t: 0.5 + (t % 7) / 14),
            "success_rate",
            "Success",
            "%",
            start=0,
            end=86400,
            step=300,
            markers=[(3600, "rollout"), (7200.5, HOSTILE), (10**9, "outside")],
            zero_based=False,
            ceiling=1.0,
        ),
        history_chart(
            _points(day, lambda t: t * 1e6), "rps", "Memory", "bytes", start=0.4, end=86399.6
        ),
        history_chart(_points(day, lambda t: None), "latency_ms_p99", "P99", "ms", step=300),
        history_chart(
            _points([1796149860, 1796236260]), "rps", "CPU", "cores", width=250, height=90
        ),
    ]


@pytest.mark.parametrize("index", range(len(_charts())))
def test_a_chart_is_the_templates(index):
    chart = _charts()[index]
    expected = _template("_history_chart.html").render({"chart": chart})
    assert history_chart_html(chart) == expected


def _edge(src_ns, src, dst_ns, dst, **kwargs):
    return Edge(src_ns, "deployment", src, dst_ns, "deployment", dst, **kwargs)


def _graphs():
    frontend = named_workloads()[0]
    ns = frontend.namespace
    callers = [
        _edge(
            f"ns{i}",
            f"caller-{i}",
            ns,
            frontend.name,
            rps=float(i),
            success_rate=0.9,
            tls=i % 2 == 0,
        )
        for i in range(45)
    ]
    callers[3] = _edge(ns, HOSTILE, ns, frontend.name, rps=3.0, health="critical")
    callers[4] = _edge(ns, "with/slash", ns, frontend.name, rps=4.0)  # no URL holds it: no link
    callers[5] = _edge(ns, "ok", ns, frontend.name, rps=1234.5, success_rate=0.999, tls=True)
    callees = [
        _edge(
            ns,
            frontend.name,
            "other",
            f"callee-{'x' * 40}-{i}",
            rps=0.5,
            tls=True,
            health="healthy",
        )
        for i in range(3)
    ]
    return [
        neighbourhood(frontend, [], []),
        neighbourhood(frontend, callers, callees),
        neighbourhood(frontend, callers[:2], callees, max_side=1),
    ]


@pytest.mark.parametrize("window", ["", "window=10m", "window=1h&x=<y>"])
@pytest.mark.parametrize("index", range(len(_graphs())))
def test_a_graph_is_the_templates(index, window):
    graph = _graphs()[index]
    context = {"graph": graph, "window_params": QueryDict(window)}
    expected = _reference("_graph.html", "_graph_node.html", context)
    assert neighbourhood_html(context, graph) == expected


def _edges():
    frontend = named_workloads()[0]
    ns, name = frontend.namespace, frontend.name
    return [
        _edge("shop", "checkout", ns, name, rps=12.5, success_rate=0.97, latency_ms_p99=42.0),
        _edge(ns, HOSTILE, ns, name, tls=True, client_id=HOSTILE, server_id=None),
        _edge(ns, "with/slash", ns, name, rps=0.0, src_meshed=False),
        _edge("", "", ns, name),
        _edge(
            ns,
            name,
            "db",
            "postgres",
            tcp_open_connections=1234.0,
            tcp_opened_per_second=0.25,
            tls=True,
            client_id="a.sa",
            server_id="b.sa",
        ),  # fmt: skip
    ]


@pytest.mark.parametrize("side", ["src", "dst"])
@pytest.mark.parametrize("count", [0, 1, 5])
@pytest.mark.parametrize(
    "traces", ["", "https://traces.example/?from={namespace}/{name}&to={dst_name}"]
)
def test_an_edges_table_is_the_templates(side, count, traces, settings):
    settings.MESHDASH_TRACES_URL_TEMPLATE = traces
    edges = _edges()[:count]
    for workload in (named_workloads()[0], None):  # a Service's page has no workload
        context = {"edges": edges, "side": side, "window_params": QueryDict("window=1h")}
        if workload is not None:
            context["workload"] = workload
        expected = _reference("_edges.html", "_edge_row.html", context)
        assert edges_table_html(context, edges, side) == expected
