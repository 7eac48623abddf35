"""Times the store's hot paths on a private Redis: ``python -m tests.store.bench [--profile]``.

A synthetic snapshot (3 pods and 3 edges per workload) is written, as the 1m window, after 59
minutes of history; then the history of 50-workload pages is read, as ``histories()`` and as
the list page reads it (``sparklines()``). Medians over several runs, with the CPU time of
this process and of Redis (steadier than wall time on a busy machine). ``--profile`` prints
cProfile's top entries for one more write.
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

from meshdash.dashboard.charts import SPARK_POINTS
from meshdash.store import SnapshotStore
from tests import servers
from tests.store import synthetic

T0 = 1_700_000_040.0  # a minute boundary
PAGE = 50


def _redis_cpu_seconds(client) -> float:
    cpu = client.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def _medians_ms(client, run, repeat: int) -> tuple[float, float, float]:
    """Median wall time, CPU time of this process and CPU time of Redis of ``run()``, in ms."""
    walls, ours, redis_cpu = [], [], []
    for _ in range(repeat):
        redis_before = _redis_cpu_seconds(client)
        cpu_before, started = time.process_time(), time.perf_counter()
        run()
        walls.append(time.perf_counter() - started)
        ours.append(time.process_time() - cpu_before)
        redis_cpu.append(_redis_cpu_seconds(client) - redis_before)
    return tuple(statistics.median(values) * 1000 for values in (walls, ours, redis_cpu))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", type=int, default=5000)
    parser.add_argument("--writes", type=int, default=9)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()

    mesh = synthetic.snapshot(
        options.workloads, seed=3, pods_per_workload=3, edges_per_workload=3, unique_names=True
    )
    print(f"{len(mesh.workloads)} workloads, {len(mesh.pods)} pods, {len(mesh.edges)} edges")
    with tempfile.TemporaryDirectory() as data_dir:
        proc, port = servers.start_redis(Path(data_dir))
        client = redis.Redis(port=port)
        try:
            store = SnapshotStore(client, "bench", snapshot_ttl_seconds=60)
            for minute in range(59):
                store.record_history(mesh.workloads, T0 + minute * 60)
            # Every write of the same minute, as the 1m window's every 10 s.
            taken_at = iter(T0 + 59 * 60 + tenth / 10 for tenth in range(600))

            def write():
                store.write(dataclasses.replace(mesh, taken_at=next(taken_at)))

            wall, ours, theirs = _medians_ms(client, write, options.writes)
            print(
                f"write: {wall:.0f} ms wall, {ours:.0f} ms CPU here, {theirs:.0f} ms CPU in Redis"
                f" (medians of {options.writes})"
            )

            keys = [w.key for w in mesh.workloads]
            pages = iter([keys[start : start + PAGE] for start in range(0, len(keys), PAGE)] * 100)
            for name, read in (
                ("histories()", lambda: store.histories(next(pages))),
                ("sparklines()", lambda: store.sparklines(next(pages), SPARK_POINTS)),
            ):
                wall, ours, _ = _medians_ms(client, read, options.reads)
                print(
                    f"{name} of {PAGE} workloads: {wall:.2f} ms wall, {ours:.2f} ms CPU here"
                    f" (medians of {options.reads})"
                )
            if options.profile:
                profile = cProfile.Profile()
                profile.runcall(write)
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        finally:
            client.close()
            servers.stop(proc)


if __name__ == "__main__":
    main()
