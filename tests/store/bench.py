"""Times the store's hot paths on a private Redis: ``python -m tests.store.bench [--profile]``.

A synthetic snapshot of 5,000 workloads (3 pods and 3 edges each) is written after 59 minutes
of history; then the history of 50-workload pages is read the way the list page reads it.
Medians over several runs; ``--profile`` prints cProfile's top entries for one write.
"""

import argparse
import cProfile
import dataclasses
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import redis

from meshdash.store import SnapshotStore
from tests import servers
from tests.store import synthetic

T0 = 1_700_000_040.0


def _median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _redis_cpu(client) -> float:
    cpu = client.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def _write_costs(client, write, repeat: int) -> tuple[float, float, float]:
    """Median wall, Python CPU and Redis CPU of a write, in ms (CPU times are steadier than
    wall time on a busy machine)."""
    walls, ours, theirs = [], [], []
    for _ in range(repeat):
        redis_before, cpu_before, started = (
            _redis_cpu(client),
            time.process_time(),
            time.perf_counter(),
        )
        write()
        walls.append(time.perf_counter() - started)
        ours.append(time.process_time() - cpu_before)
        theirs.append(_redis_cpu(client) - redis_before)
    return tuple(statistics.median(values) * 1000 for values in (walls, ours, theirs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", type=int, default=5000)
    parser.add_argument("--writes", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()

    mesh = synthetic.snapshot(
        options.workloads, seed=3, pods_per_workload=3, edges_per_workload=3, unique_names=True
    )
    with tempfile.TemporaryDirectory() as data_dir:
        proc, port = servers.start_redis(Path(data_dir))
        try:
            client = redis.Redis(port=port)
            store = SnapshotStore(client, "bench", snapshot_ttl_seconds=60)
            for minute in range(59):
                store.record_history(mesh.workloads, T0 + minute * 60)
            taken_at = iter(T0 + 59 * 60 + second for second in range(0, 60, 2))

            def write():
                store.write(dataclasses.replace(mesh, taken_at=next(taken_at)))

            wall_ms, python_ms, redis_ms = _write_costs(client, write, options.writes)
            keys = [w.key for w in mesh.workloads]
            pages = [keys[start : start + 50] for start in range(0, len(keys), 50)]
            page = iter(pages * 20)
            histories_ms = _median_ms(lambda: store.histories(next(page)), 50)
            sparklines = getattr(store, "sparklines", None)
            sparklines_ms = sparklines and _median_ms(lambda: sparklines(next(page), 16), 50)
            print(
                f"{len(mesh.workloads)} workloads, {len(mesh.pods)} pods, {len(mesh.edges)} edges"
            )
            print(
                f"write: median {wall_ms:.0f} ms wall, {python_ms:.0f} ms Python CPU,"
                f" {redis_ms:.0f} ms Redis CPU over {options.writes}"
            )
            print(f"histories() of 50 workloads: median {histories_ms:.2f} ms over 50")
            if sparklines_ms:
                print(f"sparklines() of 50 workloads: median {sparklines_ms:.2f} ms over 50")
            if options.profile:
                profile = cProfile.Profile()
                profile.runcall(write)
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            client.close()
        finally:
            servers.stop(proc)


if __name__ == "__main__":
    main()
