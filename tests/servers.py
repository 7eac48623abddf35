"""Private, throw-away servers for the tests: each on a free loopback port with its own data
directory, stopped when the test session ends."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = ""):
    """Calls ``condition`` until it returns something true and returns that, or raises
    TimeoutError after ``timeout`` seconds. Tests wait on a condition with a deadline, never
    for a fixed time: a loaded machine makes any fixed time too short now and then."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{what or getattr(condition, '__name__', condition)} not true after {timeout} s"
            )
        time.sleep(interval)


def _exited(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is not None:
        raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    def listening() -> bool:
        _exited(proc)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(listening, timeout, what=f"a server listening on 127.0.0.1:{port}")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_redis(data_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, int]:
    """A private redis-server without persistence, on ``port`` (a restart) or a free one."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: run `make bootstrap`")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc=proc)
    return proc, port


def wait_for_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Waits until ``url`` answers 200 (a server's readiness endpoint)."""

    def ready() -> bool:
        _exited(proc)
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(ready, timeout, interval=0.1, what=f"{url} answering 200")


def start_prometheus(config_file: Path, data_dir: Path) -> tuple[subprocess.Popen, int]:
    """Debian's Prometheus with ``config_file`` on a free port, its TSDB in ``data_dir``."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is missing: run `make bootstrap`")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with open(data_dir / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={data_dir}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for_http(f"http://127.0.0.1:{port}/-/ready", timeout=60, proc=proc)
    return proc, port


@dataclass
class DemoMeshProcess:
    """A running `manage.py demo_mesh`: the files it wrote, and the model it serves."""

    proc: subprocess.Popen
    out_dir: Path
    workloads: int
    seed: int
    scrape_seconds: float

    @property
    def kubeconfig(self) -> Path:
        return self.out_dir / "kubeconfig"

    @property
    def prometheus_config(self) -> Path:
        return self.out_dir / "prometheus.yml"

    def model(self):
        """The demo model it serves, rebuilt from the arguments it wrote (the tests' truth)."""
        from meshdash.demo.runner import load_mesh

        return load_mesh(self.out_dir)


def start_demo_mesh(
    out_dir: Path, workloads: int, seed: int = 1, shards: int = 4, scrape_seconds: int = 2
) -> DemoMeshProcess:
    """The demo mesh on free loopback ports, in its own process, once it has written `ready`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    options = f"--workloads {workloads} --seed {seed} --host 127.0.0.1 --kube-port 0"
    options += f" --metrics-port 0 --shards {shards} --scrape-interval {scrape_seconds}s"
    args = [sys.executable, "manage.py", "demo_mesh", *options.split(), "--out-dir", str(out_dir)]
    with open(out_dir / "demo_mesh.log", "wb") as log:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _exited(proc) or (out_dir / "ready").exists(), 180, interval=0.1)
    except (RuntimeError, TimeoutError):
        stop(proc)
        log_text = (out_dir / "demo_mesh.log").read_text()[-2000:]
        raise RuntimeError(
            f"demo_mesh did not get ready (exit {proc.returncode}): {log_text}"
        ) from None
    return DemoMeshProcess(proc, out_dir, workloads, seed, float(scrape_seconds))


@dataclass
class PrometheusServer:
    proc: subprocess.Popen
    url: str
    started_at: float = field(default_factory=time.time)

    def wait_for_full_window(self, window_seconds: float, scrape_seconds: float) -> None:
        """Waits until every target has been scraped over a whole window: before that, rate()
        and increase() see only part of it and read low."""

        def all_up() -> bool:
            up = self.query("up")
            return bool(up) and all(value == 1 for _, value in up)

        wait_until(all_up, 60, interval=0.5, what="every scrape target up")
        # The first scrape comes within one interval of the start; one more for good measure.
        covered_at = self.started_at + window_seconds + 2 * scrape_seconds
        window = f"{int(window_seconds)}s"

        def window_scraped() -> bool:
            if time.time() < covered_at:
                return False
            ((_, samples),) = self.query(f"min(count_over_time(up[{window}]))")
            return samples >= window_seconds / scrape_seconds - 1

        # A scrape that a loaded machine delays or misses is made up by the next ones.
        wait_until(
            window_scraped,
            window_seconds + 60,
            interval=0.5,
            what=f"every target scraped over the last {window}",
        )

    def query(self, promql: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query through Prometheus's HTTP API: (labels, value) per series."""
        params = {"query": promql} | ({"time": f"{at:.3f}"} if at is not None else {})
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        if body["status"] != "success" or body["data"]["resultType"] != "vector":
            raise RuntimeError(f"{promql}: {body}")
        return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]


def worker_env(redis_url: str, prometheus_url: str, kubeconfig: Path, db_dir: Path) -> dict:
    """The environment a deployment gives a Celery worker: everything through variables."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="meshdash.settings",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        PROMETHEUS_URL=prometheus_url,
        KUBECONFIG=str(kubeconfig),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{db_dir / 'worker.sqlite3'}"),
    )


def start_celery_worker(env: dict, log_path: Path, name: str) -> subprocess.Popen:
    """A real Celery worker process (solo pool, not eager mode) logging to ``log_path``."""
    args = ["-A", "meshdash", "worker", "--pool", "solo", "--loglevel", "INFO"]
    args += ["--without-mingle", "--without-gossip", "--hostname", f"{name}@%h"]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def start_celery_beat(env: dict, log_path: Path, schedule_file: Path) -> subprocess.Popen:
    """A real Celery beat process sending the schedule of ``meshdash.settings`` (read from
    ``env``), logging to ``log_path``."""
    args = ["-A", "meshdash", "beat", "--loglevel", "INFO", "--schedule", str(schedule_file)]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


# How meshdash runs Redis (README: "Redis"): the snapshot store and broker never evict, they
# refuse writes at the ceiling; the result cache's own instance evicts anything, all of it cache.
STORE_REDIS_MEMORY = ("1gb", "noeviction")
CACHE_REDIS_MEMORY = ("64mb", "allkeys-lru")


def configure_redis_memory(port: int, maxmemory: str, policy: str) -> None:
    import redis

    client = redis.Redis(port=port)
    try:
        client.config_set("maxmemory", maxmemory)
        client.config_set("maxmemory-policy", policy)
    finally:
        client.close()
