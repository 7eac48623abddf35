"""Heartbeats that tell a live worker or beat from a dead or hung one, and the probes' checks.

A dead process is easy to see; a hung one keeps its process id. So each heartbeat is written by
the very loop that would hang:

- the worker's main loop, on each of Celery's event heartbeats (``heartbeat_sent``, every 2 s,
  from the timer of the event loop that takes tasks off the broker): a blocked loop or a lost
  broker connection stops it;
- each task while it runs, as an entry in the worker's running tasks (``task_prerun`` and
  ``task_postrun``, in the pool process that runs it): the main loop keeps beating while a
  collection hangs in a pool process, so a task past its time is a failure of its own;
- beat's scheduler loop, on each tick (``meshdash.observability.beat``).

They are kept in the snapshot store's Redis: a worker that cannot reach it cannot work either,
and the probe then fails saying so. Running tasks are judged by process id, so the probe runs in
the worker's own container (a Kubernetes exec probe).
"""

import logging
import os
import socket
import time
from dataclasses import dataclass

import redis
from django.conf import settings

log = logging.getLogger(__name__)

# A heartbeat is written at most this often: Celery beats every 2 s, beat may tick more often.
WRITE_EVERY_SECONDS = 5.0
# A heartbeat's key outlives its writer by this long, then goes.
KEY_TTL_SECONDS = 86400

_clients: dict[str, redis.Redis] = {}
_written_at: dict[str, float] = {}
_failing: set[str] = set()


def redis_client(url: str | None = None) -> redis.Redis:
    """The snapshot store's Redis (or the one at ``url``), with timeouts short enough for a
    probe and an event loop."""
    url = url or settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client = _clients.setdefault(url, client)
    return client


def key(*parts: str) -> str:
    return ":".join((settings.MESHDASH_REDIS_PREFIX, "obs", *parts))


def default_node() -> str:
    """Celery's default node name in this container (a pod's host name is the pod's name)."""
    return f"celery@{socket.gethostname()}"


def worker_name(node: str) -> str:
    return f"worker:{node}"


BEAT = "beat"


def write(name: str, *, now: float | None = None, force: bool = False) -> None:
    """Refresh the heartbeat ``name``; a Redis error is logged (once until it recovers)."""
    now = time.time() if now is None else now
    if not force and now - _written_at.get(name, 0.0) < WRITE_EVERY_SECONDS:
        return
    try:
        redis_client().set(key("heartbeat", name), repr(now), ex=KEY_TTL_SECONDS)
    except redis.RedisError as exc:
        if name not in _failing:
            log.warning("heartbeat %s not written: %s", name, exc)
            _failing.add(name)
        return
    _failing.discard(name)
    _written_at[name] = now


def task_started(node: str, task_id: str, task_name: str, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    _safely("hset", key("running", node), f"{os.getpid()}:{task_id}", f"{now!r} {task_name}")


def task_finished(node: str, task_id: str) -> None:
    _safely("hdel", key("running", node), f"{os.getpid()}:{task_id}")


def _safely(command: str, *args) -> None:
    try:
        getattr(redis_client(), command)(*args)
    except redis.RedisError as exc:
        log.warning("running tasks not updated: %s", exc)


# --- Celery's signals.


def connect_worker_signals() -> None:
    from celery import signals

    signals.heartbeat_sent.connect(_on_heartbeat_sent, weak=False)
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.task_prerun.connect(_on_task_prerun, weak=False)
    signals.task_postrun.connect(_on_task_postrun, weak=False)


def _on_heartbeat_sent(sender=None, **kwargs) -> None:
    write(worker_name(sender.eventer.hostname))


def _on_worker_ready(sender=None, **kwargs) -> None:
    # The running tasks a previous life of this node left (the container restarted) are gone.
    _safely("delete", key("running", sender.hostname))
    write(worker_name(sender.hostname), force=True)


def _on_task_prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    node = getattr(task.request, "hostname", None)
    if node and task_id:
        task_started(node, task_id, task.name)


def _on_task_postrun(sender=None, task_id=None, task=None, **kwargs) -> None:
    node = getattr(task.request, "hostname", None)
    if node and task_id:
        task_finished(node, task_id)


# --- The checks the probes run.


@dataclass
class Verdict:
    alive: bool
    message: str


def _unreachable(exc: Exception) -> Verdict:
    where = settings.REDIS_URL.rsplit("@", 1)[-1]  # no password in the message
    return Verdict(False, f"cannot read the heartbeat: Redis at {where} does not answer ({exc})")


def _age(name: str, now: float) -> float | None:
    raw = redis_client().get(key("heartbeat", name))
    return None if raw is None else max(0.0, now - float(raw))


def check_worker(
    node: str, max_age: float, max_task_seconds: float, *, now: float | None = None
) -> Verdict:
    """Alive when none of the node's tasks that still have a process has run longer than
    ``max_task_seconds`` and its main loop beat within ``max_age`` seconds, or is running one
    of them (Celery's solo pool runs tasks in the main loop, which then cannot beat)."""
    now = time.time() if now is None else now
    try:
        age = _age(worker_name(node), now)
        running = redis_client().hgetall(key("running", node))
    except redis.RedisError as exc:
        return _unreachable(exc)
    if age is None:
        return Verdict(
            False,
            f"worker {node}: no heartbeat (not started yet, another node name: see --node, "
            "or run with --without-heartbeat)",
        )
    busy = None  # a task within its time: with the solo pool it holds the main loop
    for field, value in running.items():
        pid, task_id = field.decode().split(":", 1)
        started, _, task_name = value.decode().partition(" ")
        ran = now - float(started)
        if not _process_exists(int(pid)):
            # Its process died before task_postrun: Celery has failed the task already.
            _safely("hdel", key("running", node), field)
            continue
        if ran > max_task_seconds:
            return Verdict(
                False,
                f"worker {node}: task {task_name} [{task_id}] has run {ran:.0f} s in process "
                f"{pid}, more than {max_task_seconds:g} s: it is hung",
            )
        busy = f"{task_name} for {ran:.0f} s"
    if age > max_age and busy is None:
        return Verdict(
            False,
            f"worker {node}: last heartbeat {age:.0f} s ago, more than {max_age:g} s: its main "
            "loop is hung or it lost the broker",
        )
    if age > max_age:
        return Verdict(True, f"worker {node}: alive, busy with {busy}")
    return Verdict(True, f"worker {node}: alive, last heartbeat {age:.0f} s ago")


def check_beat(max_age: float, *, now: float | None = None) -> Verdict:
    now = time.time() if now is None else now
    try:
        age = _age(BEAT, now)
    except redis.RedisError as exc:
        return _unreachable(exc)
    if age is None:
        return Verdict(
            False,
            "beat: no heartbeat (not started yet, or its scheduler is not "
            "meshdash.observability.beat:HeartbeatScheduler)",
        )
    if age > max_age:
        return Verdict(
            False, f"beat: last tick {age:.0f} s ago, more than {max_age:g} s: its loop is hung"
        )
    return Verdict(True, f"beat: alive, last tick {age:.0f} s ago")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
