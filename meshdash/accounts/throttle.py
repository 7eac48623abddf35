"""Login throttling: too many recent failures for a user name or from one address block sign-in
for a while. Counted in the database so every web worker sees the same numbers."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from meshdash.accounts.models import LoginFailure


def _since():
    return timezone.now() - timedelta(seconds=settings.MESHDASH_LOGIN_THROTTLE_SECONDS)


def is_throttled(username: str, address: str) -> bool:
    recent = LoginFailure.objects.filter(at__gte=_since())
    return (
        recent.filter(username=username.lower()[:150]).count()
        >= settings.MESHDASH_LOGIN_FAILURES_PER_USER
        or recent.filter(address=address).count() >= settings.MESHDASH_LOGIN_FAILURES_PER_ADDRESS
    )


def record_failure(username: str, address: str) -> None:
    LoginFailure.objects.filter(at__lt=_since()).delete()
    LoginFailure.objects.create(username=username.lower()[:150], address=address)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()[:150]).delete()


def throttle_minutes() -> int:
    return max(1, -(-settings.MESHDASH_LOGIN_THROTTLE_SECONDS // 60))
