"""A page's first reads in fewer round trips, with the same answers: the window's meta in one
script call, and a version's namespace names kept per process (a version never changes)."""

import dataclasses

from meshdash.store import SnapshotStore
from meshdash.store import store as store_module
from tests.store import synthetic


def counting(client, monkeypatch) -> list:
    """The commands ``client`` sends from now on (script calls included)."""
    sent = []
    send = client.execute_command

    def execute_command(*args, **kwargs):
        sent.append(args[0])
        return send(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", execute_command)
    return sent


def test_meta_is_one_round_trip_and_the_same_as_by_version(redis_client, monkeypatch):
    store = SnapshotStore(redis_client, "rt", snapshot_ttl_seconds=60)
    assert store.meta("1m") is None  # nothing written yet
    store.write(synthetic.snapshot(40, seed=3))
    sent = counting(redis_client, monkeypatch)
    meta = store.meta("1m")
    assert len(sent) == 1
    assert meta is not None and meta.version == store.current_version("1m")
    assert store.meta("1m", version=meta.version) == meta
    assert store.meta("1m", version="1m.0.unknown") is None


def test_namespace_names_follow_the_current_version(redis_client, monkeypatch):
    store = SnapshotStore(redis_client, "rt", snapshot_ttl_seconds=60)
    assert store.namespace_names("1m") == []
    first = synthetic.snapshot(40, seed=3)
    store.write(first)
    names = store.namespace_names("1m")
    assert names == sorted(
        {w.namespace for w in first.workloads} | {n.name for n in first.namespaces}
    )
    version = store.current_version("1m")
    sent = counting(redis_client, monkeypatch)
    assert store.namespace_names("1m", version=version) == names
    assert sent == []  # from memory
    # A new version with other namespaces: its own names, never the previous version's.
    renamed = [dataclasses.replace(w, namespace=f"other-{w.namespace}") for w in first.workloads]
    second = dataclasses.replace(
        first, workloads=renamed, namespaces=[], taken_at=first.taken_at + 10
    )
    store.write(second)
    assert store.namespace_names("1m") == sorted({w.namespace for w in renamed})
    assert store.namespace_names("1m", version=version) == names
    assert len(store_module._NAMESPACE_NAMES) <= store_module.NAMESPACE_NAMES_KEPT
