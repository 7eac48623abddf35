"""``manage.py probe worker|beat``: a liveness probe, exit 0 when alive, 1 otherwise.

Run it in the container of the process it judges (an exec probe): a worker's running tasks are
judged by their process ids. See meshdash.observability.heartbeat for what each heartbeat proves.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from meshdash.observability import heartbeat


class Command(BaseCommand):
    help = "Exit 0 when the worker or beat in this container is alive and not hung, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("process", choices=["worker", "beat"])
        parser.add_argument(
            "--max-age",
            type=float,
            default=None,
            help="seconds since the last heartbeat beyond which it is hung "
            "(default: 60 for a worker, which beats every few seconds; 120 for beat, which "
            "ticks at least every CELERY_BEAT_MAX_LOOP_INTERVAL seconds)",
        )
        parser.add_argument(
            "--node",
            default=None,
            help="the worker's Celery node name (default: celery@ this host's name, Celery's)",
        )
        parser.add_argument(
            "--max-task-seconds",
            type=float,
            default=None,
            help="a task running longer is hung (default: the collection deadline + 60 s)",
        )

    def handle(self, *args, process, max_age, node, max_task_seconds, **options):
        if process == "worker":
            verdict = heartbeat.check_worker(
                node or heartbeat.default_node(),
                60.0 if max_age is None else max_age,
                (settings.MESHDASH_COLLECT_DEADLINE_SECONDS + 60.0)
                if max_task_seconds is None
                else max_task_seconds,
            )
        else:
            verdict = heartbeat.check_beat(120.0 if max_age is None else max_age)
        if not verdict.alive:
            self.stderr.write(verdict.message)
            raise SystemExit(1)
        self.stdout.write(verdict.message)
