"""Real proxy scrapes served to a real Prometheus: a static exporter, and the viz scrape job.

One scrape has no rate, so the exporter serves a fixture from ``tests/fixtures/real`` with every
counter advancing linearly in time: a sample of a counter, or a histogram's ``_bucket``,
``_count`` or ``_sum``, is served as ``value_in_fixture * (t - t0) / PERIOD_SECONDS``; gauges as
they are. With a period of 60 s the increase of every counter over any whole minute is exactly
its value in the fixture, so the expectations for the 1m window are the fixture's own numbers
divided by 60, read by an independent parser: nothing to model, nothing to tune. ``t0`` lies ten
periods before the first scrape, so no counter is near zero and Prometheus's extrapolation to the
window's edges is never clamped. The only inexactness left is the time between the scrape's
timestamp and the moment the exporter computes the value: milliseconds (0.1 % of a minute
measured) on a quiet machine, more on a loaded one or while this process is busy elsewhere.

Why not backfill with ``promtool tsdb create-blocks-from openmetrics``: the 2022 text is not
OpenMetrics (counters named without ``_total``, comment headers), so it would have to be
rewritten first, and the labels the viz Prometheus adds written by hand into every series.
Served, it goes through Prometheus's own text parser as written, and the namespace, pod and owner
labels come from linkerd-viz's own relabelling rules applied by Prometheus, the way they do on a
cluster. The price is one minute of scraping before the window is full.

The exporter changes only the value of a sample line: comments, names, labels and order are
served byte for byte. No timestamps are added (a proxy sends none).
"""

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from tests import servers

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "real"
PERIOD_SECONDS = 60.0
_LEAD_PERIODS = 10

# Sample names that grow, by the family's TYPE: OpenMetrics-style counters are typed without
# the ``_total`` their samples carry, the proxy's legacy ones with it.
_GROWING = {
    "counter": ("", "_total"),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum"),
}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def growing_sample_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 4 and words[:2] == ["#", "TYPE"]:
            names.update(words[2] + suffix for suffix in _GROWING.get(words[3], ()))
    return names


def advanced(text: str, factor: float, growing: set[str]) -> str:
    """``text`` with the value of every growing sample multiplied by ``factor``."""
    lines = []
    for line in text.split("\n"):
        if line and not line.startswith("#"):
            name = _METRIC_NAME.match(line)
            if name and name.group() in growing:
                # No timestamps, so the value is the last field; label values may hold spaces.
                head, _, value = line.rpartition(" ")
                line = f"{head} {float(value) * factor!r}"
        lines.append(line)
    return "\n".join(lines)


class _Handler(BaseHTTPRequestHandler):
    server: "StaticExporter"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = self.server.body(time.time()).encode()
        self.send_response(200)
        # What the proxy sends: no version parameter.
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StaticExporter(ThreadingHTTPServer):
    """One proxy's admin port: ``/metrics`` serving ``text`` with its counters advancing."""

    daemon_threads = True

    def __init__(self, text: str):
        self.port = servers.free_port()
        super().__init__(("127.0.0.1", self.port), _Handler)
        self.text = text
        self.growing = growing_sample_names(text)
        self.t0 = time.time() - _LEAD_PERIODS * PERIOD_SECONDS
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def body(self, at: float) -> str:
        return advanced(self.text, (at - self.t0) / PERIOD_SECONDS, self.growing)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _sanitised(name: str) -> str:
    """A Kubernetes label name as service discovery spells it in ``__meta_*`` labels."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def pod_discovery_labels(namespace: str, pod: str, pod_labels: dict[str, str]) -> dict[str, str]:
    """What ``kubernetes_sd_configs`` (role pod) gives the proxy's ``linkerd-admin`` port of a
    pod, as far as the viz relabelling reads it."""
    labels = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_container_name": "linkerd-proxy",
        "__meta_kubernetes_pod_container_port_name": "linkerd-admin",
    }
    for name, value in pod_labels.items():
        labels[f"__meta_kubernetes_pod_label_{_sanitised(name)}"] = value
    return labels


# The `linkerd-proxy` job of linkerd-viz 2.18 (viz/charts/linkerd-viz/templates/prometheus.yaml
# in linkerd/linkerd2, with proxyContainerName linkerd-proxy and linkerdNamespace linkerd), its
# relabel_configs as written there. Later releases added a pod-phase filter first; a static
# target has no phase.
VIZ_PROXY_RELABEL_CONFIGS = yaml.safe_load(
    r"""
- source_labels:
  - __meta_kubernetes_pod_container_name
  - __meta_kubernetes_pod_container_port_name
  - __meta_kubernetes_pod_label_linkerd_io_control_plane_ns
  action: keep
  regex: ^linkerd-proxy;linkerd-admin;linkerd$
- source_labels: [__meta_kubernetes_namespace]
  action: replace
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  action: replace
  target_label: pod
- source_labels: [__meta_kubernetes_pod_label_linkerd_io_proxy_job]
  action: replace
  target_label: k8s_job
- action: labeldrop
  regex: __meta_kubernetes_pod_label_linkerd_io_proxy_job
- action: labelmap
  regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)
- action: labeldrop
  regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)
- action: labelmap
  regex: __meta_kubernetes_pod_label_linkerd_io_(.+)
- action: labelmap
  regex: __meta_kubernetes_pod_label_(.+)
  replacement: __tmp_pod_label_$1
- action: labelmap
  regex: __tmp_pod_label_linkerd_io_(.+)
  replacement:  __tmp_pod_label_$1
- action: labeldrop
  regex: __tmp_pod_label_linkerd_io_(.+)
- action: labelmap
  regex: __tmp_pod_label_(.+)
"""
)


def prometheus_config(targets: list[tuple[str, dict[str, str]]], scrape_seconds: int) -> str:
    """A Prometheus configuration scraping each ``(address, discovery labels)`` as its own
    target of the viz ``linkerd-proxy`` job."""
    interval = f"{scrape_seconds}s"
    config = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval},
        "scrape_configs": [
            {
                "job_name": "linkerd-proxy",
                "static_configs": [
                    {"targets": [address], "labels": labels} for address, labels in targets
                ],
                "relabel_configs": VIZ_PROXY_RELABEL_CONFIGS,
            }
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)
