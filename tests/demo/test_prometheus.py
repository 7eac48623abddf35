"""A real Prometheus scrapes the exporter; PromQL must agree with the demo model's truth."""

import json
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from meshdash.demo.model import build_mesh
from meshdash.demo.runner import start_demo
from tests import servers

pytestmark = pytest.mark.e2e

SCRAPE_SECONDS = 2
WINDOW_SECONDS = 40
WINDOW = f"{WINDOW_SECONDS}s"
# The application's requests: not the admin port's scrapes and probes, not the kubelet's probes.
APP = 'direction="inbound", target_port!="4191", route_name!="probe"'


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    """The demo mesh served in-process and scraped every 2 s by a private Prometheus."""
    out_dir = tmp_path_factory.mktemp("demo")
    mesh = build_mesh(300, seed=1)
    demo = start_demo(mesh, shards=8, scrape_interval="10s", out_dir=out_dir)
    config = yaml.safe_load(demo.prometheus_config_path.read_text())
    for section in (config["global"], config["scrape_configs"][0]):
        section.update(scrape_interval=f"{SCRAPE_SECONDS}s", scrape_timeout=f"{SCRAPE_SECONDS}s")
    pods = sum(pod.exports_metrics for w in mesh.all_workloads for pod in w.pods)
    config_file = out_dir / "prometheus-fast.yml"
    config_file.write_text(yaml.safe_dump(config))
    proc, port = servers.start_prometheus(config_file, out_dir / "tsdb")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            at = time.time() - 0.2
            if _window_is_covered(url, at, pods):
                break
            assert time.monotonic() < deadline, "Prometheus did not scrape the demo mesh evenly"
            time.sleep(0.3)
        yield mesh, url, at, demo.exporter
    finally:
        servers.stop(proc)
        demo.stop()


def _window_is_covered(url: str, at: float, pods: int) -> bool:
    """Whether every pod's samples reach both ends of the window ending at ``at``.

    rate() extrapolates to the ends of its window only when the nearest sample is less than
    1.1 average intervals away; on a busy machine a late scrape can leave a wider gap, and
    the rate would then be short by up to half an interval. All queries run at such an
    instant, where Prometheus's rate() equals the exporter's configured rate.
    """
    result = _query(url, f"process_start_time_seconds[{WINDOW_SECONDS}s]", at)
    for series in result:
        times = [float(t) for t, _ in series["values"]]
        if len(times) < WINDOW_SECONDS / SCRAPE_SECONDS - 1:
            return False
        limit = 1.1 * (times[-1] - times[0]) / (len(times) - 1)
        if times[0] - (at - WINDOW_SECONDS) >= limit or at - times[-1] >= limit:
            return False
    return len(result) == pods


def _query(url: str, promql: str, at: float) -> list[dict]:
    query = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def _scalar(url: str, promql: str, at: float) -> float:
    result = _query(url, promql, at)
    return float(result[0]["value"][1]) if result else 0.0


def _by_deployment(url: str, promql: str, at: float) -> dict[tuple[str, str], float]:
    return {
        (r["metric"].get("namespace", ""), r["metric"].get("deployment", "")): float(r["value"][1])
        for r in _query(url, promql, at)
    }


def _expected_deployments(mesh):
    return {
        (w.namespace, w.name): w
        for w in mesh.all_workloads
        if w.kind == "deployment" and mesh.inbound_rps(w)
    }


def _rate_tolerance(url: str, at: float, exporter) -> float:
    """How far rate() can be from the configured rate, from the scrapes themselves.

    The exporter (like a real proxy) sends no timestamps: Prometheus stamps a sample with the
    scrape's scheduled time ``t``, and the exporter computes its value at some ``t + d``. A
    counter's rate over samples spanning ``T`` then reads ``rate * (1 + (d_last - d_first) /
    T)``, and ``T`` is at least the window less 1.1 intervals (``_window_is_covered``). The
    spread of ``d`` comes from Prometheus's sample times and the exporter's computation times.
    """
    renders = exporter.render_times()
    spread = 0.0
    for series in _query(url, f"up[{WINDOW}]", at):
        times = [float(t) for t, _ in series["values"]]
        computed = renders[series["metric"]["instance"]]
        delays = [next(r for r in computed if r >= t) - t for t in times]
        spread = max(spread, max(delays) - min(delays))
    return spread / (WINDOW_SECONDS - 1.1 * SCRAPE_SECONDS) + 1e-6


def test_it_gives_promql_inbound_rates_that_match_the_truth(scraped):
    mesh, url, at, exporter = scraped
    rps = _by_deployment(
        url, f"sum by (namespace, deployment) (rate(response_total{{{APP}}}[{WINDOW}]))", at
    )
    expected = _expected_deployments(mesh)
    assert len(expected) > 150
    assert {key for key in rps if key[1]} == set(expected)
    tolerance = _rate_tolerance(url, at, exporter)
    assert tolerance < 0.08  # else the machine is too busy for the check to mean much
    for key, w in expected.items():
        assert rps[key] == pytest.approx(mesh.inbound_rps(w), rel=tolerance), key


def test_it_gives_promql_probe_and_scrape_rates_that_match_the_truth(scraped):
    mesh, url, at, exporter = scraped
    probes = _by_deployment(
        url,
        f'sum by (namespace, deployment) (rate(request_total{{route_name="probe"}}[{WINDOW}]))',
        at,
    )
    scrapes = _by_deployment(
        url,
        "sum by (namespace, deployment) "
        f'(rate(request_total{{target_port="4191", route_name="default"}}[{WINDOW}]))',
        at,
    )
    tolerance = _rate_tolerance(url, at, exporter)
    deployments = [w for w in mesh.all_workloads if w.kind == "deployment" and w.exporting_pods]
    for w in deployments:
        key = (w.namespace, w.name)
        assert probes[key] == pytest.approx(mesh.probe_rps(w), rel=tolerance), key
        assert scrapes[key] == pytest.approx(mesh.scrape_rps(w), rel=tolerance), key


def test_it_gives_promql_success_ratios_that_match_the_truth(scraped):
    mesh, url, at, exporter = scraped
    selector = f"{APP}}}[{WINDOW}]))"
    ok = f'sum by (namespace, deployment) (rate(response_total{{classification="success",{selector}'
    everything = f"sum by (namespace, deployment) (rate(response_total{{{selector}"
    ratio = _by_deployment(url, f"{ok} / {everything}", at)
    expected = _expected_deployments(mesh)
    failing = [key for key, w in expected.items() if mesh.success_rate(w) < 0.95]
    assert failing
    # Both rates come from the same scrapes: the delay of a value cancels out of the ratio.
    for key, w in expected.items():
        assert ratio[key] == pytest.approx(mesh.success_rate(w), rel=1e-6), key


def test_it_gives_promql_latency_quantiles_that_match_the_truth(scraped):
    mesh, url, at, exporter = scraped
    p99 = _by_deployment(
        url,
        "histogram_quantile(0.99, sum by (le, namespace, deployment) "
        f"(rate(response_latency_ms_bucket{{{APP}}}[{WINDOW}])))",
        at,
    )
    expected = _expected_deployments(mesh)
    slow = [key for key, w in expected.items() if mesh.latency_quantile(w, 0.99) > 1000]
    assert slow
    for key, w in expected.items():
        assert p99[key] == pytest.approx(mesh.latency_quantile(w, 0.99), rel=1e-6), key
