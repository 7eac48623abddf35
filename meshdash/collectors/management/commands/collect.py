"""``python manage.py collect``: run collections without Celery."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from meshdash.collectors.run import collect_and_store
from meshdash.mesh.model import WINDOWS


class Command(BaseCommand):
    help = "Collect snapshots from Prometheus and the Kubernetes API into the snapshot store."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="collect once and exit")
        parser.add_argument(
            "--window", default="all", choices=[*WINDOWS, "all"], help="window to collect"
        )

    def handle(self, *args, once: bool, window: str, **options):
        windows = list(WINDOWS) if window == "all" else [window]
        if once:
            outcomes = [self.collect(w) for w in windows]
            if all(status == "failed" for status in outcomes):
                raise CommandError("every collection failed")
            return
        # Without Celery: run each window whenever its refresh interval has passed.
        due = dict.fromkeys(windows, 0.0)
        while True:
            now = time.monotonic()
            for w in windows:
                if now >= due[w]:
                    due[w] = now + settings.MESHDASH_WINDOWS[w]
                    self.collect(w)
            time.sleep(max(0.1, min(due.values()) - time.monotonic()))

    def collect(self, window: str) -> str:
        outcome = collect_and_store(window)
        self.stdout.write(
            f"{window}: {outcome.status} in {outcome.seconds:.2f}s, {outcome.query_count} queries"
        )
        for part, reason in sorted(outcome.errors.items()):
            self.stdout.write(f"  {part}: {reason}")
        return outcome.status
