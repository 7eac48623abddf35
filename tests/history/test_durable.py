"""The history outlives Redis: a collection's points are in the database, not in the store."""

import pytest

from meshdash.collectors.run import collect_and_store
from meshdash.history import collection, read, write
from meshdash.mesh.model import WorkloadKey
from meshdash.store import SnapshotStore

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(redis_client):
    return SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)


@pytest.fixture
def sources(settings, backfilled_prometheus, kube_api):
    settings.PROMETHEUS_URL = backfilled_prometheus[0]
    settings.KUBECONFIG = kube_api.kubeconfig
    settings.KUBE_CONTEXT = ""
    settings.MESHDASH_COLLECT_DEADLINE_SECONDS = 10
    write._ids.clear()
    read._drop_cache.clear()
    return kube_api


def test_history_survives_a_redis_flush(store, sources, redis_client):
    outcome = collect_and_store("1m", store)
    assert outcome.status in ("ok", "partial")
    key = WorkloadKey("shop", "deployment", "web")
    taken = store.meta("1m").taken_at
    before = read.workload_history(key, int(taken) - 120, int(taken) + 60)
    assert len(before.points) == 1
    pods_before = read.workload_pods_history(key, int(taken) - 120, int(taken) + 60)
    assert pods_before

    redis_client.flushall()

    assert store.meta("1m") is None
    after = read.workload_history(key, int(taken) - 120, int(taken) + 60)
    assert after.points == before.points
    assert read.workload_pods_history(key, int(taken) - 120, int(taken) + 60) == pods_before
    # And the next collection goes on writing, its drops waiting for a day of history.
    assert collect_and_store("1m", store).status in ("ok", "partial")
    overview = store.overview("1m")
    assert overview.drops == []
    assert overview.drops_note == collection.NOT_ENOUGH
