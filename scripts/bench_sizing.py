"""`make bench` (sizing): the memory meshdash's pods need, for the manifests' requests and limits.

1. At 1,000 and 5,000 demo workloads (MESHDASH_SIZING_SIZES), with the demo mesh scraped by a
   real Prometheus (the stack of scripts/bench.py): a Celery worker (``--concurrency 2``, as
   deploy/ runs it) and beat collect every window on the default schedule for
   MESHDASH_SIZING_WORKER_SECONDS after the first snapshot of each window; the worker's RSS (its
   main process and pool children summed, as a container's memory counts them) and beat's are
   sampled every half second. Then Prometheus and the demo mesh are stopped and gunicorn (2
   workers, as deploy/ runs it) serves MESHDASH_SIZING_REQUESTS pages of each kind (lists with
   random sorts, filters and pages, workload pages, the overview); its RSS likewise. Redis's
   used memory too.
2. At 20,000 workloads without a 20,000-workload Prometheus: the Prometheus answers of a 1m
   collection at the largest size are recorded on their way through a small proxy (given all
   the time they need), then scaled four times with renamed namespaces (``payments`` ->
   ``payments-1`` ...; the Linkerd control plane is not copied), and so are the demo mesh's
   Kubernetes objects. A replaying Prometheus and the demo's Kubernetes API stand-in serve them,
   and a child process runs the 1m collection into Redis three times, as the worker does: wall
   time of each and the child's peak RSS.

3. The collector's own CPU at each size, Prometheus's time out of the picture: the answers
   recorded in step 1 (every window's) replayed, the demo's Kubernetes objects served by its
   stand-in, both in this process; a child process collects each window as the worker does
   (``collect_and_store``: the checks, the store, the history in SQLite) MESHDASH_SIZING_CPU_REPEATS
   times after one warm-up, each window's history minute claimed afresh so that every run
   writes it. Its process CPU time (all its threads) per run, and where it went (decoding and
   reading the answers, the cluster state, the join, the encoding, the Redis and SQL writes,
   the checks). ``--collector-cpu N`` is that child, for any replay that PROMETHEUS_URL and
   KUBECONFIG point at (it flushes REDIS_URL's database). The replay knows answers by their
   PromQL, and step 1 records them afresh on each run, so a changed query needs no
   re-recording by hand; answers kept from older code answer its queries only (any other is a
   400 "not recorded", which the collection names in its errors, as it would a failed part).

It prints a table and writes bench-sizing-results.json.
"""

import concurrent.futures
import copy
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import bench  # scripts/bench.py: the demo stack, process helpers

ROOT = bench.ROOT
PYTHON = bench.PYTHON
COPIES = 4
WINDOWS = ("1m", "10m", "1h")
# Namespaces of the control plane: one per cluster, never copied when the mesh is scaled.
CONTROL_NAMESPACES = {"linkerd", "linkerd-viz"}
_IDENTITY = re.compile(r"^([^.]+)\.([^.]+)(\.serviceaccount\..*)$")


# --- Memory of a process tree.


def rss_tree_bytes(pid: int) -> int:
    """RSS of ``pid`` and all its descendants (shared pages counted in each: an upper bound)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match[1]) * 1024 if match else 0
    return total


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.samples.append(rss_tree_bytes(self.pid))

    def finish(self) -> dict:
        self._done.set()
        self.join()
        samples = self.samples or [0]
        return {"peak_mb": mb(max(samples)), "last_mb": mb(samples[-1])}


def mb(value: float) -> float:
    return round(value / 1e6, 1)


# --- Prometheus answers: recorded through a proxy, replayed without Prometheus.


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        """A collector that gave up on a query (its deadline) hung up: no error of ours."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _query_of(path: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("query", [""])[0]


class RecordingPrometheus(_Server):
    """Forwards instant queries to ``upstream`` and keeps the latest good answer of each."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.answers: dict[str, bytes] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                try:
                    with urllib.request.urlopen(recorder.upstream + self.path, timeout=300) as up:  # noqa: S310
                        code, body = up.status, up.read()
                except urllib.error.HTTPError as exc:
                    code, body = exc.code, exc.read()
                except OSError:  # Prometheus stopped under a late query
                    code, body = 502, b'{"status":"error","error":"upstream gone"}'
                if code == 200 and self.path.startswith("/api/v1/query?"):
                    recorder.answers[_query_of(self.path)] = body
                _answer(self, code, body)

            def log_message(self, *args):
                pass

        super().__init__(Handler)


class ReplayingPrometheus(_Server):
    """Answers each instant query with its recorded answer, at whatever time it is asked for."""

    def __init__(self, answers: dict[str, bytes]):
        self.answers = answers
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                body = replay.answers.get(_query_of(self.path))
                if body is None:
                    _answer(self, 400, b'{"status":"error","error":"not recorded"}')
                else:
                    _answer(self, 200, body)

            def log_message(self, *args):
                pass

        super().__init__(Handler)


def _answer(handler: BaseHTTPRequestHandler, code: int, body: bytes) -> None:
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def renamed(namespace: str, copy_index: int) -> str:
    if copy_index == 0 or namespace in CONTROL_NAMESPACES:
        return namespace
    return f"{namespace}-{copy_index}"


def scale_labels(labels: dict[str, str], copy_index: int) -> dict[str, str]:
    out = {}
    for name, value in labels.items():
        if name == "namespace" or name.endswith("_namespace"):
            value = renamed(value, copy_index)
        else:
            identity = _IDENTITY.match(value)
            if identity:
                value = identity[1] + "." + renamed(identity[2], copy_index) + identity[3]
        out[name] = value
    return out


def scale_answer(body: bytes, copies: int) -> bytes:
    answer = json.loads(body)
    result = answer.get("data", {}).get("result")
    if isinstance(result, list):
        scaled = []
        for series in result:
            scaled.append(series)
            namespace = series.get("metric", {}).get("namespace", "")
            if namespace in CONTROL_NAMESPACES:
                continue
            for index in range(1, copies):
                scaled.append(dict(series, metric=scale_labels(series["metric"], index)))
        answer["data"]["result"] = scaled
    return json.dumps(answer, separators=(",", ":")).encode()


def scale_objects(objects: dict[str, list[dict]], copies: int) -> dict[str, list[dict]]:
    """The demo's Kubernetes objects, each namespace but the control plane's ``copies`` times."""
    scaled: dict[str, list[dict]] = {}
    for resource_name, items in objects.items():
        out = []
        for obj in items:
            out.append(obj)
            meta = obj["metadata"]
            own = meta["name"] if resource_name == "namespaces" else meta.get("namespace", "")
            if not own or own in CONTROL_NAMESPACES:
                continue
            for index in range(1, copies):
                twin = copy.deepcopy(obj)
                key = "name" if resource_name == "namespaces" else "namespace"
                twin["metadata"][key] = renamed(own, index)
                twin["metadata"]["uid"] = f"{meta.get('uid', '')}-{index}"
                out.append(twin)
        scaled[resource_name] = out
    return scaled


# --- The phases.


def meshdash_env(stack: bench.Stack, **extra: str) -> dict:
    return dict(
        os.environ,
        REDIS_URL=stack.redis_url,
        MESHDASH_LOG_LEVEL="WARNING",
        DATABASE_URL=f"sqlite:///{stack.dir / 'db.sqlite3'}",
        **extra,
    )


def redis_used_mb(url: str) -> float:
    import redis

    return mb(redis.Redis.from_url(url).info("memory")["used_memory"])


def migrate(stack: bench.Stack) -> None:
    """The stack's own SQLite database, which collections (their history) and pages use."""
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                   env=meshdash_env(stack), check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def measure_worker(stack: bench.Stack, prometheus_url: str, seconds: float) -> dict:
    import redis

    client = redis.Redis.from_url(stack.redis_url)
    client.flushdb()
    env = meshdash_env(
        stack, PROMETHEUS_URL=prometheus_url, KUBECONFIG=str(stack.demo_dir / "kubeconfig")
    )
    celery = str(Path(PYTHON).parent / "celery")
    worker = bench.start(
        [celery, "-A", "meshdash", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        stack.dir / "logs" / "worker.log",
        env,
    )
    sampler = RssSampler(worker.pid)
    sampler.start()
    beat = bench.start(
        [celery, "-A", "meshdash", "beat", "--loglevel", "WARNING",
         "--schedule", str(stack.dir / "celerybeat-schedule")],
        stack.dir / "logs" / "beat.log",
        env,
    )  # fmt: skip
    beat_sampler = RssSampler(beat.pid)
    beat_sampler.start()
    try:
        # Beat runs each window first one interval after it starts: the first ones come now.
        for window in WINDOWS:
            subprocess.run(
                [celery, "-A", "meshdash", "call", "meshdash.collectors.tasks.collect_window",
                 "--args", json.dumps([window])],
                cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        prefix = "meshdash"

        def every_window_collected() -> bool:
            return all(client.exists(f"{prefix}:{w}:current") for w in WINDOWS)

        bench.wait_until(every_window_collected, 900, "a snapshot of every window", worker)
        time.sleep(seconds)
        figures = sampler.finish()
        figures["beat"] = beat_sampler.finish()
    finally:
        bench.stop(beat)
        bench.stop(worker)
    figures["redis_used_mb"] = redis_used_mb(stack.redis_url)
    return figures


def measure_web(stack: bench.Stack, requests_each: int) -> dict:
    import redis
    from django.conf import settings

    from meshdash.mesh.query import SORT_KEYS, WorkloadQuery
    from meshdash.store import SnapshotStore

    store = SnapshotStore(redis.Redis.from_url(stack.redis_url), settings.MESHDASH_REDIS_PREFIX)
    namespaces = store.namespace_names("1m")
    rows = store.workload_page("1m", WorkloadQuery(per_page=200)).items
    # One client opening hundreds of new filtered views: not paced, as the pages are measured.
    env = meshdash_env(
        stack,
        MESHDASH_ANONYMOUS_READ="true",
        MESHDASH_COLD_VIEWS_PER_MINUTE="1000000",
        MESHDASH_COLD_VIEWS_BURST="1000000",
    )
    port = bench.free_port()
    web = bench.start(
        [str(Path(PYTHON).parent / "gunicorn"), "meshdash.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        stack.dir / "logs" / "web.log",
        env,
    )  # fmt: skip
    try:
        bench.wait_until(lambda: bench.port_open(port), 60, "gunicorn", web)
        sampler = RssSampler(web.pid)
        sampler.start()
        rng = random.Random(7)
        base = f"http://127.0.0.1:{port}"
        for _ in range(requests_each):
            params = [("sort", rng.choice(list(SORT_KEYS))), ("page", str(rng.randint(1, 20)))]
            if namespaces and rng.random() < 0.4:
                params += [("ns", ns) for ns in rng.sample(namespaces, min(2, len(namespaces)))]
            row = rng.choice(rows)
            for path in (
                "/workloads/?" + urllib.parse.urlencode(params),
                f"/workloads/{row.namespace}/{row.kind}/{row.name}/",
                "/",
            ):
                bench.fetch(base + path)
        return sampler.finish()
    finally:
        bench.stop(web)


def measure_scaled_collection(stack: bench.Stack, answers: dict[str, bytes], repeats: int) -> dict:
    from meshdash.demo import kubeapi
    from meshdash.demo.runner import load_mesh, write_kubeconfig

    started = time.monotonic()
    objects = scale_objects(kubeapi.cluster_objects(load_mesh(stack.demo_dir)), COPIES)
    with mock.patch.object(kubeapi, "cluster_objects", lambda mesh: objects):
        kube = kubeapi.KubeApiServer(None).start()
    prometheus = ReplayingPrometheus({q: scale_answer(a, COPIES) for q, a in answers.items()})
    prepared = time.monotonic() - started
    kubeconfig = stack.dir / "kubeconfig-scaled"
    write_kubeconfig(kubeconfig, kube.url, "")
    try:
        figures = run_collections(stack, prometheus.url, kubeconfig, repeats)
    finally:
        kube.stop()
        prometheus.stop()
    figures["redis_used_mb"] = redis_used_mb(stack.redis_url)
    figures["replay_prepared_seconds"] = round(prepared, 1)
    return figures


def run_collections(
    stack: bench.Stack, prometheus_url: str, kubeconfig: Path, repeats: int
) -> dict:
    """The 1m collection ``repeats`` times in a child process, given all the time it needs (a
    busy machine must not leave a query unanswered); every run must succeed whole."""
    env = meshdash_env(
        stack,
        PROMETHEUS_URL=prometheus_url,
        KUBECONFIG=str(kubeconfig),
        MESHDASH_COLLECT_DEADLINE_SECONDS="900",
        PROMETHEUS_TIMEOUT_SECONDS="600",
        MESHDASH_KUBE_TIMEOUT_SECONDS="600",
    )
    result = subprocess.run(
        [PYTHON, __file__, "--collect", str(repeats)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    failed = [run for run in figures["runs"] if run["status"] != "ok"]
    if failed:
        raise RuntimeError(f"collections not whole: {failed}")
    return figures


def collect_child(repeats: int) -> None:
    """In a process of its own, so that its peak RSS is the collection's."""
    import django

    django.setup()
    from meshdash.collectors.run import collect_and_store
    from meshdash.store import SnapshotStore

    store = SnapshotStore.from_settings()
    store.client.flushdb()
    before = high_water_mark()
    runs = []
    for _ in range(repeats):
        outcome = collect_and_store("1m", store)
        meta = store.meta("1m")
        runs.append(
            {
                "status": outcome.status,
                "seconds": round(outcome.seconds, 2),
                "workloads": meta.workload_count if meta else 0,
                "errors": outcome.errors,
            }
        )
    peak = high_water_mark()
    print(json.dumps({"runs": runs, "rss_before_mb": mb(before), "peak_rss_mb": mb(peak)}))


# What the collector's CPU goes to: (label, module, attribute) of the functions timed.
CPU_STAGES = (
    ("Prometheus: HTTP, JSON", "meshdash.collectors.prometheus", "PrometheusClient._answer"),
    ("Prometheus: samples", "meshdash.collectors.prometheus", "_parse_result"),
    ("Kubernetes: HTTP, JSON", "meshdash.collectors.kubernetes", "KubernetesClient.fetch"),
    ("Kubernetes: cluster state", "meshdash.collectors.collect", "build_cluster_state"),
    ("join: snapshot", "meshdash.collectors.snapshot_builder", "SnapshotBuilder.build"),
    ("join: check inputs", "meshdash.collectors.collect", "fill_check_inputs"),
    ("checks", "meshdash.collectors.run", "checks_of"),
    ("store: encode", "meshdash.store.layout", "version_values"),
    ("store: Redis writes", "meshdash.store.store", "SnapshotStore._create_keys"),
    ("store: Redis history", "meshdash.store.store", "SnapshotStore._update_history"),
    ("history: SQL", "meshdash.history.write", "record"),
)  # fmt: skip


class InlineExecutor(concurrent.futures.Executor):
    """Runs each task as it is submitted, in the caller's thread: the collection's queries and
    lists one after the other, so that a stage's process CPU time is its own."""

    def __init__(self, *args, **kwargs):
        pass

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller, as a pool would)
            future.set_exception(exc)
        return future


def time_stages(spent: dict[str, float]) -> None:
    """Wrap each CPU_STAGES function to add its process CPU time to ``spent``; the collection's
    thread pools made inline, so that the stages do not overlap."""
    import functools
    import importlib

    from meshdash.collectors import collect, kubernetes, prometheus

    for module in (collect, kubernetes, prometheus):
        module.ThreadPoolExecutor = InlineExecutor

    for label, module_name, attribute in CPU_STAGES:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*args, _original=original, _label=label, **kwargs):
            started = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.process_time() - started

        setattr(owner, name, functools.wraps(original)(timed))


def collector_cpu_child(repeats: int) -> None:
    """Each window collected ``repeats`` times after a warm-up, its process CPU per run."""
    import statistics

    import django

    django.setup()
    from meshdash.collectors.run import collect_and_store
    from meshdash.history.models import State
    from meshdash.store import SnapshotStore

    store = SnapshotStore.from_settings()
    store.client.flushdb()

    def run(window: str) -> tuple[str, float]:
        State.objects.filter(name=f"written:{window}").delete()  # this run writes history
        started = time.process_time()
        outcome = collect_and_store(window, store)
        return outcome.status, time.process_time() - started

    figures: dict = {"windows": {}}
    for window in WINDOWS:
        collect_and_store(window, store)  # a current snapshot, the checks' history: warm
    for window in WINDOWS:
        runs = []
        for _ in range(repeats):
            status, cpu = run(window)
            runs.append({"status": status, "cpu_seconds": cpu})
        meta = store.meta(window)
        figures["windows"][window] = {
            "runs": runs,
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
            "workloads": meta.workload_count if meta else 0,
        }
    # Then where it went: one more run of each window, inline, each stage timed.
    spent: dict[str, float] = {}
    time_stages(spent)
    total = sum(run(window)[1] for window in WINDOWS)
    figures["inline_seconds_per_run"] = round(total / len(WINDOWS), 3)
    figures["stages_seconds_per_run"] = {k: round(v / len(WINDOWS), 3) for k, v in spent.items()}
    print(json.dumps(figures))


def measure_collector_cpu(stack: bench.Stack, answers: dict[str, bytes], repeats: int) -> dict:
    """Step 3: the recorded answers replayed, the child timing the collections."""
    from meshdash.demo import kubeapi
    from meshdash.demo.runner import load_mesh, write_kubeconfig

    kube = kubeapi.KubeApiServer(load_mesh(stack.demo_dir)).start()
    prometheus = ReplayingPrometheus(answers)
    kubeconfig = stack.dir / "kubeconfig-replay"
    write_kubeconfig(kubeconfig, kube.url, "")
    try:
        env = meshdash_env(
            stack,
            PROMETHEUS_URL=prometheus.url,
            KUBECONFIG=str(kubeconfig),
            MESHDASH_COLLECT_DEADLINE_SECONDS="900",
            PROMETHEUS_TIMEOUT_SECONDS="600",
            MESHDASH_KUBE_TIMEOUT_SECONDS="600",
        )
        result = subprocess.run(
            [PYTHON, __file__, "--collector-cpu", str(repeats)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        kube.stop()
        prometheus.stop()
    return json.loads(result.stdout.strip().splitlines()[-1])


def high_water_mark() -> int:
    """This process's peak RSS since it began to run this program (VmHWM; unlike ru_maxrss it
    does not count what the parent had before the exec)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1]) * 1024


def main() -> int:
    if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
        os.environ["MESHDASH_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshdash.settings")
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 3 and sys.argv[1] == "--collect":
        collect_child(int(sys.argv[2]))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--collector-cpu":
        collector_cpu_child(int(sys.argv[2]))
        return 0
    import django

    django.setup()
    sizes = [int(s) for s in os.environ.get("MESHDASH_SIZING_SIZES", "1000,5000").split(",")]
    worker_seconds = float(os.environ.get("MESHDASH_SIZING_WORKER_SECONDS", "120"))
    requests_each = int(os.environ.get("MESHDASH_SIZING_REQUESTS", "100"))
    cpu_repeats = int(os.environ.get("MESHDASH_SIZING_CPU_REPEATS", "3"))
    for binary in ("redis-server", "prometheus"):
        if shutil.which(binary) is None:
            print(f"{binary} is missing: run `make bootstrap` first", file=sys.stderr)
            return 2
    report: dict = {"sizes": {}, "started": time.time()}
    work_root = Path(tempfile.mkdtemp(prefix="meshdash-sizing-"))
    try:
        for index, workloads in enumerate(sizes):
            print(f"== {workloads} workloads", flush=True)
            stack = bench.Stack(workloads, work_root / str(workloads))
            recorder = None
            try:
                stack.start()
                migrate(stack)
                stack.wait_for_samples()
                recorder = RecordingPrometheus(stack.prom_url)
                entry = {"worker": measure_worker(stack, recorder.url, worker_seconds)}
                if index == len(sizes) - 1:
                    # Every answer of a 1m collection, for the replay.
                    entry["recorded_collection"] = run_collections(
                        stack, recorder.url, stack.demo_dir / "kubeconfig", 1
                    )
                recorder.stop()
                stack.stop_sources()
                entry["collector_cpu"] = measure_collector_cpu(stack, recorder.answers, cpu_repeats)
                entry["web"] = measure_web(stack, requests_each)
                if index == len(sizes) - 1:
                    print(f"== {workloads * COPIES} workloads, replayed", flush=True)
                    report["scaled"] = {
                        "workloads_recorded": workloads,
                        "copies": COPIES,
                        "collection": measure_scaled_collection(stack, recorder.answers, 3),
                    }
                report["sizes"][str(workloads)] = entry
                print(json.dumps(entry), flush=True)
            finally:
                stack.stop()
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    (ROOT / "bench-sizing-results.json").write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


def print_table(report: dict) -> None:
    print(
        "\n| workloads | worker RSS peak (concurrency 2) | web RSS peak (2 workers) | Redis used |"
    )
    print("| ---: | ---: | ---: | ---: |")
    for size, entry in report["sizes"].items():
        print(
            f"| {int(size):,} | {entry['worker']['peak_mb']} MB | {entry['web']['peak_mb']} MB "
            f"| {entry['worker']['redis_used_mb']} MB |"
        )
    print("\nCollector CPU, replayed answers (median per window; seconds; per 1,000 workloads):")
    for size, entry in report["sizes"].items():
        figures = entry.get("collector_cpu")
        if not figures:
            continue
        for window, w in figures["windows"].items():
            per = round(w["median_cpu_seconds"] / max(w["workloads"], 1) * 1000, 3)
            met = "met" if per <= 0.3 else "missed"
            print(f"  {int(size):,} {window}: {w['median_cpu_seconds']} s, {per} s per 1,000 "
                  f"(target 0.3: {met})")  # fmt: skip
        stages = ", ".join(f"{k} {v}" for k, v in figures["stages_seconds_per_run"].items())
        print(f"  {int(size):,} where it went, per run (inline, "
              f"{figures['inline_seconds_per_run']} s): {stages}")  # fmt: skip
    scaled = report.get("scaled")
    if scaled:
        figures = scaled["collection"]
        seconds = ", ".join(str(run["seconds"]) for run in figures["runs"])
        print(
            f"\n{scaled['workloads_recorded'] * scaled['copies']:,} workloads (replayed): "
            f"1m collection {seconds} s, {figures['runs'][-1]['workloads']} workloads, "
            f"peak RSS {figures['peak_rss_mb']} MB, Redis {figures['redis_used_mb']} MB"
        )


if __name__ == "__main__":
    sys.exit(main())
