"""A fresh install's history filled from what Prometheus still has."""

import pytest
from prometheus_api_client import PrometheusConnect

from meshdash.history import backfill, read, write
from meshdash.history.models import Chunk, State
from meshdash.mesh.history import parse_tiers
from meshdash.mesh.model import WorkloadKey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_caches():
    write._ids.clear()


def test_it_fills_the_coarse_tiers_with_the_collections_figures(backfilled_prometheus):
    url, at = backfilled_prometheus
    status = backfill.backfill(PrometheusConnect(url), now=at)
    assert status.state == "done", status.message
    assert status.done == status.total > 0
    assert read.backfill_status() == status
    assert not Chunk.objects.filter(tier=0).exists()
    web = WorkloadKey("shop", "deployment", "web")
    series = read.workload_history(web, int(at) - 3600, int(at), now=at)
    assert series.step == 300
    full = [p for p in series.points if p.rps is not None and abs(p.rps - 10.0) < 1e-6]
    assert full, series.points
    assert full[0].success_rate == pytest.approx(0.9, abs=1e-4)
    mesh = read.mesh_history(int(at) - 3600, int(at), now=at)
    assert any(p.rps for p in mesh.points)
    # The roll-ups go on from where it stopped.
    assert State.objects.get(name="rolled:1").value


def test_it_leaves_latency_to_the_collections(backfilled_prometheus, settings):
    settings.MESHDASH_HISTORY_TIERS = parse_tiers("1m:1h,5m:6h")
    url, at = backfilled_prometheus
    assert backfill.backfill(PrometheusConnect(url), now=at).state == "done"
    api = WorkloadKey("shop", "deployment", "api")
    points = read.workload_history(api, int(at) - 3600, int(at), now=at).points
    assert points and all(p.p99 is None and p.p50 is None for p in points)
    assert any(p.rps for p in points)
    pods = read.workload_pods_history(api, int(at) - 3600, int(at), now=at)
    assert any(p.memory_bytes for series in pods.values() for p in series.points)


def test_it_is_started_once_and_only_on_an_empty_history(settings, monkeypatch):
    queued = []
    monkeypatch.setattr("meshdash.history.tasks.backfill.delay", lambda: queued.append(1))
    assert backfill.start_if_empty() == "queued"
    assert backfill.start_if_empty() == "queued"
    assert queued == [1]
    settings.MESHDASH_HISTORY_BACKFILL = False
    assert backfill.start_if_empty() == "off"


def test_a_history_with_points_needs_none(monkeypatch):
    monkeypatch.setattr("meshdash.history.tasks.backfill.delay", lambda: pytest.fail("queued"))
    write.append(
        1,
        write.tiers()[1],
        [
            (
                write.series_ids([("m", "1m", "", "")], 0)["m", "1m", ""],
                "m",
                0,
                (1, 1, 1, 1.0, 1.0, 0, 0),
            )
        ],
    )
    assert backfill.start_if_empty() == "not needed"


def test_a_prometheus_away_fails_it_saying_why(settings):
    status = backfill.backfill(PrometheusConnect("http://127.0.0.1:9"), now=1_800_000_000)
    assert status.state == "failed"
    assert "inbound" in status.message
