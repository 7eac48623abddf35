"""A collection process (``manage.py collect --once``) killed while it writes its snapshot."""

import os
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest

from meshdash.collectors.run import run_collection
from meshdash.store import SnapshotStore
from tests import servers
from tests.resilience.conftest import WINDOW, assert_recovered, read_good, read_workloads
from tests.resilience.faults import StallingRelay

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

# The killed run's deadline, which sets its lock's expiry (deadline + 5 s): long enough for
# the run to reach its write on a loaded machine.
DEADLINE = 20


def details(client, keys) -> dict[str, dict]:
    """Each workload's detail from the API, without its history and baselines (kept apart from
    snapshots, one point a minute, which the killed run may have written before its snapshot;
    the baselines' last hour ends at the time of the request) and its snapshot block (age)."""
    found = {}
    for key in keys:
        response = client.get(f"/api/v1/workloads/{urllib.parse.quote(key)}")
        assert response.status_code == 200, key
        body = response.json()
        del body["history"], body["snapshot"], body["baselines"]
        found[key] = body
    return found


@pytest.fixture
def worker_env(sources, redis_url, demo_mesh, demo_prometheus, tmp_path):
    """The environment of a collection process, short of its Redis URL."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="meshdash.settings",
        PROMETHEUS_URL=demo_prometheus.url,
        KUBECONFIG=str(demo_mesh.kubeconfig),
        MESHDASH_REDIS_PREFIX=sources.MESHDASH_REDIS_PREFIX,
        MESHDASH_COLLECT_DEADLINE_SECONDS=str(DEADLINE),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'worker.sqlite3'}"),
    )


def test_a_worker_killed_while_writing_leaves_the_previous_snapshot_current(
    worker_env, redis_url, redis_client, settings, api
):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)
    good_details = details(api, good[0])
    store = SnapshotStore.from_settings()
    good_version = store.current_version(WINDOW)
    prefix = settings.MESHDASH_REDIS_PREFIX

    # The worker reaches Redis through a relay that stops passing its bytes once it sends
    # the new version's first sort order: rows, ids and names are written by then.
    url = urllib.parse.urlsplit(redis_url)
    stall_at = (
        re.escape(prefix.encode())
        + rb":s:"
        + re.escape(WINDOW.encode())
        + rb"\.[0-9]+\.[0-9a-f]+:z:"
    )
    relay = StallingRelay((url.hostname, url.port), stall_at)
    worker_env["REDIS_URL"] = url._replace(netloc=f"127.0.0.1:{relay.port}").geturl()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "collect", "--once", "--window", WINDOW],
        cwd=servers.ROOT,
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert relay.stalled.wait(60), worker.communicate(timeout=30)[0][-3000:]

        def passed_writes_run() -> bool:
            """What the relay passed has been run: rows, ids and names, each with its expiry."""
            written = new_version_keys(redis_client, prefix, good_version)
            kinds = {key.rsplit(":", 1)[1] for key in written}
            return kinds >= {"rows", "ids", "names"} and all(
                redis_client.pttl(key) > 0 for key in written
            )

        servers.wait_until(passed_writes_run, 10, what="the new version's first keys in Redis")
        assert worker.poll() is None  # stuck in its write
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        relay.close()

    # Half a version in Redis: it was never switched to, and goes by itself.
    written = new_version_keys(redis_client, prefix, good_version)
    assert {key.rsplit(":", 1)[1] for key in written} >= {"rows", "ids", "names"}
    assert not any(key.endswith(":keys") for key in written)  # its registry never came
    assert all(
        0 < redis_client.pttl(key) <= SnapshotStore.PENDING_TTL_SECONDS * 1000 for key in written
    )

    # The previous snapshot is current and whole: every workload reads as before, not stale.
    assert store.current_version(WINDOW) == good_version
    assert read_workloads(api) == good
    assert details(api, good[0]) == good_details

    # The dead worker's lock holds until it expires; then the next run succeeds.
    lock = f"{prefix}:{WINDOW}:lock"
    assert 0 < redis_client.pttl(lock) <= (DEADLINE + 5) * 1000
    assert run_collection(WINDOW) == "skipped"
    servers.wait_until(
        lambda: not redis_client.exists(lock),
        DEADLINE + 10,
        interval=0.1,
        what="the dead worker's lock expiring",
    )
    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)
    assert store.current_version(WINDOW) != good_version


def new_version_keys(client, prefix: str, old_version: str) -> list[str]:
    keys = (key.decode() for key in client.scan_iter(f"{prefix}:s:{WINDOW}.*", count=1000))
    return [key for key in keys if not key.startswith(f"{prefix}:s:{old_version}:")]
