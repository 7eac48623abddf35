"""Prometheus stopped between two collections, and killed while a collection waits on it."""

import threading

import pytest

from meshdash.collectors.run import run_collection
from tests.resilience.conftest import (
    WINDOW,
    assert_recovered,
    assert_serves_last_good,
    read_good,
    read_workloads,
    wait_for_traffic,
)
from tests.resilience.faults import PrometheusOnPort
from tests.servers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

UNREACHABLE = "Prometheus unreachable"


def connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:``port``, from Linux's /proc/net/tcp."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[3] == "01" and int(row[2].split(":")[1], 16) == port)


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


def test_it_serves_the_last_good_snapshot_when_prometheus_dies_during_a_run(
    prometheus, api, settings
):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    # Frozen, Prometheus accepts the collection's queries and answers none; killed, it drops
    # them all while the collection waits.
    prometheus.freeze()
    outcome = {}
    run = threading.Thread(target=lambda: outcome.update(status=run_collection(WINDOW)))
    run.start()
    # Killed once the collection waits on it: a connection open to the frozen Prometheus.
    wait_until(lambda: connections_to(prometheus.port), 10, what="a query to Prometheus")
    assert run.is_alive()
    prometheus.kill()
    run.join(timeout=settings.MESHDASH_COLLECT_DEADLINE_SECONDS + 5)
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
