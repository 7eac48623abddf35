"""The probes against real worker and beat processes: alive while they run, failing once they
hang (SIGSTOP: the process is there, its loop does nothing)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from meshdash.lib import processes
from tests import servers

pytestmark = pytest.mark.e2e

ROOT = processes.ROOT


def probe(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "probe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def env(redis_client, redis_url, tmp_path):
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="meshdash.settings",
        MESHDASH_DEBUG="true",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        # Prometheus and Kubernetes are not needed: nothing here collects.
        PROMETHEUS_URL=f"http://127.0.0.1:{servers.free_port()}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Beat ticks each second and sends collections no worker takes.
        MESHDASH_REFRESH_SECONDS="1",
    )


def wait_for(env, args, returncode: int, timeout: float) -> subprocess.CompletedProcess:
    deadline = time.monotonic() + timeout
    while True:
        result = probe(env, *args)
        if result.returncode == returncode or time.monotonic() > deadline:
            return result
        time.sleep(1)


def hang_then_check(proc, env, args, max_age: float, log_path):
    try:
        alive = wait_for(env, args, 0, 60)
        assert alive.returncode == 0, (alive.stderr, log_path.read_text()[-2000:])
        os.kill(proc.pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        hung = wait_for(env, args, 1, max_age + 20)
        assert hung.returncode == 1, hung.stdout
        # Not before its last heartbeat is older than --max-age (it is written every 5 s).
        assert time.monotonic() - stopped_at >= max_age - 5 - 1
        assert "hung" in hung.stderr
        os.kill(proc.pid, signal.SIGCONT)
        back = wait_for(env, args, 0, 30)
        assert back.returncode == 0, back.stderr
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        servers.stop(proc)


def test_the_worker_probe_fails_once_the_workers_main_loop_hangs(env, tmp_path):
    node = f"probe-{os.getpid()}@test"
    log_path = tmp_path / "worker.log"
    args = ["worker", "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO"]
    args += ["--without-mingle", "--without-gossip", "--hostname", node]
    proc = processes.start(processes.celery_command(*args), log_path, env, own_group=False)
    hang_then_check(proc, env, ["worker", "--node", node, "--max-age", "8"], 8, log_path)


def test_the_beat_probe_fails_once_beats_loop_hangs(env, tmp_path):
    log_path = tmp_path / "beat.log"
    proc = servers.start_celery_beat(env, log_path, tmp_path / "schedule")
    hang_then_check(proc, env, ["beat", "--max-age", "8"], 8, log_path)
