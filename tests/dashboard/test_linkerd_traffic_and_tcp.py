"""The workload page and the API on what real proxies add: Linkerd's own traffic on a line of its
own, routes with their kind and the side that measured them, and TCP-only workloads."""

import csv
import html
import io
import re
import time

import pytest
from django.conf import settings

from meshdash.mesh.health import HealthRules, judge_edge
from meshdash.mesh.model import Edge, Route, Snapshot, Workload
from meshdash.store import SnapshotStore

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def _snapshot() -> Snapshot:
    web = Workload(
        namespace="shop",
        kind="deployment",
        name="web",
        meshed_pods=2,
        total_pods=2,
        success_rate=0.995,
        rps=12.0,
        probe_rps=0.6,
        probe_success_rate=0.75,
        scrape_rps=0.2,
        scrape_success_rate=1.0,
        health="healthy",
        judged_on="http",
    )
    quiet = Workload(
        namespace="shop",
        kind="deployment",
        name="quiet",
        meshed_pods=1,
        total_pods=1,
        probe_rps=0.3,
        probe_success_rate=1.0,
        scrape_rps=0.1,
        scrape_success_rate=1.0,
        health="no-traffic",
    )
    cache = Workload(
        namespace="shop",
        kind="statefulset",
        name="cache",
        meshed_pods=1,
        total_pods=1,
        tcp_open_connections=5.0,
        tcp_opened_per_second=2.0,
        tcp_closed_per_second=2.0,
        tcp_close_errors_per_second=0.2,
        tcp_close_error_rate=0.1,
        health="critical",
        judged_on="tcp",
    )
    routes = [
        Route(
            "shop",
            "deployment",
            "web",
            route=f"GET /items/{HOSTILE}",
            service="api.shop",
            rps=3.0,
            success_rate=2 / 3,
            route_kind="HTTPRoute",
            direction="outbound",
        ),
        Route(
            "shop",
            "deployment",
            "web",
            route="items-grpc",
            service="grpc-api.shop",
            rps=5.5,
            success_rate=4 / 5.5,
            route_kind="GRPCRoute",
            direction="outbound",
        ),
        Route(
            "shop",
            "deployment",
            "web",
            route="GET /health",
            service=HOSTILE,
            rps=1.0,
            success_rate=1.0,
            route_kind="ServiceProfile",
            direction="inbound",
        ),
    ]
    edges = [
        Edge(
            "shop",
            "deployment",
            "web",
            "shop",
            "statefulset",
            "cache",
            tls=True,
            tcp_open_connections=4.0,
            tcp_opened_per_second=0.5,
        ),
    ]
    for edge in edges:  # as the collector judges it
        edge.health = judge_edge(HealthRules(), edge)
    return Snapshot(
        window="1m",
        taken_at=time.time(),
        workloads=[web, quiet, cache],
        routes=routes,
        edges=edges,
    )


@pytest.fixture
def mesh(redis_client):
    store = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)
    store.write(_snapshot())


def _text(body: str, marker: str) -> str:
    """The text of the element carrying ``marker``, tags stripped."""
    match = re.search(rf"<(\w+)[^>]*{marker}[^>]*>(.*?)</\1>", body, re.S)
    assert match, marker
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[2])).split())


def test_it_shows_probes_and_scrapes_on_their_own_line(client, mesh):
    body = client.get("/workloads/shop/deployment/web/").content.decode()
    line = _text(body, "data-own-traffic")
    assert "kubelet probes 0.60 rps · 75.0 %" in line
    assert "Prometheus scrapes 0.20 rps · 100 %" in line
    # The application's own figures stand apart.
    assert _text(body, 'data-stat="rps"') == "12.0"
    # A failing probe is called out.
    assert "Kubelet probes failing: 75.0 % succeed" in _text(body, "data-probe-failing")


def test_it_shows_no_line_of_linkerds_traffic_for_a_workload_without_proxies(client, redis_client):
    unmeshed = Workload(namespace="legacy", kind="deployment", name="old", total_pods=1)
    store = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)
    store.write(Snapshot(window="1m", taken_at=time.time(), workloads=[unmeshed]))
    body = client.get("/workloads/legacy/deployment/old/").content.decode()
    assert "Next steps" in body and "data-own-traffic" not in body


def test_it_shows_no_alarm_while_the_probes_succeed(client, mesh):
    body = client.get("/workloads/shop/deployment/quiet/").content.decode()
    assert "data-probe-failing" not in body
    assert "kubelet probes 0.30 rps · 100 %" in _text(body, "data-own-traffic")


def test_it_shows_each_routes_kind_and_measuring_side_escaped(client, mesh):
    body = client.get("/workloads/shop/deployment/web/").content.decode()
    assert HOSTILE not in body
    rows = {
        kind: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for kind, row in re.findall(r'<tr data-route-kind="([^"]*)">(.*?)</tr>', body, re.S)
    }
    assert set(rows) == {"HTTPRoute", "GRPCRoute", "ServiceProfile"}
    assert f"GET /items/{HOSTILE} HTTPRoute client (outbound) api.shop" in rows["HTTPRoute"]
    assert "items-grpc GRPCRoute client (outbound) grpc-api.shop 72.7 %" in rows["GRPCRoute"]
    assert f"GET /health ServiceProfile server (inbound) {HOSTILE}" in rows["ServiceProfile"]


def test_it_shows_a_tcp_workloads_connections_and_what_its_health_rests_on(client, mesh):
    body = client.get("/workloads/shop/statefulset/cache/").content.decode()
    assert _text(body, 'data-stat="tcp-open"') == "5"
    assert _text(body, 'data-stat="tcp-opened"') == "2.00/s"
    assert _text(body, 'data-stat="tcp-close-errors"') == "0.20/s · 10.0 %"
    assert 'data-judged-on="tcp"' in body
    listing = client.get("/workloads/?ns=shop").content.decode()
    row = re.search(r'<tr data-workload="shop/statefulset/cache">(.*?)</tr>', listing, re.S)[1]
    assert "tcp 90.0 %" in row  # the share of connections closed cleanly
    web_row = re.search(r'<tr data-workload="shop/deployment/web">(.*?)</tr>', listing, re.S)[1]
    assert "99.50 %" in web_row and "tcp" not in web_row


def test_it_serves_the_new_figures_in_the_api(client, mesh):
    data = client.get("/api/v1/workloads/shop/deployment/web").json()
    workload = data["workload"]
    assert (workload["probe_rps"], workload["probe_success_rate"]) == (0.6, 0.75)
    assert (workload["scrape_rps"], workload["judged_on"]) == (0.2, "http")
    assert {(r["route_kind"], r["direction"]) for r in data["routes"]} == {
        ("HTTPRoute", "outbound"),
        ("GRPCRoute", "outbound"),
        ("ServiceProfile", "inbound"),
    }
    cache = client.get("/api/v1/workloads/shop/statefulset/cache").json()["workload"]
    assert cache["tcp_close_error_rate"] == 0.1 and cache["judged_on"] == "tcp"


def test_it_shows_a_caller_that_holds_tcp_connections_only(client, mesh):
    body = client.get("/workloads/shop/statefulset/cache/").content.decode()
    row = re.search(r'<tr data-edge="shop/deployment/web">(.*?)</tr>', body, re.S)[0]
    assert _text(row, "data-tcp-edge") == "TCP · 4 conn"
    # Healthy in the graph: its connections are all an edge knows of.
    assert 'class="node h-healthy"' in body


def test_it_exports_the_new_figures_as_csv(client, mesh):
    text = b"".join(client.get("/workloads.csv?ns=shop").streaming_content).decode()
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["cache"]["judged_on"], rows["cache"]["tcp_close_error_rate"]) == ("tcp", "0.1")
    assert (rows["web"]["probe_rps"], rows["web"]["probe_success_rate"]) == ("0.6", "0.75")
    assert rows["quiet"]["scrape_rps"] == "0.1"
