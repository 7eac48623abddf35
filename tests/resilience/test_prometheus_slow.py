"""Prometheus answering past the collection's deadline: all of it, or only the route queries."""

import time

import pytest

from meshdash.collectors.run import run_collection
from tests.resilience.conftest import (
    WINDOW,
    assert_partial,
    assert_recovered,
    assert_serves_last_good,
    read_good,
    read_workloads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

# Short for the runs that meet a slow Prometheus; the others keep a roomy one, so that a busy
# machine does not make them miss it. The short one is at least DEADLINE, and a few times what
# the good run before it took (a loaded machine slows the queries that are not held too).
DEADLINE = 3
DEADLINE_PER_GOOD_RUN = 4
# The held queries are answered long after any deadline (or when the proxy stops).
DELAY = 60
ROUTE_PARTS = {"routes", "route_latency"}
LATE = ("Prometheus did not answer before the collection deadline", "Prometheus timed out")


def late_collection(settings, good) -> str:
    """A run under the short deadline; it gives up at the deadline, long before the answers."""
    roomy = settings.MESHDASH_COLLECT_DEADLINE_SECONDS
    deadline = max(DEADLINE, DEADLINE_PER_GOOD_RUN * good[1]["collect_seconds"])
    assert deadline < DELAY / 2, f"the good run took {good[1]['collect_seconds']} s"
    settings.MESHDASH_COLLECT_DEADLINE_SECONDS = deadline
    started = time.monotonic()
    status = run_collection(WINDOW)
    assert time.monotonic() - started < DELAY - 2
    assert time.monotonic() - started < deadline + DELAY / 4  # at the deadline, not the answers
    settings.MESHDASH_COLLECT_DEADLINE_SECONDS = roomy
    return status


def test_it_serves_the_last_good_snapshot_while_prometheus_is_too_slow(
    prometheus_proxy, settings, api
):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    prometheus_proxy.delay = DELAY
    assert late_collection(settings, good) == "failed"
    assert_serves_last_good(api, good, "inbound: Prometheus")
    _, snapshot = read_workloads(api)
    assert any(late in snapshot["failure_reason"] for late in LATE), snapshot

    prometheus_proxy.heal()
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)


def detail(client, key: str) -> dict:
    response = client.get(f"/api/v1/workloads/{key}")
    assert response.status_code == 200
    return response.json()


def test_it_keeps_the_fresh_golden_metrics_when_only_routes_are_too_slow(
    prometheus_proxy, settings, api, demo_mesh
):
    routed = next(w for w in demo_mesh.model().all_workloads if w.routes)
    key = "/".join(routed.key)
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)
    good_routes = {route["route"] for route in detail(api, key)["routes"]}
    assert good_routes == {route.name for route in routed.routes}

    # The two ServiceProfile route queries. They hold two of the four query slots until the
    # deadline: with all four held, the queries queued behind them would miss it too.
    prometheus_proxy.delay, prometheus_proxy.only = DELAY, "route_response"
    assert late_collection(settings, good) == "partial"
    items = assert_partial(api, good, ROUTE_PARTS, LATE)
    # What the same run read in time is served: every workload, its golden metrics, its edges.
    assert items.keys() == good[0].keys()
    assert sum(item["rps"] for item in items.values()) > 0
    partial = detail(api, key)
    assert partial["workload"] == items[key] and items[key]["rps"] > 0
    assert partial["callers"] or partial["callees"]
    assert partial["routes"] == []

    prometheus_proxy.heal()
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)
    assert {route["route"] for route in detail(api, key)["routes"]} == good_routes
