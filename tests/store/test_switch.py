"""A new version becomes visible whole or not at all, and replaced versions expire."""

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from meshdash.mesh.query import WorkloadQuery
from meshdash.store import SnapshotStore, ordering
from tests.servers import wait_until
from tests.store import synthetic
from tests.store.halting import Halt, halt_writes

ROOT = Path(__file__).resolve().parents[2]


def version_keys(client, prefix, version):
    return client.keys(f"{prefix}:s:{version}:*")


def assert_whole(store, snap, version):
    """Every read of ``version`` shows exactly ``snap``."""
    meta = store.meta(snap.window, version=version)
    assert (meta.version, meta.taken_at) == (version, snap.taken_at)
    page = store.workload_page(snap.window, WorkloadQuery(per_page=1000), version=version)
    assert page.total == len(snap.workloads)
    assert page.items == ordering_of(snap)
    for workload in snap.workloads[:20]:
        got = store.workload_detail(
            snap.window, workload.namespace, workload.kind, workload.name, version=version
        )
        assert got.workload == workload
    assert store.overview(snap.window, version=version).totals.workloads == len(snap.workloads)


def ordering_of(snap):
    return [snap.workloads[i] for i in ordering.order(snap.workloads, "health", False)]


def test_a_reader_keeps_reading_the_version_it_resolved(store):
    old = synthetic.snapshot(120, seed=1)
    new = synthetic.snapshot(150, seed=2, taken_at=old.taken_at + 10)
    old_version = store.write(old)
    resolved = store.current_version("1m")

    new_version = store.write(new)
    assert store.current_version("1m") == new_version
    assert_whole(store, old, resolved)
    assert_whole(store, new, new_version)
    assert store.meta("1m").version == new_version != old_version


def test_a_half_written_version_is_invisible(store, redis_client):
    old = synthetic.snapshot(120, seed=1)
    old_version = store.write(old)
    seen = {}

    def look_around():
        seen["current"] = store.current_version("1m")
        assert_whole(store, old, store.current_version("1m"))
        raise Halt

    halt_writes(store, 30, look_around)
    with pytest.raises(Halt):
        store.write(synthetic.snapshot(150, seed=2, taken_at=old.taken_at + 10))
    assert seen["current"] == old_version
    assert store.current_version("1m") == old_version
    assert_whole(store, old, old_version)

    # The half-written keys are there, and go by themselves.
    pending = [
        k
        for k in redis_client.keys("test:s:*")
        if not k.startswith(b"test:s:" + old_version.encode())
    ]
    assert pending
    for key in pending:
        assert 0 < redis_client.pttl(key) <= SnapshotStore.PENDING_TTL_SECONDS * 1000
    for key in version_keys(redis_client, "test", old_version):
        assert redis_client.pttl(key) == -1


def test_a_failure_while_building_leaves_the_old_version(store, mesh, monkeypatch):
    version = store.write(mesh)
    calls = []

    real_order = ordering.order

    def failing_order(*args):
        calls.append(args)
        if len(calls) > 3:
            raise RuntimeError("collector crashed")
        return real_order(*args)

    monkeypatch.setattr(ordering, "order", failing_order)
    with pytest.raises(RuntimeError):
        store.write(dataclasses.replace(mesh, taken_at=mesh.taken_at + 10, workloads=[]))
    monkeypatch.undo()
    assert store.current_version("1m") == version
    assert_whole(store, mesh, version)


def test_a_writer_killed_midway_leaves_the_old_version(store, redis_client, redis_url):
    old = synthetic.snapshot(120, seed=1)
    old_version = store.write(old)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.halting", redis_url, "test", "40"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "midway"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert store.current_version("1m") == old_version
    assert_whole(store, old, old_version)
    others = [k for k in redis_client.keys("test:s:*") if old_version.encode() not in k]
    assert others  # the child did write part of its version
    assert all(redis_client.pttl(k) > 0 for k in others)


def test_replaced_versions_expire(redis_client):
    # Long enough for the reads below to come first even on a loaded machine.
    store = SnapshotStore(redis_client, "test", snapshot_ttl_seconds=2.0)
    first = synthetic.snapshot(50, seed=1)
    first_version = store.write(first)
    assert version_keys(redis_client, "test", first_version)
    assert all(
        redis_client.pttl(k) == -1 for k in version_keys(redis_client, "test", first_version)
    )

    second_version = store.write(dataclasses.replace(first, taken_at=first.taken_at + 10))
    old_keys = version_keys(redis_client, "test", first_version)
    assert old_keys and all(0 < redis_client.pttl(k) <= 2000 for k in old_keys)
    assert_whole(store, first, first_version)  # still readable for a while

    wait_until(
        lambda: version_keys(redis_client, "test", first_version) == [],
        timeout=10,
        what="the replaced version expiring",
    )
    assert version_keys(redis_client, "test", first_version) == []
    current_keys = version_keys(redis_client, "test", second_version)
    assert current_keys and all(redis_client.pttl(k) == -1 for k in current_keys)
    assert store.meta("1m").version == second_version
