"""`make bench`: how fast meshdash collects and serves, and that a page costs the same at any
mesh size, in one run. `scripts/bench.py --quick` is a shorter try (1,000, 5,000 and 50,000
workloads, fewer requests).

Sizes up to 5,000 workloads (``--sizes``, default 1,000, 5,000, 20,000 and 50,000) are the demo
mesh scraped by a real Prometheus, all started on free loopback ports with a private Redis:

1. Collection: each window collected ``--collections`` times (default 3) through the function
   Celery runs: wall time, the time Prometheus and the Kubernetes API took to answer (each
   counted once however many requests overlap), and the collector's own CPU (decoding, joining,
   encoding, writing: the process's CPU time over the collection), per 1,000 workloads too;
   PromQL query count; Redis memory per 1,000 workloads in steady state.
2. Baseline: the queries the Linkerd viz dashboard sends for one view of the same list (its
   stat summary for deployments in all namespaces over 1m), timed against the same Prometheus.

Larger sizes are synthetic snapshots written straight into the store (no Prometheus). At every
size, with Prometheus and the demo mesh stopped (a page never needs them) and nothing else
running, gunicorn serves meshdash (2 workers) to one signed-in user who follows the workload
list's own links at random (sorts, directions, pages, namespace, health and name filters: most
filtered views are cold, computed for that request), opens workload pages, the overview and a
page that does not exist (a 404: the fixed cost of any request); ``--requests`` each (default
300): median and p95 of the round trip over loopback, with ``Accept-Encoding: gzip``, and the
bytes on the wire against the HTML's. Then one worker alone: list pages a second with two
clients, and at 5,000 workloads its RSS over 10,000 requests. The user's pace of new filtered
views (MESHDASH_COLD_VIEWS_*) is lifted: it guards against abuse, it is not what is measured.

The collection at 20,000 workloads from replayed Prometheus answers is measured by
scripts/bench_sizing.py (run next by `make bench`); its last figures are shown when present.

It prints the table with each target met or missed and writes bench-results.json. Figures come
from one run on a shared machine: compare ratios within a run rather than numbers across runs.
"""

import argparse
import concurrent.futures
import gzip
import http.cookiejar
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
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

    def start_redis(self) -> None:
        redis_dir = self.dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        self.procs["redis"] = start(
            processes.redis_command(self.redis_port, redis_dir), self.dir / "logs" / "redis.log"
        )
        wait_until(lambda: port_open(self.redis_port), 20, "redis", self.procs["redis"])

    def start(self) -> None:
        self.start_redis()
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
    results: dict[str, dict] = {"checks_history": bench_checks_history(stack)}
    for window in WINDOWS:
        runs = []
        for _ in range(repeats):
            prometheus = PrometheusClient(
                stack.prom_url,
                timeout=settings.PROMETHEUS_TIMEOUT_SECONDS,
                max_concurrency=settings.PROMETHEUS_MAX_CONCURRENCY,
            )
            cpu_before = time.process_time()
            outcome = collect_and_store(window, store, prometheus=prometheus, kube=kube)
            cpu = time.process_time() - cpu_before
            meta = store.meta(window)
            runs.append(
                {
                    "status": outcome.status,
                    "wall_seconds": meta.collect_seconds,
                    "checks_seconds": outcome.checks_seconds,
                    "findings": outcome.findings,
                    "prometheus_seconds": meta.prometheus_seconds,
                    "kubernetes_seconds": meta.kubernetes_seconds,
                    "collector_cpu_seconds": cpu,
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
            "median_collector_cpu_seconds": round(
                statistics.median(r["collector_cpu_seconds"] for r in runs), 3
            ),
            "median_checks_seconds": round(statistics.median(r["checks_seconds"] for r in runs), 4),
            # The checks after the collection, as a share of the collection's own wall time.
            "checks_share": round(
                statistics.median(r["checks_seconds"] / r["wall_seconds"] for r in runs), 4
            ),
            "findings": runs[-1]["findings"],
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


def bench_checks_history(stack: Stack, days: int = 7) -> dict:
    """The week of pod history the on-call checks read, seeded from the demo model at the
    coarsest tier (``meshdash.demo.history``), then read as a collection reads it once every
    MESHDASH_CHECKS_HISTORY_MINUTES (``meshdash.history.collection.check_history``): the
    collections that follow use it cached, as a worker's do."""
    from meshdash.demo.history import seed_history
    from meshdash.demo.runner import load_mesh
    from meshdash.history import collection as history

    started = time.perf_counter()
    points = seed_history(load_mesh(stack.demo_dir), days, coarsest_only=True)
    seeded = time.perf_counter() - started
    history.forget_check_history()
    started = time.perf_counter()
    found = history.check_history(time.time())
    read = time.perf_counter() - started
    return {
        "days": days,
        "points": points,
        "pods": len(found.pods) if found else 0,
        "seed_seconds": round(seeded, 2),
        "read_seconds": round(read, 3),
    }


def bench_viz_baseline(stack: Stack, repeats: int = 5) -> dict:
    """Wall time for viz's parallel stat-summary queries for one view of the deployment list."""
    walls = []
    with concurrent.futures.ThreadPoolExecutor(len(VIZ_LIST_QUERIES)) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(lambda q: prom_query(stack.prom_url, q), VIZ_LIST_QUERIES.values()))
            walls.append(time.perf_counter() - started)
    return summary_ms(walls)


DEMO_MAX = 5000
# The workload list as a page, as its htmx partial (a sort, filter or auto-refresh swaps the
# table region) and as JSON; a workload's page, the overview, the findings, a 404.
PAGES = ("list", "partial", "api", "detail", "overview", "triage", "not_found")
PAGE_HEADERS = {"partial": {"HX-Request": "true"}}
LOGIN = ("bench", "bench-password-" + secrets.token_hex(4))
NOT_FOUND = "/no-such-page/"
WORDS = ("api", "web", "db", "cache", "worker", "gateway", "billing", "search", "ledger", "auth")
HEALTH = ("healthy",) * 6 + ("warning", "critical", "unknown", "")


def synthetic_snapshot(workloads: int, taken_at: float, seed: int = 7):
    """A mesh of ``workloads`` deployments, statefulsets and daemonsets in about one namespace per
    50, with one pod and two edges each: what the store keeps per workload at a real size."""
    from meshdash.mesh.model import ControlPlane, Edge, Namespace, Pod, Snapshot, Workload

    rng = random.Random(seed)
    namespaces = [f"ns-{i:04d}" for i in range(max(5, workloads // 50))]
    kinds = ("deployment",) * 8 + ("statefulset", "daemonset")
    items = []
    for i in range(workloads):
        traffic = rng.random() > 0.2
        rps = round(rng.uniform(0, 300), 3) if traffic else 0.0
        items.append(
            Workload(
                namespace=namespaces[i % len(namespaces)],
                kind=rng.choice(kinds),
                name=f"{rng.choice(WORDS)}-{i:06d}",
                meshed_pods=rng.choice((0, 1, 1, 1)),
                total_pods=1,
                success_rate=rng.choice((1.0, 0.999, rng.random())) if traffic else None,
                rps=rps,
                latency_ms_p50=rng.uniform(1, 40) if traffic else None,
                latency_ms_p95=rng.uniform(20, 400) if traffic else None,
                latency_ms_p99=rng.uniform(50, 2000) if traffic else None,
                outbound_rps=rng.uniform(0, 100),
                tcp_open_connections=float(rng.randint(0, 20)),
                team=rng.choice(("", "payments", "search")),
                health=rng.choice(HEALTH),
            )
        )
    edges = [
        Edge(src.namespace, src.kind, src.name, dst.namespace, dst.kind, dst.name,
             rps=rng.uniform(0, 50), success_rate=rng.random(), latency_ms_p99=rng.uniform(1, 900),
             tls=True, health="healthy")
        for src in items
        for dst in (items[rng.randrange(workloads)], items[rng.randrange(workloads)])
    ]  # fmt: skip
    pods = [
        Pod(namespace=w.namespace, name=f"{w.name}-5d8f9c7b6-x2x4q", workload_kind=w.kind,
            workload_name=w.name, phase="Running", status="Running", ready=True,
            node=f"node-{i % 40}", created_at=taken_at - 86400, has_proxy=w.meshed_pods > 0,
            proxy_version="stable-2.14.10")
        for i, w in enumerate(items)
    ]  # fmt: skip
    counts: dict[str, int] = {}
    for w in items:
        counts[w.namespace] = counts.get(w.namespace, 0) + 1
    return Snapshot(
        window="1m",
        taken_at=taken_at,
        collect_seconds=1.0,
        workloads=items,
        edges=edges,
        pods=pods,
        namespaces=[Namespace(name=n, workloads=counts.get(n, 0)) for n in namespaces],
        control_plane=ControlPlane(version="stable-2.14.10"),
    )


def write_synthetic(redis_url: str, workloads: int) -> dict:
    """Writes the synthetic snapshot as the 1m window's current one, kept past its TTL."""
    import django

    django.setup()
    import redis
    from django.conf import settings

    from meshdash.mesh.checks import run_checks
    from meshdash.store import SnapshotStore

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    store = SnapshotStore(client, settings.MESHDASH_REDIS_PREFIX)
    started = time.perf_counter()
    snapshot = synthetic_snapshot(workloads, time.time())
    built = time.perf_counter() - started
    # The checks over it as a collection runs them (without history: no collection here).
    started = time.perf_counter()
    findings = run_checks(snapshot, settings.MESHDASH_CHECK_THRESHOLDS)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    store.write(snapshot, findings=findings)
    return {
        "build_seconds": round(built, 2),
        "checks_seconds": round(checked, 4),
        "findings": len(findings),
        "write_seconds": round(time.perf_counter() - started, 2),
    }


class Browser:
    """One signed-in user: a cookie jar, gzip accepted, the login form filled in once."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def sign_in(self, username: str, password: str) -> None:
        _, _, page, _ = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(self.base + "/accounts/login/", data=body)  # noqa: S310
        try:
            self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:  # the redirect after signing in
            if exc.code != 302:
                raise
        status = self.get("/workloads/")[3]
        if status != 200:
            raise RuntimeError(f"signing in as {username} failed: /workloads/ answered {status}")

    def get(self, path: str, headers: dict | None = None) -> tuple[float, int, bytes, int]:
        """(seconds, bytes on the wire, the HTML, status)."""
        request = urllib.request.Request(  # noqa: S310 (our own http URL)
            self.base + path, headers={"Accept-Encoding": "gzip", **(headers or {})}
        )
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as resp:
                raw, status, encoding = (
                    resp.read(),
                    resp.status,
                    resp.headers.get("Content-Encoding"),
                )
        except urllib.error.HTTPError as exc:
            raw, status, encoding = exc.read(), exc.code, exc.headers.get("Content-Encoding")
        elapsed = time.perf_counter() - started
        return elapsed, len(raw), gzip.decompress(raw) if encoding == "gzip" else raw, status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Web:
    """gunicorn serving meshdash from the store at ``redis_url``, with its own SQLite database."""

    def __init__(self, redis_url: str, work_dir: Path, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = web_env(redis_url)
        self.proc = start(
            [PYTHON, "-m", "gunicorn", "meshdash.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--log-level", "warning"],
            work_dir / "logs" / f"web-{self.port}.log",
            self.env,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port), 60, "gunicorn", self.proc)

    def browser(self) -> Browser:
        browser = Browser(self.base)
        browser.sign_in(*LOGIN)
        return browser

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        stop(self.proc)


def web_env(redis_url: str) -> dict:
    return dict(
        os.environ,
        REDIS_URL=redis_url,
        # The cache Redis (sessions, per-user entries, filtered views): a database of its own.
        MESHDASH_CACHE_REDIS_URL=redis_url.rsplit("/", 1)[0] + "/1",
        MESHDASH_LOG_LEVEL="WARNING",
        MESHDASH_METRICS_PORT="0",
        MESHDASH_COLD_VIEWS_BURST="1000000",
        MESHDASH_COLD_VIEWS_PER_MINUTE="1000000",
    )


def prepare_database() -> None:
    """The run's SQLite database (MESHDASH_VAR_DIR), shared by the collections (history) and
    the web workers, with the user who signs in."""
    env = dict(os.environ)
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    create = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({LOGIN[0]!r}, password={LOGIN[1]!r})"
    )
    subprocess.run([*manage, "shell", "-c", create], cwd=ROOT, env=env, check=True)


class Urls:
    """The pages one user opens: the workload list by its own links, workload pages, the
    overview, the on-call checks' findings (/triage/), a 404."""

    def __init__(self, redis_url: str, workloads: int, seed: int = 7):
        import redis
        from django.conf import settings

        from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
        from meshdash.store import SnapshotStore

        store = SnapshotStore(redis.Redis.from_url(redis_url), settings.MESHDASH_REDIS_PREFIX)
        self.namespaces = store.namespace_names("1m")
        self.rows = store.workload_page("1m", WorkloadQuery(per_page=200)).items
        self.sorts = list(SORT_KEYS)
        self.pages = max(1, workloads // 50)
        self.rng = random.Random(seed)

    def list(self) -> str:
        return "/workloads/?" + urllib.parse.urlencode(self._list_params())

    def partial(self) -> str:
        """A list link as htmx follows it (with ``HX-Request``: PAGE_HEADERS)."""
        return self.list()

    def api(self) -> str:
        """The same views as JSON, 50 a page."""
        return "/api/v1/workloads?" + urllib.parse.urlencode(
            [*self._list_params(), ("per_page", "50")]
        )

    def _list_params(self):  # (name, value) pairs
        rng = self.rng
        params: list[tuple[str, str]] = [
            ("sort", rng.choice(self.sorts)),
            ("dir", rng.choice(["asc", "desc"])),
            ("page", str(rng.randint(1, self.pages))),
        ]
        roll = rng.random()
        if roll < 0.3 and self.namespaces:
            params += [
                ("ns", ns) for ns in rng.sample(self.namespaces, min(2, len(self.namespaces)))
            ]
        elif roll < 0.45:
            params.append(("health", rng.choice(["critical", "warning", "healthy"])))
        elif roll < 0.6:
            params.append(("q", rng.choice("abcdefghijklmnoprstuvw")))
        return params

    def detail(self) -> str:
        row = self.rng.choice(self.rows)
        return f"/workloads/{row.namespace}/{row.kind}/{row.name}/"

    def overview(self) -> str:
        return "/"

    def not_found(self) -> str:
        return NOT_FOUND

    def triage(self) -> str:
        """The findings, all of them or filtered by severity or namespace (state in the URL)."""
        roll = self.rng.random()
        if roll < 0.3:
            return "/triage/?" + urllib.parse.urlencode(
                {"severity": self.rng.choice(["critical", "warning", "info"])}
            )
        if roll < 0.5 and self.namespaces:
            return "/triage/?" + urllib.parse.urlencode({"ns": self.rng.choice(self.namespaces)})
        return "/triage/"


def bench_pages(redis_url: str, work_dir: Path, workloads: int, requests_each: int) -> dict:
    """Round trips of each page type through gunicorn with 2 workers, one signed-in user."""
    urls = Urls(redis_url, workloads)
    web = Web(redis_url, work_dir, workers=2)
    try:
        browser = web.browser()
        results = {}
        for name in PAGES:
            expected = 404 if name == "not_found" else 200
            make_url, headers = getattr(urls, name), PAGE_HEADERS.get(name)
            for _ in range(5):  # warm up both workers
                browser.get(make_url(), headers)
            timings, wire, html = [], [], []
            cpu_before = workers_cpu_seconds(web.worker_pids())
            for _ in range(requests_each):
                url = make_url()
                elapsed, size, body, status = browser.get(url, headers)
                if status != expected:
                    raise RuntimeError(f"{url} answered {status}")
                timings.append(elapsed)
                wire.append(size)
                html.append(len(body))
            cpu = workers_cpu_seconds(web.worker_pids()) - cpu_before
            results[name] = summary_ms(timings) | {
                # The web workers' own CPU per request: what the machine's load changes least.
                "worker_cpu_ms": round(cpu / requests_each * 1000, 2),
                "median_wire_kb": round(statistics.median(wire) / 1024, 1),
                "median_html_kb": round(statistics.median(html) / 1024, 1),
                "max_html_kb": round(max(html) / 1024, 1),
            }
        return results
    finally:
        web.stop()


def bench_one_worker(
    redis_url: str, work_dir: Path, workloads: int, seconds: float, memory_requests: int
) -> dict:
    """One worker alone: list pages a second with two clients; with ``memory_requests``, its RSS
    sampled over that many requests of every kind."""
    web = Web(redis_url, work_dir, workers=1)
    try:
        urls = Urls(redis_url, workloads, seed=11)
        browsers = [web.browser(), web.browser()]
        for _ in range(10):
            browsers[0].get(urls.list())
        lock = threading.Lock()
        done = [0]

        def clients(until, make_url, count=None):
            def run(browser):
                while time.monotonic() < until:
                    with lock:
                        if count is not None and done[0] >= count:
                            return
                        done[0] += 1
                        url = make_url()
                    browser.get(url)

            threads = [threading.Thread(target=run, args=(b,)) for b in browsers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        started = time.monotonic()
        clients(started + seconds, urls.list)
        result = {"list_requests_per_second": round(done[0] / (time.monotonic() - started), 1)}
        if memory_requests:
            (pid,) = web.worker_pids()
            mix = [urls.list] * 7 + [urls.detail] * 2 + [urls.overview]
            samples = [(0, rss_mb(pid))]
            step = max(1, memory_requests // 10)
            done[0] = 0
            while done[0] < memory_requests:
                target = done[0] + step
                clients(time.monotonic() + 3600, lambda: urls.rng.choice(mix)(), target)
                samples.append((done[0], rss_mb(pid)))
            result["rss_mb"] = samples
        return result
    finally:
        web.stop()


def workers_cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of the processes ``pids`` (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1]) / 1024, 1)


def fetch(url: str) -> tuple[float, int]:
    """One anonymous GET: (seconds, body bytes); raises unless 200."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (our own http URL)
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url} answered {resp.status}")
    return time.perf_counter() - started, len(body)


def bench_size(workloads: int, work_dir: Path, options) -> dict:
    demo = workloads <= options.demo_max
    entry: dict = {"source": "demo mesh" if demo else "synthetic snapshot"}
    stack = Stack(workloads, work_dir)
    try:
        if demo:
            stack.start()
            waited = stack.wait_for_samples()
            series = prom_query(stack.prom_url, "count({__name__=~'.+'})", timeout=600)
            result = series["data"]["result"]
            entry["series"] = int(float(result[0]["value"][1])) if result else 0
            entry["seconds_until_4_scrapes"] = round(waited, 1)
            entry["collection"] = bench_collection(stack, options.collections)
            entry["viz_baseline"] = bench_viz_baseline(stack)
            stack.stop_sources()
        else:
            stack.start_redis()
            entry["write"] = write_synthetic(stack.redis_url, workloads)
        # What else ran: on a shared machine, the figures are only as good as this is low.
        entry["load_average_before_pages"] = [round(x, 1) for x in os.getloadavg()]
        entry["pages"] = bench_pages(stack.redis_url, work_dir, workloads, options.requests)
        memory = options.memory_requests if workloads == 5000 else 0
        entry["one_worker"] = bench_one_worker(
            stack.redis_url, work_dir, workloads, options.throughput_seconds, memory
        )
        return entry
    finally:
        stack.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k, 5k and 50k, fewer requests")
    parser.add_argument("--sizes", help="comma-separated workload counts")
    parser.add_argument("--requests", type=int, help="requests per page type and size")
    parser.add_argument("--collections", type=int, default=3, help="collections per window")
    parser.add_argument(
        "--demo-max",
        type=int,
        default=DEMO_MAX,
        help="the largest size served by the demo mesh and Prometheus; larger ones synthetic",
    )
    parser.add_argument("--memory-requests", type=int, help="requests of the RSS measurement")
    options = parser.parse_args(argv)
    quick = options.quick
    sizes = options.sizes or ("1000,5000,50000" if quick else "1000,5000,20000,50000")
    options.sizes = [int(s) for s in sizes.split(",")]
    options.requests = options.requests or (150 if quick else 300)
    options.collections = 2 if quick and options.collections == 3 else options.collections
    options.throughput_seconds = 5 if quick else 10
    options.memory_requests = options.memory_requests or (3000 if quick else 10000)
    # meshdash refuses its built-in secret key outside debugging: a key of this run's own.
    if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
        os.environ["MESHDASH_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshdash.settings")
    os.environ["MESHDASH_DOTENV"] = ""
    for binary in ("redis-server", "prometheus"):
        try:
            processes.binary(binary)
        except processes.MissingBinary as exc:
            print(exc, file=sys.stderr)
            return 2
    report: dict = {
        "sizes": {},
        "quick": quick,
        "scrape_interval": SCRAPE_INTERVAL,
        "started": time.time(),
        "machine": machine(),
    }
    work_root = Path(tempfile.mkdtemp(prefix="meshdash-bench-"))
    os.environ["MESHDASH_VAR_DIR"] = str(work_root / "var")
    (work_root / "var").mkdir()
    try:
        prepare_database()
        for workloads in options.sizes:
            print(f"== {workloads} workloads", flush=True)
            entry = bench_size(workloads, work_root / str(workloads), options)
            report["sizes"][str(workloads)] = entry
            print(json.dumps(entry, indent=1), flush=True)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    report["seconds"] = round(time.time() - report["started"])
    sizing = ROOT / "bench-sizing-results.json"
    if sizing.exists():
        report["sizing_20000"] = json.loads(sizing.read_text()).get("scaled")
    report["targets"] = check_targets(report["sizes"])
    (ROOT / "bench-results.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found[1] if found else ""
    except OSError:
        pass
    return f"{cpus} CPUs {model}, Python {sys.version.split()[0]}".strip()


Target = tuple[str, float | None, float, str]  # (what, measured, goal, "<=" or ">=")


def check_targets(sizes: dict) -> list[Target]:
    """The targets, each with the figure this run measured (None: not measured)."""

    def page(size, name, figure):
        return sizes.get(size, {}).get("pages", {}).get(name, {}).get(figure)

    targets: list[Target] = [
        ("workload list p50 at 5,000 (ms)", page("5000", "list", "median_ms"), 8, "<="),
        ("workload list p95 at 5,000 (ms)", page("5000", "list", "p95_ms"), 15, "<="),
        ("workload detail p95 at 5,000 (ms)", page("5000", "detail", "p95_ms"), 20, "<="),
        ("overview p95 at 5,000 (ms)", page("5000", "overview", "p95_ms"), 20, "<="),
        ("triage p95 at 5,000 (ms)", page("5000", "triage", "p95_ms"), 15, "<="),
        ("signed-in 404 median at 5,000 (ms)", page("5000", "not_found", "median_ms"), 3, "<="),
    ]
    base = page("1000", "list", "p95_ms")
    for size in ("5000", "20000", "50000"):
        figure = page(size, "list", "p95_ms")
        ratio = round(figure / base, 2) if figure and base else None
        targets.append((f"list p95 at {int(size):,} / at 1,000", ratio, 1.2, "<="))
    one = sizes.get("5000", {}).get("one_worker", {})
    targets.append(
        ("list pages a second, one worker, 5,000", one.get("list_requests_per_second"), 150, ">=")
    )
    cpu = page("5000", "list", "worker_cpu_ms")
    targets.append(
        ("list pages a second of one core's worker CPU, 5,000", round(1000 / cpu) if cpu else None,
         150, ">=")
    )  # fmt: skip
    rss = one.get("rss_mb")
    if rss:
        targets.append((f"worker RSS after {rss[-1][0]:,} requests (MB)", rss[-1][1], 150, "<="))
        early = next((mb for count, mb in rss if count >= rss[-1][0] // 5), rss[0][1])
        targets.append(("worker RSS growth, last / after a fifth", round(rss[-1][1] / early, 2),
                        1.1, "<="))  # fmt: skip
    for size, entry in sizes.items():
        if "collection" in entry:
            cpu = entry["collection"]["1m"]["median_collector_cpu_seconds"]
            targets.append((f"collector CPU per 1,000 workloads, 1m at {int(size):,} (s)",
                            round(cpu / (int(size) / 1000), 3), 0.3, "<="))  # fmt: skip
    for size, entry in sizes.items():
        if "collection" in entry:
            share = entry["collection"]["1m"]["checks_share"]
            targets.append((f"on-call checks, share of the 1m collection at {int(size):,} (%)",
                            round(share * 100, 2), 5, "<="))  # fmt: skip
    return targets


def met(target: Target) -> str:
    _, measured, goal, sense = target
    if measured is None:
        return "not measured"
    return "met" if (measured <= goal if sense == "<=" else measured >= goal) else "MISSED"


def print_table(report: dict) -> None:
    sizes = report["sizes"]
    print(f"\nmeshdash benchmark ({report['machine']}; {report['seconds']} s)")
    loads = {size: entry["load_average_before_pages"] for size, entry in sizes.items()}
    print(f"load average (1, 5, 15 min) before the pages of each size: {loads}")
    print("\nPages through gunicorn, 2 workers, one signed-in user (ms; KB on the wire / HTML)")
    print(f"| {'page':<9} | " + " | ".join(f"{int(s):>15,}" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in PAGES:
        cells = []
        for entry in sizes.values():
            f = entry["pages"][name]
            cells.append(f"{f['median_ms']:>6} / {f['p95_ms']:>6}")
        print(f"| {name + ' p50/p95':<9} | " + " | ".join(f"{c:>15}" for c in cells) + " |")
    for name in PAGES:
        cells = [str(entry["pages"][name]["worker_cpu_ms"]) for entry in sizes.values()]
        print(f"| {name + ' CPU ms':<9} | " + " | ".join(f"{c:>15}" for c in cells) + " |")
    cells = [f"{e['pages']['list']['median_wire_kb']} / {e['pages']['list']['median_html_kb']}"
             for e in sizes.values()]  # fmt: skip
    print(f"| {'list KB':<9} | " + " | ".join(f"{c:>15}" for c in cells) + " |")
    cells = [str(e["one_worker"]["list_requests_per_second"]) for e in sizes.values()]
    print(f"| {'req/s (1 worker)':<9} | " + " | ".join(f"{c:>15}" for c in cells) + " |")
    print(
        "\nCollection (medians per window; seconds; CPU is the collector's own; the on-call "
        "checks after it, and their share of its wall time)"
    )
    print("| workloads | window | wall | Prometheus | Kubernetes | collector CPU | CPU per 1,000 |"
          " queries | checks | checks % | findings |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, entry in sizes.items():
        for window in WINDOWS if "collection" in entry else ():
            w = entry["collection"][window]
            per = round(w["median_collector_cpu_seconds"] / (int(size) / 1000), 3)
            print(f"| {int(size):,} | {window} | {w['median_wall_seconds']} | "
                  f"{w['median_prometheus_seconds']} | {w['median_kubernetes_seconds']} | "
                  f"{w['median_collector_cpu_seconds']} | {per} | {w['queries']} | "
                  f"{w['median_checks_seconds']} | {round(w['checks_share'] * 100, 2)} | "
                  f"{w['findings']} |")  # fmt: skip
    for size, entry in sizes.items():
        if "collection" in entry:
            h = entry["collection"]["checks_history"]
            print(
                f"checks' history at {int(size):,}: {h['pods']:,} pods' {h['days']} days "
                f"({h['points']:,} points seeded in {h['seed_seconds']} s) read in "
                f"{h['read_seconds']} s, once every MESHDASH_CHECKS_HISTORY_MINUTES"
            )
        elif "checks_seconds" in entry.get("write", {}):
            print(
                f"checks over the synthetic {int(size):,}: {entry['write']['checks_seconds']} s, "
                f"{entry['write']['findings']} findings"
            )
    scaled = report.get("sizing_20000")
    if scaled:
        print(f"20,000 replayed (scripts/bench_sizing.py, last run): {json.dumps(scaled)}")
    for size, entry in sizes.items():
        if "viz_baseline" in entry:
            base = entry["viz_baseline"]
            print(f"viz's queries for one list view at {int(size):,}: "
                  f"{base['median_ms']} / {base['p95_ms']} ms")  # fmt: skip
    rss = sizes.get("5000", {}).get("one_worker", {}).get("rss_mb")
    if rss:
        print(
            "\nWorker RSS at 5,000 workloads (requests, MB): "
            + ", ".join(f"{c}: {m}" for c, m in rss)
        )
    print("\nTargets")
    for target in report["targets"]:
        what, measured, goal, sense = target
        print(f"- {what}: {measured} (goal {sense} {goal}): {met(target)}")


if __name__ == "__main__":
    sys.exit(main())
