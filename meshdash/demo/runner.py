"""Run the demo mesh: the Kubernetes API stand-in and the metrics exporter, in this process.

``start_demo`` is what the ``demo_mesh`` command, the tests and the benchmark use. It writes a
kubeconfig for the stand-in and a Prometheus configuration scraping the exporter's shards.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from meshdash.demo.exporter import MetricsExporter
from meshdash.demo.kubeapi import KubeApiServer
from meshdash.demo.model import DemoMesh, build_mesh

_DURATION = re.compile(r"^(\d+)(ms|s|m)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000}


def duration_ms(text: str) -> int:
    """A Prometheus duration such as ``10s``, ``500ms`` or ``1m``, in milliseconds."""
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"not a duration like 10s, 500ms or 1m: {text!r}")
    return int(match[1]) * _UNIT_MS[match[2]]


def _duration(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass
class RunningDemo:
    mesh: DemoMesh
    kube: KubeApiServer
    exporter: MetricsExporter
    kubeconfig_path: Path
    prometheus_config_path: Path
    token: str

    @property
    def kube_url(self) -> str:
        return self.kube.url

    @property
    def metrics_targets(self) -> list[str]:
        return self.exporter.targets

    def stop(self) -> None:
        self.exporter.stop()
        self.kube.stop()


def start_demo(
    mesh: DemoMesh,
    host: str = "127.0.0.1",
    shards: int = 8,
    scrape_interval: str = "10s",
    out_dir: Path = Path("var/demo"),
    kube_port: int = 0,
    metrics_port: int = 0,
) -> RunningDemo:
    """Serve ``mesh`` and write ``kubeconfig`` and ``prometheus.yml`` into ``out_dir``."""
    interval_ms = duration_ms(scrape_interval)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    kube = KubeApiServer(mesh, host, kube_port, token).start()
    try:
        exporter = MetricsExporter(mesh, host, metrics_port, shards)
    except BaseException:
        kube.stop()
        raise
    demo = RunningDemo(
        mesh, kube, exporter, out_dir / "kubeconfig", out_dir / "prometheus.yml", token
    )
    write_mesh_arguments(out_dir / "mesh.json", mesh)
    write_kubeconfig(demo.kubeconfig_path, kube.url, token)
    write_prometheus_config(demo.prometheus_config_path, exporter.targets, interval_ms)
    return demo


def write_mesh_arguments(path: Path, mesh: DemoMesh) -> None:
    arguments = {"workloads": len(mesh.workloads), "seed": mesh.seed, "epoch": mesh.epoch}
    path.write_text(json.dumps(arguments) + "\n")


def load_mesh(out_dir: Path) -> DemoMesh:
    """The mesh a running demo serves, rebuilt from the ``mesh.json`` it wrote in ``out_dir``."""
    arguments = json.loads((Path(out_dir) / "mesh.json").read_text())
    return build_mesh(arguments["workloads"], arguments["seed"], arguments["epoch"])


def write_kubeconfig(path: Path, server: str, token: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "meshdash-demo", "cluster": {"server": server}}],
        "users": [{"name": "meshdash-demo", "user": {"token": token}}],
        "contexts": [
            {
                "name": "meshdash-demo",
                "context": {"cluster": "meshdash-demo", "user": "meshdash-demo"},
            }
        ],
        "current-context": "meshdash-demo",
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def write_prometheus_config(path: Path, targets: list[str], interval_ms: int) -> None:
    # The timeout stays below the interval, as Prometheus requires.
    timeout_ms = max(100, interval_ms * 8 // 10)
    config = {
        "global": {
            "scrape_interval": _duration(interval_ms),
            "scrape_timeout": _duration(timeout_ms),
            "evaluation_interval": _duration(interval_ms),
        },
        "scrape_configs": [
            {
                "job_name": "linkerd-proxy",
                # The series already carry the labels the viz relabelling would give them.
                "honor_labels": True,
                "scrape_interval": _duration(interval_ms),
                "scrape_timeout": _duration(timeout_ms),
                "metrics_path": "/metrics",
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
