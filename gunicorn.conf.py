"""gunicorn's configuration for meshdash, read from the working directory by default.

It adds /metrics on MESHDASH_METRICS_PORT, served by the master from what the workers record
(meshdash.observability.gunicorn). The command line sets the rest (bind, workers, logs).
"""

from meshdash.observability.gunicorn import child_exit, prepare_multiprocess_dir, when_ready

prepare_multiprocess_dir()

__all__ = ["child_exit", "when_ready"]
