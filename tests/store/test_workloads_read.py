"""SnapshotStore.workloads: several workloads of one version in a single call."""

from meshdash.mesh.model import WorkloadKey
from meshdash.store import SnapshotStore
from tests.bookmarks.snapshots import payments_snapshot

CART = WorkloadKey("shop", "deployment", "cart")
API = WorkloadKey("payments", "deployment", "api")
GONE = WorkloadKey("payments", "deployment", "gone")


def test_it_reads_each_workload_and_none_for_the_missing(redis_client):
    store = SnapshotStore(redis_client)
    version = store.write(payments_snapshot(success_rate=0.5))
    found = store.workloads("1m", [CART, GONE, API], version=version)
    assert list(found) == [CART, GONE, API]
    assert found[GONE] is None
    assert (found[API].name, found[API].success_rate) == ("api", 0.5)
    assert found[CART] == store.workload("1m", "shop", "deployment", "cart", version=version)


def test_it_reads_the_current_version_in_one_script_call(redis_client, monkeypatch):
    store = SnapshotStore(redis_client)
    store.write(payments_snapshot())
    calls = []
    script = store._workloads
    monkeypatch.setattr(store, "_workloads", lambda **kw: calls.append(kw) or script(**kw))
    assert store.workloads("1m", [CART, API])[API].rps == 12.5
    assert len(calls) == 1


def test_it_reads_nothing_without_keys_or_snapshot(redis_client):
    store = SnapshotStore(redis_client)
    assert store.workloads("1m", [CART]) == {CART: None}
    store.write(payments_snapshot())
    assert store.workloads("1m", []) == {}


def test_it_tells_which_workloads_exist_without_reading_their_rows(redis_client, monkeypatch):
    store = SnapshotStore(redis_client)
    assert store.existing_workloads("1m", [CART]) == set()  # no snapshot yet
    version = store.write(payments_snapshot())
    monkeypatch.setattr(store, "_workloads", None)  # rows are never read
    assert store.existing_workloads("1m", [CART, GONE, API], version=version) == {CART, API}
    assert store.existing_workloads("1m", [GONE]) == set()
    assert store.existing_workloads("1m", []) == set()
