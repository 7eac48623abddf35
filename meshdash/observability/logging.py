"""Logs as one JSON object a line (``MESHDASH_LOG_FORMAT=json``), for log pipelines to parse.

Every record gives ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``; the fields a call passes in ``extra`` (a collection's window, status and
durations; a request's view, status and duration) come next under their own names, and an
exception's traceback under ``exception``. Nothing here decides what is safe to log: the
callers pass no secrets (see ``meshdash.observability.middleware``).
"""

import json
import logging
from datetime import UTC, datetime

# The attributes every LogRecord has: whatever else a record carries came in ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def connect_celery_signals() -> None:
    """Celery's worker and beat put handlers of their own on the root logger: give those the
    JSON format too when it is asked for."""
    from celery import signals

    signals.after_setup_logger.connect(_json_handlers, weak=False)
    signals.after_setup_task_logger.connect(_json_handlers, weak=False)


def _json_handlers(logger=None, **kwargs) -> None:
    from django.conf import settings

    if logger is None or settings.MESHDASH_LOG_FORMAT != "json":
        return
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
