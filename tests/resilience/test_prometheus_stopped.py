"""Prometheus stopped between two collections, and killed while a collection waits on it."""

import threading
import time

import pytest

from meshdash.collectors.collect import run_collection
from tests.resilience.conftest import (
    WINDOW,
    assert_recovered,
    assert_serves_last_good,
    read_good,
    read_workloads,
    wait_for_traffic,
)
from tests.resilience.faults import PrometheusOnPort

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

UNREACHABLE = "Prometheus unreachable"


@pytest.fixture(scope="module")
def own_prometheus(demo_mesh, tmp_path_factory):
    """A Prometheus of these tests' own, scraping the demo mesh: they stop and kill it."""
    prometheus = PrometheusOnPort(
        demo_mesh.prometheus_config, tmp_path_factory.mktemp("stopped-prometheus")
    )
    prometheus.start()
    try:
        yield prometheus
    finally:
        prometheus.stop()


@pytest.fixture
def prometheus(own_prometheus, sources):
    if not own_prometheus.running:
        own_prometheus.start()
    wait_for_traffic(own_prometheus.url)
    sources.PROMETHEUS_URL = own_prometheus.url
    return own_prometheus


def test_it_serves_the_last_good_snapshot_while_prometheus_is_stopped(prometheus, api):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    prometheus.stop()
    assert run_collection(WINDOW) == "failed"
    assert_serves_last_good(api, good, UNREACHABLE, "inbound")
    # Every scheduled run in the meantime fails the same way and changes nothing.
    assert run_collection(WINDOW) == "failed"
    assert_serves_last_good(api, good, UNREACHABLE)

    prometheus.start()  # same port, same data
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)


def test_it_serves_the_last_good_snapshot_when_prometheus_dies_during_a_run(prometheus, api):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    # Frozen, Prometheus accepts the collection's queries and answers none; killed, it drops
    # them all while the collection waits.
    prometheus.freeze()
    outcome = {}
    run = threading.Thread(target=lambda: outcome.update(status=run_collection(WINDOW)))
    run.start()
    time.sleep(1.0)
    assert run.is_alive()
    prometheus.kill()
    run.join(timeout=15)
    assert outcome == {"status": "failed"}
    assert_serves_last_good(api, good, UNREACHABLE)

    prometheus.start()
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)


def test_it_lists_the_workloads_when_prometheus_is_stopped_before_the_first_run(
    prometheus, api, demo_mesh
):
    prometheus.stop()
    assert run_collection(WINDOW) == "partial"
    items, first = read_workloads(api)
    # No snapshot to keep: the cluster's workloads are served, without numbers, marked.
    assert set(items) == {"/".join(w.key) for w in demo_mesh.model().all_workloads}
    assert all(item["rps"] == 0 and item["success_rate"] is None for item in items.values())
    assert first["stale"] is True and "inbound" in first["errors"]
    # Such a snapshot gives way to the next one, however long Prometheus stays away.
    assert run_collection(WINDOW) == "partial"
    _, second = read_workloads(api)
    assert second["taken_at"] > first["taken_at"] and second["errors"] == first["errors"]

    prometheus.start()
    assert run_collection(WINDOW) == "ok"
    recovered, snapshot = read_good(api)
    assert recovered.keys() == items.keys()
    assert snapshot["taken_at"] > second["taken_at"]
