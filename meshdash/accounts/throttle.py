"""Login throttling, counted in the database so every web worker sees the same numbers.

Failures count in three scopes: a user name from one client address, one address for any name,
and a user name from any address. A scope whose count reaches its limit is locked for
MESHDASH_LOGIN_BACKOFF_SECONDS after its latest failure, twice as long after each further
failure, at most MESHDASH_LOGIN_THROTTLE_SECONDS; failures older than that are forgotten. The
ceiling for a user name from any address is higher than the limit of one address, so nobody can
lock a chosen user out from one address: only that (user, address) pair is locked."""

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from meshdash.accounts.models import LoginFailure
from meshdash.accounts.usernames import MAX_USERNAME, canonical_username


def _name(username: str) -> str:
    return canonical_username(username)[:MAX_USERNAME]


def _period() -> timedelta:
    return timedelta(seconds=settings.MESHDASH_LOGIN_THROTTLE_SECONDS)


def _seconds_left(count: int, latest, limit: int, now) -> int:
    if count < limit:
        return 0
    # Exponent capped: past a few doublings the period is the bound anyway.
    backoff = min(
        settings.MESHDASH_LOGIN_THROTTLE_SECONDS,
        settings.MESHDASH_LOGIN_BACKOFF_SECONDS * 2 ** min(count - limit, 32),
    )
    return max(0, math.ceil((latest + timedelta(seconds=backoff) - now).total_seconds()))


def seconds_locked(username: str, address: str) -> int:
    """Seconds until sign-in as ``username`` from ``address`` may be tried again; 0: now."""
    now = timezone.now()
    recent = LoginFailure.objects.filter(at__gte=now - _period())
    name = _name(username)
    scopes = [
        (recent.filter(username=name, address=address), settings.MESHDASH_LOGIN_FAILURES_PER_USER),
        (recent.filter(address=address), settings.MESHDASH_LOGIN_FAILURES_PER_ADDRESS),
        (recent.filter(username=name), settings.MESHDASH_LOGIN_FAILURES_PER_USER_ANY_ADDRESS),
    ]
    waits = []
    for failures, limit in scopes:
        found = failures.aggregate(count=Count("id"), latest=Max("at"))
        waits.append(_seconds_left(found["count"], found["latest"], limit, now))
    return max(waits)


def record_failure(username: str, address: str) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - _period()).delete()
    LoginFailure.objects.create(username=_name(username), address=address)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=_name(username)).delete()
