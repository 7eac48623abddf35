"""``python manage.py demo_history``: seed meshdash's history with the demo mesh's past."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meshdash.demo.history import DEFAULT_DAYS, seed_history
from meshdash.demo.runner import load_mesh


class Command(BaseCommand):
    help = (
        "Write the last days of the running demo mesh's pod points (proxy memory, leaf expiry) "
        "into meshdash's history, so that a fresh demo shows weeks of it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mesh-dir",
            default="var/demo/mesh",
            help="where the demo mesh wrote its mesh.json (demo_mesh --out-dir)",
        )
        parser.add_argument("--days", type=float, default=DEFAULT_DAYS)

    def handle(self, *args, **options):
        mesh_dir = Path(options["mesh_dir"])
        if not (mesh_dir / "mesh.json").exists():
            raise CommandError(f"no mesh.json in {mesh_dir}: start the demo mesh first")
        if not 0 < options["days"] <= 60:
            raise CommandError("--days must be more than 0 and at most 60")
        started = time.monotonic()
        written = seed_history(load_mesh(mesh_dir), options["days"])
        self.stdout.write(
            f"demo history: {written} pod points over {options['days']:g} days "
            f"in {time.monotonic() - started:.1f} s"
        )
