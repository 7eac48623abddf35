import pytest

from meshdash.store import SnapshotStore
from tests.store import synthetic


@pytest.fixture
def store(redis_client):
    return SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)


@pytest.fixture(scope="session")
def mesh():
    """A 300-workload synthetic snapshot of the 1m window (treat as read-only)."""
    return synthetic.snapshot(300, seed=7)
