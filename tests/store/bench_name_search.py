"""Times cold name-search pages at several sizes on a private Redis:
``python -m tests.store.bench_name_search [--sizes 1000,5000,20000,50000]``.

Synthetic snapshots (``tests.store.synthetic``, unique names such as ``worker-1234``) are
written one size at a time; each needle is read with the result cache off (every read is
cold), on random pages and sorts, alone and with a namespace or a health filter. Prints the
median and p95 wall time of a page read and the median Redis CPU of one (its commands'
time, ``INFO commandstats``, reset before each read), in ms, and the Redis memory of the
one-letter search's index.
"""

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import redis

from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
from meshdash.store import SnapshotStore
from tests import servers
from tests.store import synthetic

NEEDLES = {
    "one letter": ("a", "e", "r"),
    "two letters": ("er", "ap", "-1"),
    "three letters": ("api", "ker", "b-1"),
    "rare": ("db-777", "cache-4242", "zzz"),
}


def _times(store, queries) -> tuple[float, float, float]:
    walls, redis_times = [], []
    for query in queries:
        store.client.config_resetstat()
        started = time.perf_counter()
        store.workload_page("1m", query)
        walls.append(time.perf_counter() - started)
        # The script's own time (its commands' included), not the reset's or this INFO's.
        stats = store.client.info("commandstats")
        redis_times.append(
            sum(v["usec"] for k, v in stats.items() if k.startswith("cmdstat_evalsha"))
        )
    walls.sort()
    return (
        statistics.median(walls) * 1000,
        walls[int(len(walls) * 0.95)] * 1000,
        statistics.median(redis_times) / 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,20000,50000")
    parser.add_argument("--reads", type=int, default=60)
    options = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as data_dir:
        proc, port = servers.start_redis(Path(data_dir))
        client = redis.Redis(port=port)
        try:
            for size in map(int, options.sizes.split(",")):
                client.flushdb()
                mesh = synthetic.snapshot(
                    size, seed=3, pods_per_workload=0, edges_per_workload=0, unique_names=True
                )
                store = SnapshotStore(
                    client, "bench", snapshot_ttl_seconds=60, cache_max_entries=0, cache_max_bytes=0
                )
                before = client.info("memory")["used_memory"]
                store.write(mesh)
                version = store.current_version("1m")
                index = sum(
                    client.memory_usage(key) or 0
                    for key in client.scan_iter(f"bench:s:{version}:search*")
                )
                grown = client.info("memory")["used_memory"] - before
                print(
                    f"{size} workloads: version {grown / 1e6:.1f} MB,"
                    f" search index {index / 1e6:.2f} MB"
                )
                namespaces = sorted({w.namespace for w in mesh.workloads})
                for label, needles in NEEDLES.items():
                    for extra in ("alone", "namespace", "health"):
                        queries = []
                        for _ in range(options.reads):
                            fields = {
                                "search": rng.choice(needles),
                                "sort": rng.choice(list(SORT_KEYS)),
                                "descending": rng.random() < 0.5,
                                "page": rng.randint(1, max(1, size // 50)),
                            }
                            if extra == "namespace":
                                fields["namespaces"] = (rng.choice(namespaces),)
                            elif extra == "health":
                                fields["health"] = rng.choice(["healthy", "warning", "critical"])
                            queries.append(WorkloadQuery(**fields))
                        median, p95, cpu = _times(store, queries)
                        print(
                            f"  {label:14} {extra:10} median {median:6.2f}  p95 {p95:6.2f}"
                            f"  Redis {cpu:6.2f} ms"
                        )
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
