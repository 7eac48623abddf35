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

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from meshdash.accounts.models import TeamProfile

GENERATION_KEY = "accounts:generation"
# The longest an entry is used without being built again, whatever the generation says.
ENTRY_SECONDS = 300


def per_user(name: str, user_id, build):
    """``build()``'s value for ``user_id``, from the cache when built at this generation."""
    key = f"accounts:{name}:{user_id}"
    found = cache.get_many([GENERATION_KEY, key])
    generation, entry = found.get(GENERATION_KEY), found.get(key)
    if generation is not None and entry is not None and entry[0] == generation:
        return entry[1]
    value = build()
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        generation = cache.get(GENERATION_KEY)
    if generation is not None:
        cache.set(key, (generation, value), ENTRY_SECONDS)
    return value


def changed() -> None:
    """Users, teams or bookmarks changed: every per-user entry is built again when next used
    (now, and again when the current transaction commits)."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def _on_change(**kwargs) -> None:
    changed()


def connect_signals() -> None:
    """Users (passwords, activity, staff), teams, memberships, team profiles and admins."""
    user_model = get_user_model()
    for model in (user_model, Group, TeamProfile):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"accounts-cache-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"accounts-cache-d-{model}")
    for through in (user_model.groups.through, TeamProfile.admins.through):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"accounts-cache-{through}")
