"""Many distinct filtered views cannot grow Redis: cached results are bounded per snapshot
version, in count and bytes; a view past the bounds leaves nothing behind; and in the result
cache's own instance, eviction takes only caches."""

import dataclasses
import random

import pytest
import redis as redis_lib

from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import SnapshotStore, StoreUnavailable
from tests.servers import CACHE_REDIS_MEMORY, STORE_REDIS_MEMORY
from tests.store import synthetic
from tests.store.test_pages import expected_order

MAX_ENTRIES = 40
MAX_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def big_mesh():
    """2,000 workloads in 50 namespaces."""
    return synthetic.snapshot(2000, seed=11)


def wide_views(mesh, count: int, seed: int = 5) -> list[WorkloadQuery]:
    """Distinct views naming 49 of the 50 namespaces, each sorted its own way, as a script
    would send them to fill Redis."""
    rng = random.Random(seed)
    names = sorted({w.namespace for w in mesh.workloads})
    seen, views = set(), []
    while len(views) < count:
        chosen = tuple(sorted(rng.sample(names, len(names) - 1)))
        sort, descending = rng.choice(sorted(SORT_KEYS)), rng.random() < 0.5
        if (chosen, sort, descending) in seen:
            continue
        seen.add((chosen, sort, descending))
        views.append(WorkloadQuery(namespaces=chosen, sort=sort, descending=descending))
    return views


def cache_keys(client, prefix: str = "test") -> list[bytes]:
    return list(client.scan_iter(f"{prefix}:q:*", count=1000))


def cache_bytes(client, keys) -> int:
    return sum(client.memory_usage(key, samples=0) or 0 for key in keys)


def test_many_distinct_views_stay_within_the_bounds(redis_client, big_mesh, settings):
    settings.MESHDASH_RESULT_CACHE_MAX_ENTRIES = MAX_ENTRIES
    settings.MESHDASH_RESULT_CACHE_MAX_BYTES = MAX_BYTES
    store = SnapshotStore(redis_client, "test")
    store.write(big_mesh)
    before = redis_client.info("memory")["used_memory"]
    views = wide_views(big_mesh, 300)
    for query in views:
        page = store.workload_page("1m", query)
        assert page.total > 1800
    keys = cache_keys(redis_client)
    grown = redis_client.info("memory")["used_memory"] - before
    print(
        f"{len(views)} views: {len(keys)} cache keys, {cache_bytes(redis_client, keys)} B, "
        f"Redis grew {grown / 1e6:.2f} MB"
    )
    assert len(keys) <= MAX_ENTRIES + 1  # the views, and their version's budget
    assert cache_bytes(redis_client, keys) <= 2 * MAX_BYTES
    assert not list(redis_client.scan_iter("test:tmp:*"))
    assert grown < 4 * MAX_BYTES


def test_the_bytes_bound_holds_alone(redis_client, big_mesh):
    store = SnapshotStore(redis_client, "test", cache_max_entries=10_000, cache_max_bytes=50_000)
    store.write(big_mesh)
    for query in wide_views(big_mesh, 60):
        store.workload_page("1m", query)
    keys = cache_keys(redis_client)
    # A 49-namespace order of ~1,960 workloads costs about 8 KB.
    assert 2 <= len(keys) - 1 <= 50_000 // 7_800
    budget = next(key for key in keys if key.endswith(b":budget"))
    assert int(redis_client.hget(budget, "bytes")) <= 50_000


def test_a_view_past_the_bounds_is_right_and_leaves_nothing(redis_client, big_mesh):
    store = SnapshotStore(redis_client, "test", cache_max_entries=0, cache_max_bytes=0)
    store.write(big_mesh)
    for query in wide_views(big_mesh, 5):
        query = dataclasses.replace(query, page=3, per_page=25)
        chosen = set(query.namespaces)
        expected = [
            w
            for w in expected_order(big_mesh.workloads, query.sort, query.descending)
            if w.namespace in chosen
        ]
        page = store.workload_page("1m", query)
        assert page.items == expected[50:75] and page.total == len(expected)
    assert cache_keys(redis_client) == []
    assert not list(redis_client.scan_iter("test:tmp:*"))


def test_each_version_has_its_own_budget(redis_client, big_mesh):
    store = SnapshotStore(redis_client, "test", cache_max_entries=3, cache_max_bytes=10**9)
    views = wide_views(big_mesh, 10)
    store.write(big_mesh)
    for query in views:
        store.workload_page("1m", query)
    assert len(cache_keys(redis_client)) == 3 + 1
    store.write(big_mesh)
    for query in views:
        store.workload_page("1m", query)
    assert len(cache_keys(redis_client)) == 2 * (3 + 1)


def test_the_cache_in_its_own_instance_evicts_only_caches(
    redis_client, cache_redis_url, big_mesh, settings
):
    """With the budget set out of the way, the cache instance's maxmemory (allkeys-lru) is what
    bounds it: it evicts cached views and the snapshot instance loses nothing."""
    cache = redis_lib.Redis.from_url(cache_redis_url)
    if cache.config_get("maxmemory-policy")["maxmemory-policy"] != "allkeys-lru":
        pytest.skip("the result cache shares a Redis configured elsewhere (REDIS_URL)")
    cache.config_set("maxmemory", "3mb")
    try:
        store = SnapshotStore(
            redis_client,
            "test",
            cache_client=cache,
            cache_max_entries=10**6,
            cache_max_bytes=10**12,
        )
        store.write(big_mesh)
        snapshot_keys = sorted(redis_client.keys("*"))
        evicted = cache.info("stats")["evicted_keys"]
        for query in wide_views(big_mesh, 400):
            assert store.workload_page("1m", query).total > 1800
        assert cache.info("stats")["evicted_keys"] > evicted
        assert cache.info("memory")["used_memory"] <= 3 * 1024 * 1024
        assert sorted(redis_client.keys("*")) == snapshot_keys  # nothing cached, nothing lost
        assert all(key.startswith(b"test:q:") for key in cache.scan_iter(count=1000))
    finally:
        cache.config_set("maxmemory", CACHE_REDIS_MEMORY[0])
        cache.close()


def test_the_snapshot_instance_refuses_rather_than_evicts(redis_url, redis_client, big_mesh):
    """At its ceiling the snapshot store's Redis (noeviction) refuses a view's temporary key:
    the store says unavailable, and every key stays."""
    if redis_client.config_get("maxmemory-policy")["maxmemory-policy"] != "noeviction":
        pytest.skip("REDIS_URL's server is configured elsewhere")
    store = SnapshotStore(redis_client, "test", cache_max_entries=0)
    store.write(big_mesh)
    keys = sorted(redis_client.keys("*"))
    used = redis_client.info("memory")["used_memory"]
    redis_client.config_set("maxmemory", str(used))
    try:
        with pytest.raises(StoreUnavailable, match="full"):
            store.workload_page("1m", wide_views(big_mesh, 1)[0])
        assert len(store.workload_page("1m", WorkloadQuery(per_page=5)).items) == 5
        assert sorted(redis_client.keys("*")) == keys
    finally:
        redis_client.config_set("maxmemory", STORE_REDIS_MEMORY[0])


def test_without_its_cache_redis_the_store_still_serves_filtered_views(redis_client, big_mesh):
    from tests.servers import free_port

    gone = redis_lib.Redis(port=free_port(), socket_connect_timeout=0.5)
    store = SnapshotStore(redis_client, "test", cache_client=gone)
    store.write(big_mesh)
    query = wide_views(big_mesh, 1)[0]
    assert store.workload_page("1m", query, on_cold=lambda: None).total > 1800
    assert store.take_token("someone", 1.0, 1) == 0.0
    assert cache_keys(redis_client) == []


def test_the_token_bucket_refills_at_its_pace(redis_client):
    store = SnapshotStore(redis_client, "test")
    assert [store.take_token("alice", 0.5, 2) for _ in range(2)] == [0.0, 0.0]
    wait = store.take_token("alice", 0.5, 2)
    assert 1.0 < wait <= 2.0  # one token per 2 s
    assert store.take_token("bob", 0.5, 2) == 0.0
    assert 0 < redis_client.pttl("test:rl:alice") <= 5_000
