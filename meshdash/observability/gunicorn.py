"""gunicorn hooks (./gunicorn.conf.py imports them): multiprocess metrics and their port.

``prepare_multiprocess_dir`` runs as gunicorn reads its configuration, before any worker
exists, so every worker inherits PROMETHEUS_MULTIPROC_DIR: set, it is emptied (files of an
earlier run would add to this one's); unset, a new directory under the temporary directory.
The master then serves /metrics on MESHDASH_METRICS_PORT (0: not at all) from a thread,
adding up the workers' files, and forgets a worker's live gauges when it exits.
"""

import os
import tempfile
from pathlib import Path


def prepare_multiprocess_dir() -> str:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink()
    else:
        path = tempfile.mkdtemp(prefix="meshdash-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def when_ready(server) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshdash.settings")
    import django

    django.setup()
    from django.conf import settings

    from meshdash.observability import server as metrics_server

    port = settings.MESHDASH_METRICS_PORT
    if not port:
        return
    try:
        metrics_server.serve(port)
    except OSError as exc:
        # Pages matter more than their metrics: serve them anyway, and say why there are none.
        server.log.error("metrics: cannot listen on port %d: %s", port, exc)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
