"""Edges judged on the client's requests over them, and their health kept in a snapshot's rows."""

import dataclasses

import pytest

from meshdash.mesh.health import CRITICAL, HEALTHY, NO_TRAFFIC, WARNING, HealthRules, judge_edge
from meshdash.mesh.model import Edge
from meshdash.store import codec

RULES = HealthRules()


def _edge(**fields) -> Edge:
    return Edge("shop", "deployment", "web", "shop", "deployment", "api", **fields)


@pytest.mark.parametrize(
    "fields, health",
    [
        ({"rps": 5.0, "success_rate": 1.0, "latency_ms_p99": 20.0}, HEALTHY),
        ({"rps": 5.0, "success_rate": 0.9}, CRITICAL),
        ({"rps": 5.0, "success_rate": 0.97}, WARNING),
        ({"rps": 5.0, "success_rate": 1.0, "latency_ms_p99": 1500.0}, WARNING),
        ({"rps": 0.01, "success_rate": 0.5}, NO_TRAFFIC),
        ({}, NO_TRAFFIC),
        # An unmeshed client: judged all the same, on what the server saw of it.
        ({"rps": 5.0, "success_rate": 0.5, "src_meshed": False}, CRITICAL),
        # Connections only: nothing on the edge says whether they went well.
        ({"tcp_open_connections": 4.0, "tcp_opened_per_second": 0.5}, HEALTHY),
    ],
)
def test_it_judges_an_edge_on_its_requests(fields, health):
    # Over a minute: 0.01 requests a second are fewer requests than the rules judge.
    assert judge_edge(RULES, _edge(**fields), window_seconds=60) == health


def test_an_edge_row_written_before_edges_had_a_health_reads_without_one():
    edge = _edge(rps=5.0, success_rate=0.9, health=CRITICAL)
    row = codec.to_row(edge)
    assert codec.from_row(Edge, row) == edge
    older = codec.from_row(Edge, row[: [f.name for f in dataclasses.fields(Edge)].index("health")])
    assert older.health == "" and older.dst_service == ""
    assert older.rps == 5.0
