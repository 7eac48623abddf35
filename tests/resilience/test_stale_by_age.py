"""Old data never looks fresh: with a real Celery worker and beat collecting every 2 s, stopping
the worker, stopping beat or hanging Prometheus (SIGSTOP) fails no collection, yet the pages
and the API call the snapshot stale, with how long no collection landed, within a bounded
time; and fresh again once the process runs on."""

import os
import re
import signal
import time

import pytest

from tests import servers
from tests.resilience.conftest import banner

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

REFRESH_SECONDS = 2
INTERVALS = 3
STALE_AFTER = REFRESH_SECONDS * INTERVALS
# How long after the fault the pages may take past STALE_AFTER to say so: a page read, and the
# collection that was running when the fault came.
MARGIN = 15
# A collection hung on Prometheus must not fail before the age says stale: a failure would
# mark it stale for another reason.
HUNG_TIMEOUT_SECONDS = 120


@pytest.fixture
def collecting(settings, redis_client, redis_url, demo_mesh, demo_prometheus, tmp_path):
    """A Celery worker and beat collecting the 1m window every REFRESH_SECONDS from the demo
    mesh into the private Redis; the pages judge its age by the same interval."""
    settings.MESHDASH_WINDOWS = {"1m": REFRESH_SECONDS, "10m": 3600, "1h": 3600}
    settings.MESHDASH_STALE_AFTER_INTERVALS = INTERVALS
    env = servers.worker_env(redis_url, demo_prometheus.url, demo_mesh.kubeconfig, tmp_path)
    env.update(
        MESHDASH_REDIS_PREFIX=settings.MESHDASH_REDIS_PREFIX,
        MESHDASH_REFRESH_SECONDS=str(REFRESH_SECONDS),
        MESHDASH_REFRESH_SECONDS_10M="3600",
        MESHDASH_REFRESH_SECONDS_1H="3600",
        PROMETHEUS_TIMEOUT_SECONDS=str(HUNG_TIMEOUT_SECONDS),
        MESHDASH_COLLECT_DEADLINE_SECONDS=str(HUNG_TIMEOUT_SECONDS),
    )
    worker = servers.start_celery_worker(env, tmp_path / "worker.log", f"stale-{os.getpid()}")
    beat = servers.start_celery_beat(env, tmp_path / "beat.log", tmp_path / "beat-schedule")
    try:
        yield {"worker": worker, "beat": beat}
    finally:
        for proc in (worker, beat):
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
            servers.stop(proc)
        for name in ("worker.log", "beat.log"):
            print(name, (tmp_path / name).read_text()[-2000:])


def snapshot(client) -> dict | None:
    response = client.get("/api/v1/workloads", {"per_page": 10})
    if response.status_code == 503:  # no snapshot yet
        return None
    assert response.status_code == 200, response.content[:500]
    return response.json()["snapshot"]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)
    return value


def wait_until_collections_land(client) -> None:
    """Until two fresh snapshots in a row: collections are running on schedule."""
    first = wait_for(lambda: fresh(snapshot(client)), 120, "a first fresh snapshot")
    wait_for(
        lambda: (s := fresh(snapshot(client))) and s["taken_at"] > first["taken_at"],
        30,
        "a second fresh snapshot",
    )
    assert banner(client) == ""


def fresh(found: dict | None) -> dict | None:
    return found if found and not found["stale"] else None


def assert_turns_stale_by_age(client) -> None:
    """The API and the page say stale for age alone, soon after the fault, never earlier than
    the snapshot's age allows."""
    stopped_at = time.monotonic()
    found = wait_for(
        lambda: (s := snapshot(client)) and s["stale"] and s,
        STALE_AFTER + MARGIN,
        "the API saying stale",
    )
    took = time.monotonic() - stopped_at
    print(f"stale {took:.1f} s after the fault: {found['reason']}")
    assert found["failure_reason"] == "" and found["errors"] == {}, found  # nothing failed
    seconds = re.fullmatch(r"no collection for (\d+) s", found["reason"])
    assert seconds and int(seconds[1]) >= STALE_AFTER, found
    assert found["age_seconds"] > STALE_AFTER
    shown = banner(client)
    assert re.match(r"Stale data: no collection for \d+ s; showing the last good snapshot", shown)
    assert 'class="age stale"' in client.get("/workloads/").content.decode()


def assert_recovers(client) -> None:
    wait_for(lambda: fresh(snapshot(client)), 60, "a fresh snapshot after the fault ended")
    assert banner(client) == ""


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_a_stopped_process_turns_the_snapshot_stale(collecting, api, process):
    wait_until_collections_land(api)
    proc = collecting[process]
    proc.send_signal(signal.SIGSTOP)
    try:
        assert_turns_stale_by_age(api)
    finally:
        proc.send_signal(signal.SIGCONT)
    assert_recovers(api)


def test_a_hung_prometheus_turns_the_snapshot_stale(collecting, api, demo_prometheus):
    wait_until_collections_land(api)
    demo_prometheus.proc.send_signal(signal.SIGSTOP)
    try:
        assert_turns_stale_by_age(api)
    finally:
        demo_prometheus.proc.send_signal(signal.SIGCONT)
    assert_recovers(api)
