"""Private, throw-away servers for the tests: each on a free loopback port with its own data
directory, stopped when the test session ends. They share the test run's process group, so an
interrupted run takes them along; starting and stopping is meshdash.lib.processes's."""

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from meshdash.lib import processes
from meshdash.lib.processes import (  # noqa: F401 (the tests' helpers, under their old names)
    ROOT,
    free_port,
    stop,
    wait_for_http,
    wait_for_port,
    wait_until,
)


def start_redis(
    data_dir: Path, port: int | None = None, memory: tuple[str, str] = ("", "")
) -> tuple[subprocess.Popen, int]:
    """A private redis-server without persistence, on ``port`` (a restart) or a free one, with
    ``memory``'s (maxmemory, policy) if given."""
    server = processes.binary("redis-server")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    maxmemory, policy = memory
    args = processes.redis_command(
        port,
        data_dir,
        maxmemory=maxmemory,
        policy=policy,
        logfile=data_dir / "redis.log",
        server=server,
    )
    proc = processes.start(args, own_group=False)
    wait_for_port(port, proc=proc)
    return proc, port


def start_prometheus(config_file: Path, data_dir: Path) -> tuple[subprocess.Popen, int]:
    """Debian's Prometheus with ``config_file`` on a free port, its TSDB in ``data_dir``."""
    server = processes.binary("prometheus")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = processes.prometheus_command(config_file, data_dir, port, retention="1h", server=server)
    proc = processes.start(args, data_dir / "prometheus.log", own_group=False)
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
    args = processes.demo_mesh_command(
        out_dir, workloads, seed=seed, shards=shards, scrape_interval=f"{scrape_seconds}s"
    )
    proc = processes.start(args, out_dir / "demo_mesh.log", own_group=False)
    try:
        wait_until(processes.demo_mesh_ready(out_dir).exists, 180, interval=0.1, proc=proc)
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
    args = ["worker", "--pool", "solo", "--loglevel", "INFO", "--without-mingle"]
    args += ["--without-gossip", "--hostname", f"{name}@%h"]
    return processes.start(processes.celery_command(*args), log_path, env, own_group=False)


def start_celery_beat(env: dict, log_path: Path, schedule_file: Path) -> subprocess.Popen:
    """A real Celery beat process sending the schedule of ``meshdash.settings`` (read from
    ``env``), logging to ``log_path``."""
    args = processes.celery_command("beat", "--loglevel", "INFO", "--schedule", schedule_file)
    return processes.start(args, log_path, env, own_group=False)


# How meshdash runs Redis (README: "Redis"): the snapshot store and broker never evict, they
# refuse writes at the ceiling; the result cache's own instance evicts anything, all of it cache.
STORE_REDIS_MEMORY = ("1gb", "noeviction")
CACHE_REDIS_MEMORY = ("64mb", "allkeys-lru")
