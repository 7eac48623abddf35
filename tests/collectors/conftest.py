"""Private servers for the collector tests: a Prometheus holding backfilled proxy metrics with
known values, and a small Kubernetes API server, each on a free port and stopped at the end."""

import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from meshdash.collectors.kubernetes import KubernetesClient
from meshdash.lib import processes
from meshdash.store import SnapshotStore
from tests import servers
from tests.collectors import fixture_data, kube_server


def start_prometheus(data_dir: Path, config: str = "global: {}\n") -> tuple[subprocess.Popen, str]:
    """A Prometheus on a free loopback port over ``data_dir``; its URL."""
    server = processes.binary("prometheus")
    config_file = data_dir / "prometheus.yml"
    config_file.write_text(config)
    port = servers.free_port()
    args = processes.prometheus_command(
        config_file, data_dir / "tsdb", port, retention="30d", server=server
    )
    proc = processes.start(args, data_dir / "prometheus.log", own_group=False)
    servers.wait_for_port(port, timeout=30, proc=proc)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def backfilled_prometheus(tmp_path_factory):
    """(URL, evaluation time): a Prometheus holding fixture_data's series; queries at the
    evaluation time see exactly the stated rates over 1m."""
    data_dir = tmp_path_factory.mktemp("prometheus")
    # Two hours back, on a block boundary of its own, and aligned to the sample step.
    start = (int(time.time()) - 3 * 3600) // 60 * 60
    source = data_dir / "data.om"
    source.write_text(fixture_data.openmetrics(start))
    subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            str(source),
            str(data_dir / "tsdb"),
        ],
        check=True,
        capture_output=True,
    )
    proc, url = start_prometheus(data_dir)
    try:
        yield url, float(start + (fixture_data.SAMPLES - 1) * fixture_data.STEP)
    finally:
        servers.stop(proc)


@pytest.fixture
def kube_api(tmp_path):
    """The Kubernetes API stand-in over kube_server's objects, and a kubeconfig pointing at it."""
    server = kube_server.start()
    try:
        server.write_kubeconfig(tmp_path / "kubeconfig")
        yield server
    finally:
        server.stop()


def kube_client(kubeconfig, page_size: int = 500, timeout: float = 20.0) -> KubernetesClient:
    """The official client, configured from a kubeconfig as for a real cluster."""
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.retries = 0
    return KubernetesClient(k8s.ApiClient(configuration), page_size=page_size, timeout=timeout)


def kube_client_for(server, page_size: int = 2, timeout: float = 5.0) -> KubernetesClient:
    return kube_client(server.kubeconfig, page_size, timeout)


def wait_for_full_window(
    prometheus: servers.PrometheusServer, scrape_seconds: float, window_seconds: int = 60
) -> None:
    """Until every target's first scrape is older than the window (at once when it is).

    Before that ``increase()`` over the window extrapolates from a partial range and reads low.
    """
    span = window_seconds + 5 * scrape_seconds
    needed = span / scrape_seconds - 2  # samples that reach back past the window's start
    deadline = time.monotonic() + span + 60
    while True:
        counts = prometheus.query(f"count_over_time(up[{int(span)}s])")
        if counts and all(value >= needed for _, value in counts):
            up = prometheus.query("up")
            assert all(value == 1 for _, value in up), f"scrape targets down: {up}"
            return
        assert time.monotonic() < deadline, f"targets not scraped for a whole window: {counts}"
        time.sleep(1)


@pytest.fixture
def kube(kube_api):
    return kube_client_for(kube_api)


def covered_instant(url: str, window_seconds: int = 60, timeout: float = 120.0) -> float:
    """A recent instant at which every target's samples reach both ends of the window before it.

    increase() extrapolates to the ends of its window only when the nearest sample is less than
    1.1 average intervals away; on a busy machine a late scrape leaves a wider gap and the
    figure reads short by up to half an interval (about 2 % of a minute at 2 s scrapes). At
    such an instant, increase() over the window equals the exporter's rate times the window.
    """

    def covered() -> float | None:
        at = time.time() - 0.2
        query = urllib.parse.urlencode({"query": f"up[{window_seconds}s]", "time": f"{at:.3f}"})
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
            result = json.load(response)["data"]["result"]
        for series in result:
            times = [float(t) for t, _ in series["values"]]
            if len(times) < 3:
                return None
            limit = 1.1 * (times[-1] - times[0]) / (len(times) - 1)
            if times[0] - (at - window_seconds) >= limit or at - times[-1] >= limit:
                return None
        return at if result else None

    return servers.wait_until(covered, timeout, interval=0.3, what="a window every target covers")


@pytest.fixture
def store(redis_client):
    """The snapshot store the collection tests write to, in the test Redis."""
    return SnapshotStore(redis_client, "test", snapshot_ttl_seconds=60)


@pytest.fixture
def sources(settings, backfilled_prometheus, kube_api):
    """Settings pointing a scheduled collection at the backfilled Prometheus and the small
    Kubernetes API."""
    settings.PROMETHEUS_URL = backfilled_prometheus[0]
    settings.KUBECONFIG = kube_api.kubeconfig
    settings.KUBE_CONTEXT = ""
    settings.MESHDASH_COLLECT_DEADLINE_SECONDS = 10
    return kube_api
