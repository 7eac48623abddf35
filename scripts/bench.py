"""`make bench`: how fast meshdash collects and serves, at several mesh sizes, in one run.

For each size (MESHDASH_BENCH_SIZES, default 200,1000,5000 workloads) it starts, for real and on
free loopback ports: a private Redis, the demo mesh (`manage.py demo_mesh`), and a Prometheus
scraping it. Then:

1. Collection: each window collected MESHDASH_BENCH_COLLECTIONS times (default 3) through the
   same function Celery runs; wall time, time waiting on Prometheus and on the Kubernetes API,
   PromQL query count; Redis memory per 1,000 workloads in steady state (INFO used_memory once
   replaced versions have expired: the current snapshot of every window plus the history), in
   total and per window.
2. Baseline: the queries the Linkerd viz dashboard sends for one view of the same list (its
   stat summary for deployments in all namespaces over 1m: requests, p50, p95, p99 and TCP, run
   in parallel as viz's metrics-api runs them), timed against the same Prometheus.
3. Pages: Prometheus and the demo mesh are stopped first (a page never needs them), then gunicorn
   serves meshdash and this script requests the workload list (random sorts, filters, pages), the
   workload detail page and the overview, MESHDASH_BENCH_REQUESTS times each (default 200):
   median and p95 of the round trip over loopback, and the largest HTML size.

It prints a table and writes bench-results.json. Figures are medians/p95 of one run on a shared
machine: compare ratios within a run rather than absolute numbers across runs.
"""

import concurrent.futures
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshdash.lib import processes  # noqa: E402
from meshdash.lib.processes import free_port, port_open  # noqa: E402

PYTHON = sys.executable
WINDOWS = ("1m", "10m", "1h")
SCRAPE_INTERVAL = os.environ.get("MESHDASH_BENCH_SCRAPE_INTERVAL", "10s")

VIZ_LIST_QUERIES = {
    "requests": 'sum(increase(response_total{direction="inbound"}[1m])) '
    "by (namespace, deployment, classification, tls)",
    "p50": "histogram_quantile(0.5, sum(irate(response_latency_ms_bucket"
    '{direction="inbound"}[1m])) by (le, namespace, deployment))',
    "p95": "histogram_quantile(0.95, sum(irate(response_latency_ms_bucket"
    '{direction="inbound"}[1m])) by (le, namespace, deployment))',
    "p99": "histogram_quantile(0.99, sum(irate(response_latency_ms_bucket"
    '{direction="inbound"}[1m])) by (le, namespace, deployment))',
    "tcp_connections": 'sum(tcp_open_connections{direction="inbound"}) by (namespace, deployment)',
    "tcp_read": 'sum(increase(tcp_read_bytes_total{direction="inbound", peer="src"}[1m])) '
    "by (namespace, deployment)",
    "tcp_write": 'sum(increase(tcp_write_bytes_total{direction="inbound", peer="src"}[1m])) '
    "by (namespace, deployment)",
}


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Until ``check()`` is true; a check that cannot connect yet counts as false."""

    def ready() -> bool:
        try:
            return bool(check())
        except OSError:
            return False

    try:
        processes.wait_until(ready, timeout, 0.25, proc=proc)
    except processes.ProcessExited:
        raise RuntimeError(f"{what}: the process exited with {proc.returncode}") from None
    except TimeoutError:
        raise TimeoutError(f"{what}: not ready after {timeout:.0f}s") from None


def start(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    return processes.start(args, log, env)


def stop(proc: subprocess.Popen | None) -> None:
    processes.stop(proc, timeout=15)


def prom_query(base: str, query: str, timeout: float = 60.0) -> dict:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (our own http URL)
        return json.load(resp)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(seconds: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 2),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
        "n": len(seconds),
    }


class Stack:
    """Redis, the demo mesh and Prometheus for one mesh size, in a private directory."""

    def __init__(self, workloads: int, work_dir: Path):
        self.workloads = workloads
        self.dir = work_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_port = free_port()
        self.prom_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.prom_url = f"http://127.0.0.1:{self.prom_port}"
        self.demo_dir = self.dir / "demo"

    def start(self) -> None:
        redis_dir = self.dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        self.procs["redis"] = start(
            processes.redis_command(self.redis_port, redis_dir), self.dir / "logs" / "redis.log"
        )
        wait_until(lambda: port_open(self.redis_port), 20, "redis", self.procs["redis"])
        mesh = processes.demo_mesh_command(
            self.demo_dir, self.workloads, scrape_interval=SCRAPE_INTERVAL
        )
        self.procs["demo"] = start(mesh, self.dir / "logs" / "demo.log")
        ready = processes.demo_mesh_ready(self.demo_dir)
        wait_until(ready.exists, 300, "demo mesh", self.procs["demo"])
        prometheus = processes.prometheus_command(
            self.demo_dir / "prometheus.yml",
            self.dir / "prometheus",
            self.prom_port,
            extra=["--log.level=warn"],
        )
        self.procs["prometheus"] = start(prometheus, self.dir / "logs" / "prometheus.log")
        wait_until(lambda: port_open(self.prom_port), 60, "prometheus", self.procs["prometheus"])

    def wait_for_samples(self, samples: int = 4) -> float:
        """Wait until every target was scraped `samples` times; returns the seconds waited."""
        started = time.monotonic()
        query = "min(count_over_time(up[10m]))"

        def enough() -> bool:
            result = prom_query(self.prom_url, query)["data"]["result"]
            return bool(result) and float(result[0]["value"][1]) >= samples

        wait_until(enough, 600, "prometheus samples", self.procs["prometheus"])
        return time.monotonic() - started

    def stop_sources(self) -> None:
        stop(self.procs.pop("prometheus", None))
        stop(self.procs.pop("demo", None))

    def stop(self) -> None:
        for proc in self.procs.values():
            stop(proc)
        self.procs.clear()


def bench_collection(stack: Stack, repeats: int) -> dict:
    import django

    django.setup()
    import redis
    from django.conf import settings

    from meshdash.collectors.kubernetes import KubernetesClient
    from meshdash.collectors.prometheus import PrometheusClient
    from meshdash.collectors.run import collect_and_store
    from meshdash.store import SnapshotStore

    client = redis.Redis.from_url(stack.redis_url)
    client.flushdb()
    baseline_memory = client.info("memory")["used_memory"]
    store = SnapshotStore(client, settings.MESHDASH_REDIS_PREFIX)
    settings.KUBECONFIG = str(stack.demo_dir / "kubeconfig")
    kube = KubernetesClient.from_settings()
    results: dict[str, dict] = {}
    for window in WINDOWS:
        runs = []
        for _ in range(repeats):
            prometheus = PrometheusClient(
                stack.prom_url,
                timeout=settings.PROMETHEUS_TIMEOUT_SECONDS,
                max_concurrency=settings.PROMETHEUS_MAX_CONCURRENCY,
            )
            outcome = collect_and_store(window, store, prometheus=prometheus, kube=kube)
            meta = store.meta(window)
            runs.append(
                {
                    "status": outcome.status,
                    "wall_seconds": meta.collect_seconds,
                    "prometheus_seconds": meta.prometheus_seconds,
                    "kubernetes_seconds": meta.kubernetes_seconds,
                    "queries": meta.query_count,
                    "workloads": meta.workload_count,
                    "errors": outcome.errors,
                }
            )
        results[window] = {
            "runs": runs,
            "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in runs), 3),
            "median_prometheus_seconds": round(
                statistics.median(r["prometheus_seconds"] for r in runs), 3
            ),
            "median_kubernetes_seconds": round(
                statistics.median(r["kubernetes_seconds"] for r in runs), 3
            ),
            "queries": runs[-1]["queries"],
            "workloads": runs[-1]["workloads"],
        }
    # Steady state: replaced versions and cached filter results expire first.
    time.sleep(max(settings.MESHDASH_SNAPSHOT_TTL_SECONDS, 30) + 2)
    used = client.info("memory")["used_memory"] - baseline_memory
    per_thousand = stack.workloads / 1000
    results["redis_mb_per_1000_workloads"] = round(used / 1e6 / per_thousand, 2)
    results["redis_mb_per_1000_workloads_per_window"] = round(
        used / 1e6 / per_thousand / len(WINDOWS), 2
    )
    return results


def bench_viz_baseline(stack: Stack, repeats: int = 5) -> dict:
    """Wall time for viz's parallel stat-summary queries for one view of the deployment list."""
    walls = []
    with concurrent.futures.ThreadPoolExecutor(len(VIZ_LIST_QUERIES)) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(lambda q: prom_query(stack.prom_url, q), VIZ_LIST_QUERIES.values()))
            walls.append(time.perf_counter() - started)
    return summary_ms(walls)


def bench_pages(stack: Stack, requests_each: int) -> dict:
    import redis
    from django.conf import settings

    from meshdash.mesh.query import SORT_KEYS
    from meshdash.store import SnapshotStore

    store = SnapshotStore(redis.Redis.from_url(stack.redis_url), settings.MESHDASH_REDIS_PREFIX)
    namespaces = store.namespace_names("1m")
    rows = store.workload_page("1m", _query(per_page=200)).items
    port = free_port()
    env = dict(
        os.environ,
        REDIS_URL=stack.redis_url,
        MESHDASH_ANONYMOUS_READ="true",
        DATABASE_URL=f"sqlite:///{stack.dir / 'db.sqlite3'}",
        MESHDASH_LOG_LEVEL="WARNING",
    )
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    web = start(
        [str(Path(PYTHON).parent / "gunicorn"), "meshdash.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        stack.dir / "logs" / "web.log",
        env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: port_open(port), 60, "gunicorn", web)
        rng = random.Random(7)

        def list_url() -> str:
            params: list[tuple[str, str]] = [
                ("sort", rng.choice(list(SORT_KEYS))),
                ("dir", rng.choice(["asc", "desc"])),
                ("page", str(rng.randint(1, max(1, stack.workloads // 50)))),
            ]
            roll = rng.random()
            if roll < 0.3 and namespaces:
                params += [("ns", ns) for ns in rng.sample(namespaces, min(2, len(namespaces)))]
            elif roll < 0.45:
                params.append(("health", rng.choice(["critical", "warning", "healthy"])))
            elif roll < 0.6:
                params.append(("q", rng.choice("abcdefghijklmnoprstuvw")))
            return "/workloads/?" + urllib.parse.urlencode(params)

        def detail_url() -> str:
            row = rng.choice(rows)
            return f"/workloads/{row.namespace}/{row.kind}/{row.name}/"

        pages = {"list": list_url, "detail": detail_url, "overview": lambda: "/"}
        results = {}
        for name, make_url in pages.items():
            for _ in range(5):  # warm up both workers
                fetch(base + make_url())
            timings, sizes = [], []
            for _ in range(requests_each):
                elapsed, size = fetch(base + make_url())
                timings.append(elapsed)
                sizes.append(size)
            results[name] = summary_ms(timings) | {"max_html_kb": round(max(sizes) / 1024, 1)}
        return results
    finally:
        stop(web)


def fetch(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (our own http URL)
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url} answered {resp.status}")
    return time.perf_counter() - started, len(body)


def _query(**kwargs):
    from meshdash.mesh.query import WorkloadQuery

    return WorkloadQuery(**kwargs)


def main() -> int:
    # meshdash refuses its built-in secret key outside debugging: a key of this run's own.
    if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
        os.environ["MESHDASH_SECRET_KEY"] = secrets.token_urlsafe(50)
    sizes = [int(s) for s in os.environ.get("MESHDASH_BENCH_SIZES", "200,1000,5000").split(",")]
    repeats = int(os.environ.get("MESHDASH_BENCH_COLLECTIONS", "3"))
    requests_each = int(os.environ.get("MESHDASH_BENCH_REQUESTS", "200"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshdash.settings")
    for binary in ("redis-server", "prometheus"):
        try:
            processes.binary(binary)
        except processes.MissingBinary as exc:
            print(exc, file=sys.stderr)
            return 2
    report: dict = {"sizes": {}, "scrape_interval": SCRAPE_INTERVAL, "started": time.time()}
    work_root = Path(tempfile.mkdtemp(prefix="meshdash-bench-"))
    try:
        for workloads in sizes:
            print(f"== {workloads} workloads", flush=True)
            stack = Stack(workloads, work_root / str(workloads))
            try:
                stack.start()
                waited = stack.wait_for_samples()
                series = prom_query(stack.prom_url, "count({__name__=~'.+'})")["data"]["result"]
                entry = {
                    "series": int(float(series[0]["value"][1])) if series else 0,
                    "seconds_until_4_scrapes": round(waited, 1),
                    "collection": bench_collection(stack, repeats),
                    "viz_baseline": bench_viz_baseline(stack),
                }
                stack.stop_sources()
                entry["pages"] = bench_pages(stack, requests_each)
                report["sizes"][str(workloads)] = entry
                print(json.dumps(entry, indent=1), flush=True)
            finally:
                stack.stop()
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    report["targets"] = check_targets(report["sizes"])
    (ROOT / "bench-results.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


def check_targets(sizes: dict) -> dict:
    """The targets of the collection pipeline and browsing UI, checked against this run."""
    targets = {}
    if "5000" in sizes:
        targets["collect_1m_5000_under_10s"] = (
            sizes["5000"]["collection"]["1m"]["median_wall_seconds"] <= 10
        )
        targets["list_p95_5000_under_25ms"] = sizes["5000"]["pages"]["list"]["p95_ms"] <= 25
    if "5000" in sizes and "200" in sizes:
        targets["list_p95_5000_within_1.5x_of_200"] = (
            sizes["5000"]["pages"]["list"]["p95_ms"]
            <= 1.5 * sizes["200"]["pages"]["list"]["p95_ms"]
        )
    if "1000" in sizes:
        ratio = (
            sizes["1000"]["viz_baseline"]["median_ms"] / sizes["1000"]["pages"]["list"]["median_ms"]
        )
        targets["list_vs_viz_baseline_1000_ratio"] = round(ratio, 1)
        targets["list_50x_faster_than_viz_1000"] = ratio >= 50
    queries = {size: entry["collection"]["1m"]["queries"] for size, entry in sizes.items()}
    targets["queries_independent_of_size"] = len(set(queries.values())) <= 1
    targets["redis_under_20mb_per_1000"] = all(
        entry["collection"]["redis_mb_per_1000_workloads"] < 20 for entry in sizes.values()
    )
    targets["pages_under_150kb"] = all(
        page["max_html_kb"] <= 150 for entry in sizes.values() for page in entry["pages"].values()
    )
    return targets


def print_table(report: dict) -> None:
    header = (
        f"{'workloads':>9} {'series':>8} {'window':>6} {'collect s':>9} {'prom s':>7} "
        f"{'kube s':>7} {'queries':>7} {'redis MB/1k (all windows)':>26}"
    )
    print("\nCollection (medians)\n" + header)
    for size, entry in report["sizes"].items():
        coll = entry["collection"]
        for window in WINDOWS:
            w = coll[window]
            print(
                f"{size:>9} {entry['series']:>8} {window:>6} {w['median_wall_seconds']:>9} "
                f"{w['median_prometheus_seconds']:>7} {w['median_kubernetes_seconds']:>7} "
                f"{w['queries']:>7} {coll['redis_mb_per_1000_workloads']:>26}"
            )
    print("\nPages through gunicorn (ms; largest HTML in KB) and the viz baseline")
    print(f"{'workloads':>9} {'page':>9} {'median':>8} {'p95':>8} {'max KB':>7}")
    for size, entry in report["sizes"].items():
        for page, figures in entry["pages"].items():
            print(
                f"{size:>9} {page:>9} {figures['median_ms']:>8} {figures['p95_ms']:>8} "
                f"{figures['max_html_kb']:>7}"
            )
        base = entry["viz_baseline"]
        print(f"{size:>9} {'viz list':>9} {base['median_ms']:>8} {base['p95_ms']:>8} {'-':>7}")
    print("\nTargets:", json.dumps(report["targets"], indent=1))


if __name__ == "__main__":
    sys.exit(main())
