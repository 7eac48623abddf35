"""Redis memory per 1,000 workloads: a snapshot of 5,000 workloads (3 pods and 3 edges each),
an hour of history, and the replaced version still alive. Target: under 20 MB per 1,000."""

import dataclasses
import time
from collections import defaultdict

from meshdash.mesh.query import WorkloadQuery
from tests.store import synthetic

WORKLOADS = 5000
T0 = 1_700_000_040.0


def test_it_stays_under_20_mb_per_1000_workloads(store, redis_client):
    mesh = synthetic.snapshot(
        WORKLOADS, seed=3, pods_per_workload=3, edges_per_workload=3, unique_names=True
    )
    assert len(mesh.workloads) == WORKLOADS
    assert (len(mesh.pods), len(mesh.edges)) == (3 * WORKLOADS, 3 * WORKLOADS)
    before = redis_client.info("memory")["used_memory"]

    for minute in range(59):
        store.record_history(mesh.workloads, T0 + minute * 60)
    started = time.perf_counter()
    previous = store.write(dataclasses.replace(mesh, taken_at=T0 + 59 * 60))
    write_seconds = time.perf_counter() - started
    current = store.write(dataclasses.replace(mesh, taken_at=T0 + 59 * 60 + 10))
    assert store.meta("1m").version == current != previous
    assert redis_client.exists(f"test:s:{previous}:rows")  # the replaced version is alive
    assert len(store.history(*mesh.workloads[0].key.id.split("/"))) == 60

    used = redis_client.info("memory")["used_memory"] - before
    per_1000_mb = used / (WORKLOADS / 1000) / 2**20
    by_part = defaultdict(int)
    for key in redis_client.scan_iter("test:*", count=1000):
        part = key.decode().split(":")
        name = "history" if part[1] == "hist" else part[3] if part[1] == "s" else part[1]
        by_part[name] += redis_client.memory_usage(key, samples=0) or 0
    print(
        f"\nRedis memory: {per_1000_mb:.2f} MB per 1,000 workloads "
        f"({used / 2**20:.1f} MB for {WORKLOADS}); write of {WORKLOADS} in {write_seconds:.2f} s"
    )
    for name, size in sorted(by_part.items(), key=lambda item: -item[1])[:8]:
        print(f"  {name:16} {size / 2**20:7.2f} MB")
    assert per_1000_mb < 20

    page_started = time.perf_counter()
    page = store.workload_page("1m", WorkloadQuery(sort="p99", descending=True, page=40))
    assert len(page.items) == 50
    assert time.perf_counter() - page_started < 0.5
