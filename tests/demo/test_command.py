"""`manage.py demo_mesh` as an operator runs it: files written, servers up, clean exit."""

import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from kubernetes import client, config

from meshdash.demo.runner import load_mesh
from meshdash.lib import processes
from tests.servers import ROOT


def _start(out_dir):
    args = [sys.executable, "manage.py", "demo_mesh", "--workloads", "20", "--seed", "4",
            "--shards", "2", "--scrape-interval", "2s", "--out-dir", str(out_dir)]  # fmt: skip
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (out_dir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(proc.communicate()[0].decode())
        time.sleep(0.1)
    return proc


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_serves_until_signalled_and_exits_cleanly(tmp_path, stop_signal):
    proc = _start(tmp_path)
    try:
        api = config.new_client_from_config(str(tmp_path / "kubeconfig"))
        namespaces = client.CoreV1Api(api).list_namespace().items
        mesh = load_mesh(tmp_path)
        assert {ns.metadata.name for ns in namespaces} == {ns.name for ns in mesh.namespaces}

        prometheus = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
        job = prometheus["scrape_configs"][0]
        assert job["job_name"] == "linkerd-proxy" and job["honor_labels"] is True
        assert prometheus["global"]["scrape_interval"] == "2s"
        assert job["scrape_timeout"] == "1600ms"
        targets = job["static_configs"][0]["targets"]
        assert len(targets) == 2
        for target in targets:
            with urllib.request.urlopen(f"http://{target}/metrics", timeout=10) as response:
                assert b"request_total{" in response.read()
        promtool = processes.binary("promtool")
        check = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")],
                               capture_output=True)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        proc.send_signal(stop_signal)
        output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, output
    assert "Kubernetes API: http://127.0.0.1:" in output and "demo mesh stopped" in output
    assert not (tmp_path / "ready").exists()


def test_it_rejects_a_bad_scrape_interval(tmp_path):
    args = [sys.executable, "manage.py", "demo_mesh", "--scrape-interval", "soon",
            "--out-dir", str(tmp_path)]  # fmt: skip
    result = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode != 0
    assert b"not a duration" in result.stderr
    assert not (tmp_path / "ready").exists()
