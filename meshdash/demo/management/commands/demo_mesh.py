"""``python manage.py demo_mesh``: serve the demo mesh until SIGINT or SIGTERM."""

import signal
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meshdash.demo.model import build_mesh
from meshdash.demo.runner import duration_ms, start_demo


class Command(BaseCommand):
    help = "Serve a simulated Linkerd mesh: a Kubernetes API stand-in and proxy metrics."

    def add_arguments(self, parser):
        parser.add_argument("--workloads", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--kube-port", type=int, default=0, help="0: a free port")
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=0,
            help="first shard's port, the others follow; 0: free ports",
        )
        parser.add_argument("--shards", type=int, default=8)
        parser.add_argument("--scrape-interval", default="10s")
        parser.add_argument("--out-dir", default="var/demo")
        parser.add_argument(
            "--epoch",
            type=float,
            default=None,
            help="unix time the mesh is built around (default: the start of today, UTC)",
        )

    def handle(self, *args, **options):
        try:
            duration_ms(options["scrape_interval"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["workloads"] < 4 or options["shards"] < 1:
            raise CommandError("--workloads must be at least 4 and --shards at least 1")
        out_dir = Path(options["out_dir"])
        ready = out_dir / "ready"
        ready.unlink(missing_ok=True)
        started = time.monotonic()
        mesh = build_mesh(options["workloads"], options["seed"], options["epoch"])
        demo = start_demo(
            mesh,
            host=options["host"],
            shards=options["shards"],
            scrape_interval=options["scrape_interval"],
            out_dir=out_dir,
            kube_port=options["kube_port"],
            metrics_port=options["metrics_port"],
        )
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            ready.write_text(demo.kube_url + "\n")
            series = sum(len(shard) for shard in demo.exporter.shards)
            self.stdout.write(
                f"demo mesh: {len(mesh.workloads)} workloads, {series} series, ready in "
                f"{time.monotonic() - started:.1f}s\n"
                f"  Kubernetes API: {demo.kube_url} (kubeconfig {demo.kubeconfig_path})\n"
                f"  metrics: {', '.join(demo.metrics_targets)}\n"
                f"  Prometheus configuration: {demo.prometheus_config_path}\n"
                f"  mesh arguments: {out_dir / 'mesh.json'}"
            )
            self.stdout.flush()
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            demo.stop()
            ready.unlink(missing_ok=True)
        self.stdout.write("demo mesh stopped")
