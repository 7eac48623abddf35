"""`make bench` (history part): what meshdash's own history costs, in a private SQLite database.

1. Size: 30 days of synthetic points for ``--workloads`` (1,000) workloads with 2 pods each,
   seeded straight into the tables as they stand in steady state (every tier full, closed
   chunks packed, the open ones as records; the 10m and 1h windows' own points; the mesh's),
   with noise like real traffic's (rates wandering through the day, success rates below 1 by a
   little, latencies and memory jittering): bytes per 1,000 workloads after VACUUM.
2. Reads on that database: a 30-day, a 24-hour and a 1-hour chart of one workload, its pods'
   30 days, its baselines: median and p95 server time over ``--reads`` (200) random workloads.
3. Writing at ``--collection-workloads`` (5,000) workloads with 2 pods each: what a collection
   adds (the overview's baseline and the points; the first minute, which makes the series, and
   the following ones), what the other collections of a minute add (the claim alone), and a
   roll-up round; against the store's own write of the same snapshot into a private Redis.
4. Backfill (``--backfill-workloads``, default 5,000; 0 skips it): the demo mesh scraped by a
   private Prometheus for ``--backfill-minutes`` (6), then the backfill timed, query by query,
   and an estimate for the 6 hours a default Prometheus keeps (``bench_backfill``).

``--phases`` runs some of size (with the reads), writes and backfill, keeping the others' last
figures from bench-history-results.json. It prints a table and writes that file. One run on a
shared machine: compare ratios within a run rather than numbers across runs.
"""

import argparse
import json
import math
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

DAY = 86400


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def timing(seconds: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 2),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
        "n": len(seconds),
    }


def setup(work_dir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work_dir / 'history.sqlite3'}"
    if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
        os.environ["MESHDASH_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "meshdash.settings"
    os.environ["MESHDASH_DOTENV"] = ""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- 1. Seeding 30 days.


class Traffic:
    """One workload's synthetic figures: a daily wave, jitter, a quiet fifth of workloads."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.quiet = rng.random() < 0.2
        self.rps = rng.lognormvariate(2, 1.5)
        self.p50 = rng.uniform(1, 30)
        self.failing = rng.choice((0.0, 0.0, 0.001, 0.01))

    def point(self, t: int) -> tuple:
        rng = self.rng
        if self.quiet:
            return (None, 0.0, None, None, None, 0.0)
        wave = 1 + 0.5 * math.sin(2 * math.pi * (t % DAY) / DAY)
        rps = self.rps * wave * rng.uniform(0.9, 1.1)
        success = 1.0 - self.failing * rng.uniform(0, 2) if self.failing else 1.0
        p50 = self.p50 * rng.uniform(0.9, 1.1)
        return (success, rps, p50, p50 * rng.uniform(3, 5), p50 * rng.uniform(6, 12),
                float(rng.randint(5, 15)))  # fmt: skip


class Proxy:
    def __init__(self, rng: random.Random, born: int):
        self.rng = rng
        self.born = born
        self.memory = rng.uniform(20e6, 60e6)

    def point(self, t: int) -> tuple:
        rng = self.rng
        growth = 1.5e6 * (t - self.born) / (7 * DAY)
        expiry = (t // DAY + 1) * DAY + 3600  # renewed daily
        return (self.memory + growth + rng.uniform(-2e5, 2e5), rng.uniform(0.002, 0.02),
                expiry, 0)  # fmt: skip


def seed(workloads: int, now: int, seed_value: int = 7) -> dict:
    """Write 30 days of points for ``workloads`` workloads (2 pods each); what was written."""
    from meshdash.history import write
    from meshdash.history.models import Chunk, Series
    from meshdash.history.packing import LAYOUTS
    from meshdash.mesh.history import MESH, POD, WORKLOAD

    rng = random.Random(seed_value)
    tiers = write.tiers()
    windows = {"1m": (60, True), "10m": (60, False), "1h": (300, False)}
    series = []  # (Series, points function, every, all tiers)
    for i in range(workloads):
        key = f"ns-{i % 50:03d}/deployment/app-{i:06d}"
        traffic = Traffic(rng)
        for window, (every, all_tiers) in windows.items():
            series.append((Series(scope=WORKLOAD.code, window=window, key=key, last_seen=now),
                           traffic.point, every, all_tiers))  # fmt: skip
        for p in range(2):
            proxy = Proxy(rng, now - 30 * DAY)
            series.append((Series(scope=POD.code, window="", key=f"ns-{i % 50:03d}/app-{i:06d}-{p}",
                                  owner=key, last_seen=now), proxy.point, 60, True))  # fmt: skip
    for window, (every, all_tiers) in windows.items():
        series.append((Series(scope=MESH.code, window=window, key="", last_seen=now),
                       lambda t: (workloads, 2 * workloads, 2 * workloads, 5000.0, 0.999, 3, 9),
                       every, all_tiers))  # fmt: skip
    Series.objects.bulk_create([s for s, *_ in series], batch_size=2000)
    rows, points = [], 0
    for row, point, every, all_tiers in series:
        layout = LAYOUTS[row.scope]
        for index, tier in enumerate(tiers if all_tiers else tiers[:1]):
            step = max(every, tier.step)
            first = tier.chunk_start(now - tier.keep)
            for start in range(first, now, tier.chunk):
                first_t = max(start, tier.bucket(now - tier.keep))
                times = range(first_t, min(start + tier.chunk, now), step)
                slots = {(t - start) // tier.step: point(t) for t in times}
                if not slots:
                    continue
                points += len(slots)
                closed = start + tier.chunk <= now - tier.step
                data = (
                    layout.pack(tier.slots, slots)
                    if closed
                    else layout.records(sorted(slots.items()))
                )
                rows.append(Chunk(series=row, tier=index, start=start, packed=closed, data=data))
        if len(rows) > 5000:
            Chunk.objects.bulk_create(rows, batch_size=2000)
            rows = []
    Chunk.objects.bulk_create(rows, batch_size=2000)
    return {"series": len(series), "chunks": Chunk.objects.count(), "points": points}


def database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return pages * cursor.fetchone()[0]


def bench_reads(workloads: int, now: int, reads: int) -> dict:
    from meshdash.history import read
    from meshdash.mesh.model import WorkloadKey

    rng = random.Random(11)
    results = {}
    for name, seconds in (("30d", 30 * DAY), ("24h", DAY), ("1h", 3600)):
        times, points = [], 0
        for _ in range(reads):
            i = rng.randrange(workloads)
            key = WorkloadKey(f"ns-{i % 50:03d}", "deployment", f"app-{i:06d}")
            started = time.perf_counter()
            series = read.workload_history(key, now - seconds, now, now=now)
            times.append(time.perf_counter() - started)
            points += len(series.points)
        results[f"workload_{name}"] = {**timing(times), "points": points // reads}
    times = []
    for _ in range(reads):
        i = rng.randrange(workloads)
        key = WorkloadKey(f"ns-{i % 50:03d}", "deployment", f"app-{i:06d}")
        started = time.perf_counter()
        read.workload_pods_history(key, now - 30 * DAY, now, now=now)
        times.append(time.perf_counter() - started)
    results["pods_30d"] = timing(times)
    times = []
    for _ in range(reads):
        i = rng.randrange(workloads)
        key = WorkloadKey(f"ns-{i % 50:03d}", "deployment", f"app-{i:06d}")
        started = time.perf_counter()
        read.baselines(key, now=now)
        times.append(time.perf_counter() - started)
    results["baselines"] = timing(times)
    return results


# --- 3. Writing at a collection's pace.


def snapshot(workloads: int, taken_at: float, rng: random.Random):
    from meshdash.mesh.model import Pod, Snapshot, Workload

    items, pods = [], []
    for i in range(workloads):
        traffic = Traffic(rng)
        success, rps, p50, p95, p99, tcp = traffic.point(int(taken_at))
        w = Workload(f"ns-{i % 50:03d}", "deployment", f"app-{i:06d}", meshed_pods=2,
                     total_pods=2, success_rate=success, rps=rps, latency_ms_p50=p50,
                     latency_ms_p95=p95, latency_ms_p99=p99, tcp_open_connections=tcp,
                     last_rollout=taken_at - DAY, health="healthy")  # fmt: skip
        items.append(w)
        for p in range(2):
            pods.append(Pod(w.namespace, f"app-{i:06d}-{p}", workload_kind="deployment",
                            workload_name=w.name, has_proxy=True, restarts=0,
                            proxy_memory_bytes=rng.uniform(20e6, 60e6),
                            proxy_cert_expiry=taken_at + DAY))  # fmt: skip
    return Snapshot(window="1m", taken_at=taken_at, workloads=items, pods=pods)


def bench_writes(workloads: int, now: int, work_dir: Path) -> dict:
    from meshdash.history import collection, maintain, read, write
    from meshdash.lib import processes
    from meshdash.store import SnapshotStore

    rng = random.Random(5)
    minute = now // 3600 * 3600 + 3600  # a new hour: the drops' baselines are read cold
    snap = snapshot(workloads, minute + 1.0, rng)
    result: dict = {"workloads": workloads, "pods": len(snap.pods)}

    def one(taken_at: float) -> tuple[float, float]:
        snap.taken_at = taken_at
        started = time.perf_counter()
        collection.overview(snap)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        written = collection.record(snap)
        assert written or taken_at % 60 > 5, "nothing written"
        return baseline, time.perf_counter() - started

    read._drop_cache.clear()
    result["first_minute_ms"] = [round(x * 1000, 1) for x in one(minute + 1.0)]
    baselines, records, claims = [], [], []
    for m in range(1, 6):
        b, r = one(minute + 60 * m + 1.0)
        baselines.append(b)
        records.append(r)
        claims.append(sum(one(minute + 60 * m + 11.0)))
    result["minute_ms"] = {
        "baseline": round(statistics.median(baselines) * 1000, 1),
        "points": round(statistics.median(records) * 1000, 1),
    }
    result["other_collections_ms"] = round(statistics.median(claims) * 1000, 2)
    # In steady state a round rolls up the one 5-minute bucket that just closed.
    maintain._set_state("rolled:1", minute)
    maintain._set_state("rolled:2", minute)
    started = time.perf_counter()
    rolled = maintain.roll_up(minute + 330)
    result["roll_up_5m"] = {"points": rolled, "ms": round((time.perf_counter() - started) * 1000)}
    started = time.perf_counter()
    packed = maintain.pack(minute + 3 * 3600)
    result["pack"] = {"chunks": packed, "ms": round((time.perf_counter() - started) * 1000)}
    write._ids.clear()

    port = processes.free_port()
    redis_dir = work_dir / "redis"
    redis_dir.mkdir()
    proc = processes.start(processes.redis_command(port, redis_dir), work_dir / "redis.log")
    try:
        processes.wait_for_port(port)
        import redis

        store = SnapshotStore(redis.Redis(port=port), "bench", snapshot_ttl_seconds=60)
        times = []
        for m in range(3):
            snap.taken_at = minute + 600 + 60 * m
            started = time.perf_counter()
            store.write(snap)
            times.append(time.perf_counter() - started)
        result["store_write_ms"] = round(statistics.median(times) * 1000, 1)
    finally:
        processes.stop(proc)
    return result


# --- 4. Backfill from the demo's Prometheus.


def bench_backfill(workloads: int, minutes: int, work_dir: Path) -> dict:
    """The backfill against the demo mesh's Prometheus holding ``minutes`` of data, and an
    upper bound for the 6 hours linkerd-viz's Prometheus keeps (all of a query's time taken
    for the steps that held data): each 5-minute query's time per step
    that held data times 72 steps, and each hourly query's cost per step measured as an
    instant query over the last hour, times 6 steps, times the hour's samples over those
    held (a step's cost grows with the samples it reads)."""
    import bench
    from prometheus_api_client import PrometheusConnect

    from meshdash.history import backfill, write
    from meshdash.history.models import Chunk

    tiers = write.tiers()
    stack = bench.Stack(workloads, work_dir / "stack")
    try:
        stack.start()
        stack.wait_for_samples(2)
        time.sleep(minutes * 60)
        Chunk.objects.all().delete()
        write._ids.clear()
        client = PrometheusConnect(stack.prom_url)
        timed: list[tuple[str, int, float]] = []
        original = client.custom_query_range

        def recorded(query, **kwargs):
            started = time.perf_counter()
            try:
                return original(query, **kwargs)
            finally:
                timed.append((query, int(kwargs["step"]), time.perf_counter() - started))

        client.custom_query_range = recorded
        started = time.perf_counter()
        status = backfill.backfill(client, now=time.time())
        seconds = time.perf_counter() - started
        hourly = []
        for query, step, _ in timed:
            if step == tiers[-1].step:
                began = time.perf_counter()
                client.custom_query(query, params={"timeout": "120s"})
                hourly.append(time.perf_counter() - began)
    finally:
        stack.stop()
    fine = tiers[1].step
    with_data = max(1, minutes * 60 // fine)
    five_minute = sum(s for _, step, s in timed if step == fine)
    estimate = five_minute * (6 * 3600 // fine) / with_data
    estimate += sum(hourly) * (6 * 3600 // tiers[-1].step) * 60 / minutes
    return {
        "workloads": workloads,
        "minutes_of_data": minutes,
        "state": status.state,
        "message": status.message,
        "seconds": round(seconds, 1),
        "queries": [(q[:60], step, round(s, 2)) for q, step, s in timed],
        "hourly_instant_seconds": [round(s, 2) for s in hourly],
        "six_hours_seconds": round(estimate, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--collection-workloads", type=int, default=5000)
    parser.add_argument("--backfill-workloads", type=int, default=5000)
    parser.add_argument("--backfill-minutes", type=int, default=6)
    parser.add_argument(
        "--phases", default="size,writes,backfill", help="of size (and reads), writes, backfill"
    )
    options = parser.parse_args(argv)
    phases = set(options.phases.split(","))
    work_dir = Path(tempfile.mkdtemp(prefix="meshdash-bench-history-"))
    report: dict = {"started": time.time()}
    try:
        setup(work_dir)
        now = int(time.time()) // 60 * 60
        if "size" in phases:
            started = time.perf_counter()
            report["seeded"] = seed(options.workloads, now)
            report["seed_seconds"] = round(time.perf_counter() - started)
            size = database_bytes()
            report["bytes_per_1000_workloads"] = round(size * 1000 / options.workloads)
            print(json.dumps(report, indent=1), flush=True)
            report["reads"] = bench_reads(options.workloads, now, options.reads)
            print(json.dumps(report["reads"], indent=1), flush=True)
        if "writes" in phases:
            report["writes"] = bench_writes(options.collection_workloads, now, work_dir)
            print(json.dumps(report["writes"], indent=1), flush=True)
        if "backfill" in phases and options.backfill_workloads:
            report["backfill"] = bench_backfill(
                options.backfill_workloads, options.backfill_minutes, work_dir
            )
            print(json.dumps(report["backfill"], indent=1), flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report["seconds"] = round(time.time() - report["started"])
    results = ROOT / "bench-history-results.json"
    if phases != {"size", "writes", "backfill"} and results.exists():
        report = {**json.loads(results.read_text()), **report}  # the other phases' last figures
    results.write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


def print_table(report: dict) -> None:
    if not {"reads", "writes"} <= report.keys():
        return
    mb = report["bytes_per_1000_workloads"] / 1e6
    reads = report["reads"]
    writes = report["writes"]
    added = writes["minute_ms"]["baseline"] + writes["minute_ms"]["points"]
    print()
    print("| figure | value | goal |")
    print("| --- | ---: | ---: |")
    print(f"| storage, 30 days, per 1,000 workloads x 2 pods | {mb:.1f} MB | 50 MB |")
    for name in ("30d", "24h", "1h"):
        r = reads[f"workload_{name}"]
        print(f"| {name} chart of one workload, median / p95 | {r['median_ms']} / {r['p95_ms']} ms"
              f" ({r['points']} points) | p95 20 ms (30d) |")  # fmt: skip
    print(f"| 30 days of a workload's pods, median / p95 | {reads['pods_30d']['median_ms']} / "
          f"{reads['pods_30d']['p95_ms']} ms | |")  # fmt: skip
    print(f"| baselines of one workload, median / p95 | {reads['baselines']['median_ms']} / "
          f"{reads['baselines']['p95_ms']} ms | |")  # fmt: skip
    print(f"| added to the minute's first collection at {writes['workloads']:,} workloads "
          f"({writes['pods']:,} pods) | {added:.0f} ms (baseline {writes['minute_ms']['baseline']},"
          f" points {writes['minute_ms']['points']}) | 10 % of a collection |")  # fmt: skip
    print(f"| added to the minute's other collections | {writes['other_collections_ms']} ms | |")
    print(f"| the store's own write of that snapshot | {writes['store_write_ms']} ms | |")
    print(f"| first minute (series made, baselines cold) | {writes['first_minute_ms']} ms | |")
    print(f"| roll-up of a 5-minute bucket (beat) | {writes['roll_up_5m']['ms']} ms | |")
    if "backfill" in report:
        b = report["backfill"]
        print(f"| backfill at {b['workloads']:,} workloads, {b['minutes_of_data']} min of data | "
              f"{b['seconds']} s ({b['state']}) | |")  # fmt: skip
        print(f"| backfill, 6 h of data (upper bound) | {b['six_hours_seconds']} s | 60 s |")


if __name__ == "__main__":
    sys.exit(main())
