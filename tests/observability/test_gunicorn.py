"""/metrics under gunicorn as deployed: the master serves it on its own port, adding up what
every worker process measured (prometheus_client's multiprocess mode)."""

import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from meshdash.lib import processes
from tests import servers
from tests.observability.metrics_client import samples, value

pytestmark = pytest.mark.e2e

REQUESTS = 24


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def gunicorn(redis_client, redis_url, cache_redis_url, tmp_path):
    web_port, metrics_port = servers.free_port(), servers.free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="meshdash.settings",
        MESHDASH_DEBUG="true",
        REDIS_URL=redis_url,
        MESHDASH_CACHE_REDIS_URL=cache_redis_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MESHDASH_METRICS_PORT=str(metrics_port),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=processes.ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_99999.db").write_bytes(b"left by an earlier run")
    args = [sys.executable, "-m", "gunicorn", "meshdash.wsgi", "--bind", f"127.0.0.1:{web_port}"]
    args += ["--workers", "2"]
    log_path = tmp_path / "gunicorn.log"
    proc = processes.start(args, log_path, env, own_group=False)
    try:
        servers.wait_for_http(f"http://127.0.0.1:{web_port}/healthz", timeout=60, proc=proc)
        servers.wait_for_port(metrics_port, proc=proc)
        yield f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{metrics_port}", tmp_path
    finally:
        servers.stop(proc)
        print(log_path.read_text()[-3000:])


def test_the_master_adds_up_every_workers_requests_on_its_own_port(gunicorn):
    web, metrics, tmp_path = gunicorn
    for _ in range(REQUESTS):
        assert get(f"{web}/accounts/login/")[0] == 200
    status, text = get(f"{metrics}/metrics")
    assert status == 200, text
    found = samples(text)
    count = "meshdash_http_request_duration_seconds_count"
    assert value(found, count, view="accounts:login") == REQUESTS
    assert value(found, "meshdash_store_up") == 1
    assert value(found, "meshdash_users") == 0
    # The earlier run's file went at start; each worker that served wrote one of its own.
    files = {path.name for path in (tmp_path / "metrics").iterdir()}
    assert "counter_99999.db" not in files
    assert any(name.startswith("histogram_") for name in files), files


def test_the_pages_port_serves_no_metrics(gunicorn):
    web, metrics, _ = gunicorn
    status, text = get(f"{web}/metrics")
    assert "meshdash_http_request_duration_seconds" not in text
    assert status in (302, 404)
    assert get(f"{metrics}/")[0] == 404


def test_without_a_directory_set_each_gunicorn_gets_a_new_one(monkeypatch):
    from meshdash.observability.gunicorn import prepare_multiprocess_dir

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    path = prepare_multiprocess_dir()
    try:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == path
        assert os.path.isdir(path) and not os.listdir(path)
    finally:
        os.rmdir(path)
