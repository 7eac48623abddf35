from meshdash.store import SnapshotStore
from tests.servers import wait_until


def test_it_lets_one_holder_at_a_time(store):
    token = store.try_lock("1m", 10)
    assert token
    assert store.try_lock("1m", 10) is None
    assert store.try_lock("10m", 10)  # locks are per window
    store.release_lock("1m", token)
    assert store.try_lock("1m", 10)


def test_it_releases_only_for_the_owner(store, redis_client):
    token = store.try_lock("1m", 10)
    store.release_lock("1m", "someone-else")
    assert store.try_lock("1m", 10) is None
    assert redis_client.get("test:1m:lock").decode() == token


def test_a_lock_expires(store):
    # Held long enough that a loaded machine cannot let it expire between the first two calls.
    assert store.try_lock("1m", 1.0)
    assert store.try_lock("1m", 1.0) is None
    new = wait_until(lambda: store.try_lock("1m", 10), timeout=10, what="the lock expiring")
    assert new


def test_an_expired_holder_cannot_release_the_next_one(store):
    first = store.try_lock("1m", 0.1)
    second = wait_until(lambda: store.try_lock("1m", 10), timeout=10, what="the lock expiring")
    store.release_lock("1m", first)
    assert store.try_lock("1m", 10) is None
    store.release_lock("1m", second)
    assert store.try_lock("1m", 10)


def test_stores_with_other_prefixes_do_not_share_locks(store, redis_client):
    other = SnapshotStore(redis_client, "other", snapshot_ttl_seconds=60)
    assert store.try_lock("1m", 10)
    assert other.try_lock("1m", 10)
