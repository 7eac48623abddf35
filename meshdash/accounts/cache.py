"""What every page needs to know about who asks (the user, their teams' scope, their bookmarks
menu), from the cache instead of SQL on every request.

One generation marks the state of users, teams and bookmarks: every change to them through
the ORM's save or delete (signals: ``connect_signals`` here, bookmarks' own in
``meshdash.bookmarks.menu_cache``) replaces it, and a per-user entry built at another
generation is built again from SQL. Coarse (one change rebuilds every user's entries once,
when they next ask) but it cannot miss what an entry depends on: a team bookmark edited, a
member added, a password changed, an account deactivated. The generation is replaced again
when the transaction commits, so an entry built from what a request read before the commit
is not kept. A change that bypasses the signals (``QuerySet.update``) shows after ENTRY_SECONDS
at the latest.

The cache is Django's default one (``CACHES``: the cache Redis, which may evict; an evicted
entry or generation is only built again, and while that Redis is away every entry is built
from SQL as before).
"""

import secrets
import threading
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from meshdash.accounts.models import TeamProfile

GENERATION_KEY = "accounts:generation"
# The longest an entry is used without being built again, whatever the generation says.
ENTRY_SECONDS = 300

# During a request, each user's entries as read at its start: one cache read for them all
# (the user, their teams' scope, their menu...), not one each. Outside requests, no memory.
_request = threading.local()


def per_user(name: str, user_id, build):
    """``build()``'s value for ``user_id``, from the cache when built at this generation.

    A user's entries are kept together, under one key, with the generation and time each was
    built at."""
    key = user_key(user_id)
    generation, entries = _read(key)
    entry = entries.get(name)
    fresh = entry is not None and time.time() - entry[1] < ENTRY_SECONDS
    if generation is not None and fresh and entry[0] == generation:
        return entry[2]
    value = build()
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        generation = cache.get(GENERATION_KEY)
    if generation is not None:
        entries = {n: e for n, e in entries.items() if e[0] == generation}
        entries[name] = (generation, time.time(), value)
        cache.set(key, entries, ENTRY_SECONDS)
        memory = getattr(_request, "users", None)
        if memory is not None:
            memory[key] = (generation, entries)
    return value


def user_key(user_id) -> str:
    return f"accounts:user:{user_id}"


def keys_read_along(user_id) -> list[str]:
    """The cache keys of ``user_id``'s entries, for a read of the cache that comes first anyway
    (the session's, meshdash.accounts.sessions) to fetch in the same round trip; none outside
    requests or without a user id."""
    if user_id is None or getattr(_request, "users", None) is None:
        return []
    return [GENERATION_KEY, user_key(user_id)]


def read_along(found: dict, user_id) -> None:
    """Keeps what a read with ``keys_read_along(user_id)`` found for the rest of the request,
    as ``per_user`` would have read it."""
    memory = getattr(_request, "users", None)
    if user_id is None or memory is None:
        return
    key = user_key(user_id)
    if key not in memory:
        memory[key] = found.get(GENERATION_KEY), found.get(key) or {}


def _read(key: str) -> tuple[str | None, dict]:
    memory = getattr(_request, "users", None)
    if memory is not None and key in memory:
        return memory[key]
    found = cache.get_many([GENERATION_KEY, key])
    read = found.get(GENERATION_KEY), found.get(key) or {}
    if memory is not None:
        memory[key] = read
    return read


def _request_started(**kwargs) -> None:
    _request.users = {}


def _request_finished(**kwargs) -> None:
    _request.users = None


def changed() -> None:
    """Users, teams or bookmarks changed: every per-user entry is built again when next used
    (now, and again when the current transaction commits)."""
    if getattr(_request, "users", None):
        _request.users = {}
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def _on_change(**kwargs) -> None:
    changed()


def connect_signals() -> None:
    """Users (passwords, activity, staff), teams, memberships, team profiles and admins; and
    the requests' beginning and end, for their memory of entries."""
    request_started.connect(_request_started, dispatch_uid="accounts-cache-request-started")
    request_finished.connect(_request_finished, dispatch_uid="accounts-cache-request-finished")
    user_model = get_user_model()
    for model in (user_model, Group, TeamProfile):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"accounts-cache-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"accounts-cache-d-{model}")
    for through in (user_model.groups.through, TeamProfile.admins.through):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"accounts-cache-{through}")
