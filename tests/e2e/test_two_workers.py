"""Two Celery workers and beat against the demo mesh, a real Redis and a real Prometheus: the
same window never runs twice at once (its lock), and no read ever sees a torn snapshot.

Besides beat's own schedule, rounds of tasks are sent at once for the same windows, so that
both workers take the same window at the same instant. Each run's start and end come from the
workers' JSON logs (``meshdash.collections``, one line a run): taken while the run holds the
lock, so two runs of one window whose times overlap would mean the lock failed.
"""

import json
import os
import threading
import time

import pytest
from celery import Celery

from meshdash.collectors.tasks import collect_window
from meshdash.mesh.query import WorkloadQuery
from meshdash.store import SnapshotStore
from tests import servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WINDOWS = ("1m", "10m")
ROUNDS = 4
PER_PAGE = 50


@pytest.fixture
def cluster(worker_env, redis_client, tmp_path):
    """Two workers (solo pools, one task at a time each) and beat, logging JSON."""
    env = worker_env | {"MESHDASH_LOG_FORMAT": "json", "MESHDASH_REFRESH_SECONDS": "2"}
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    procs = [
        servers.start_celery_worker(env, logs[0], f"a-{os.getpid()}"),
        servers.start_celery_worker(env, logs[1], f"b-{os.getpid()}"),
        servers.start_celery_beat(env, tmp_path / "beat.log", tmp_path / "beat-schedule"),
    ]
    try:
        yield logs
    finally:
        for proc in procs:
            servers.stop(proc)
        for path in logs:
            print(path.name, path.read_text()[-2000:])


class Reader(threading.Thread):
    """Reads the current snapshot of each window over and over, as pages do, and notes every
    read that does not hold together."""

    def __init__(self, store: SnapshotStore):
        super().__init__(daemon=True)
        self.store = store
        self.stop = threading.Event()
        self.reads = 0
        self.versions: set[str] = set()
        self.torn: list[str] = []

    def run(self):
        while not self.stop.is_set():
            for window in WINDOWS:
                self.read(window)

    def read(self, window: str) -> None:
        version = self.store.current_version(window)
        if version is None:
            return
        meta = self.store.meta(window, version=version)
        if meta is None or meta.version != version:
            self.torn.append(f"{version}: meta {meta and meta.version}")
            return
        first = self.store.workload_page(window, WorkloadQuery(per_page=PER_PAGE), version=version)
        pages = first.pages
        last = self.store.workload_page(
            window, WorkloadQuery(per_page=PER_PAGE, page=pages), version=version
        )
        for page in (first, last):
            expected = min(PER_PAGE, meta.workload_count - (page.page - 1) * PER_PAGE)
            if (
                page.extra.get("version") != version
                or page.total != meta.workload_count
                or len(page.items) != expected
            ):
                self.torn.append(
                    f"{version}: page {page.page} of {page.total} with {len(page.items)} rows, "
                    f"meta says {meta.workload_count} workloads"
                )
        self.reads += 1
        self.versions.add(version)


def send_round(client: Celery) -> list[str]:
    """Each window sent twice at once; every status once they are all done."""
    results = [
        client.send_task(collect_window.name, args=(window,))
        for window in WINDOWS
        for _ in range(2)
    ]
    return [result.get(timeout=180) for result in results]


def runs_in(logs) -> list[dict]:
    runs = []
    for path in logs:
        for line in path.read_text().splitlines():
            if '"event": "collection"' in line:
                runs.append(json.loads(line[line.index("{") :]))
    return runs


def test_two_workers_never_run_a_window_twice_at_once_nor_tear_a_snapshot(
    cluster, redis_url, demo_prometheus
):
    reader = Reader(SnapshotStore.from_settings())
    client = Celery("two-workers", broker=redis_url, backend=redis_url, set_as_current=False)
    statuses = []
    try:
        # The first snapshots, before reading: a page has nothing to read before them either.
        statuses += send_round(client)
        reader.start()
        for _ in range(ROUNDS - 1):
            statuses += send_round(client)
        time.sleep(3)  # beat's runs too
    finally:
        reader.stop.set()
        reader.join(timeout=30)
        client.close()

    print(f"statuses {statuses}; {reader.reads} reads of {len(reader.versions)} versions")
    assert set(statuses) <= {"ok", "partial", "skipped"}, statuses
    assert "skipped" in statuses, "the workers never took the same window at once"
    assert not reader.torn, reader.torn[:5]
    assert reader.reads >= 20 and len(reader.versions) >= 4, (reader.reads, reader.versions)

    runs = runs_in(cluster)
    print(f"{len(runs)} runs logged: {[(r['window'], r['status'], r['worker']) for r in runs]}")
    collected = [run for run in runs if run["status"] != "skipped"]
    assert len({run["worker"] for run in collected}) == 2, "one worker did all the work"
    for window in WINDOWS:
        mine = sorted(
            (run for run in collected if run["window"] == window), key=lambda r: r["started_at"]
        )
        assert len(mine) >= ROUNDS
        for before, after in zip(mine, mine[1:], strict=False):
            assert after["started_at"] >= before["finished_at"], (window, before, after)
