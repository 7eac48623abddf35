"""What the web process needs to serve pages: the snapshot store (Redis) and the database.
Prometheus and the Kubernetes API are the workers' concern: pages never wait on them."""

import logging

import redis
from django.db import DatabaseError, connections

from meshdash.store import SnapshotStore, StoreUnavailable

log = logging.getLogger(__name__)


def check_redis() -> str:
    """ "" when the snapshot store answers, otherwise why not (no addresses: probes are public)."""
    try:
        SnapshotStore.from_settings().ping()
    except (StoreUnavailable, redis.RedisError) as exc:
        log.warning("readiness: Redis: %s", exc)
        return "the snapshot store (Redis) does not answer"
    return ""


def check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("readiness: database: %s", exc)
        return "the database does not answer"
    return ""


CHECKS = {"redis": check_redis, "database": check_database}


def readiness() -> dict[str, str]:
    """Each check's failure reason, "" for the ones that pass; all of them always run."""
    return {name: check() for name, check in CHECKS.items()}
