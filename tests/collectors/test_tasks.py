"""The collection task run for real: queued with ``delay`` by one process, run by a Celery worker
process, both configured only by the environment a deployment gives them, collecting the demo
mesh from a private Prometheus into a private Redis."""

import subprocess
import sys
import time

import pytest
from django.conf import settings

from meshdash.collectors.prometheus import collection_queries
from meshdash.demo.runner import load_mesh
from meshdash.store import SnapshotStore
from tests import servers
from tests.collectors.conftest import wait_for_full_window

pytestmark = pytest.mark.e2e

QUEUE_AND_WAIT = (
    "from meshdash.collectors.tasks import collect_window; "
    "print(collect_window.delay('1m').get(timeout=150))"
)


def test_it_collects_a_window_on_a_real_worker(
    celery_worker, worker_env, redis_client, demo_mesh, demo_prometheus
):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    store = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX)
    assert store.meta("1m") is None
    started = time.time()

    queued = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", QUEUE_AND_WAIT],
        cwd=servers.ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=200,
    )

    assert queued.returncode == 0, queued.stderr[-2000:]
    assert queued.stdout.split() == ["ok"]
    assert celery_worker.poll() is None
    meta = store.meta("1m")
    assert meta is not None and not meta.stale, meta
    assert started <= meta.taken_at <= time.time()
    assert meta.errors == {}
    assert meta.workload_count == len(load_mesh(demo_mesh.out_dir).all_workloads)
    assert meta.query_count == sum(map(len, collection_queries("1m").values()))
    assert 0 < meta.prometheus_seconds <= meta.collect_seconds
    assert 0 < meta.kubernetes_seconds <= meta.collect_seconds
    # Only the window asked for was collected.
    assert store.meta("10m") is None and store.meta("1h") is None
