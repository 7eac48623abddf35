"""Creating and removing mutes, for the triage page and the admin alike: who may (permissions),
what is valid (Mute.clean) and how many may exist (MESHDASH_MAX_MUTES)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from meshdash.triage.models import Mute
from meshdash.triage.permissions import AdminScope, admin_scope


class MuteRefused(ValueError):
    """``str()`` is the message shown to the user; ``status`` the HTTP status that says it:
    403 not allowed, 400 not valid, 409 in conflict with what exists (a duplicate, the bound)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def workload_team(namespace: str, kind: str, name: str, window: str | None = None) -> str:
    """The workload's team label in the window's current snapshot; "" when unknown (no such
    workload, no snapshot, or the store unavailable: then only the namespace can decide)."""
    from meshdash.store import SnapshotStore, StoreUnavailable

    if not (namespace and kind and name):
        return ""
    try:
        store = SnapshotStore.from_settings()
        workload = store.workload(window or settings.MESHDASH_DEFAULT_WINDOW, namespace, kind, name)
    except StoreUnavailable:
        return ""
    return workload.team if workload is not None else ""


def refusal(scope: AdminScope, namespace: str, kind: str = "", name: str = "") -> str:
    """Why ``scope`` may not mute (or unmute) there; "" when it may."""
    return scope.refusal(
        namespace, kind, name, team_of=lambda: workload_team(namespace, kind, name)
    )


def delete_expired(now=None) -> int:
    """Remove the mutes past their expiry (they mute nothing any more); how many."""
    deleted, _ = Mute.objects.filter(expires__lte=now or timezone.now()).delete()
    return deleted


def check_quota() -> None:
    """Refuse a new mute once MESHDASH_MAX_MUTES exist (expired ones are removed first)."""
    delete_expired()
    count = Mute.objects.count()
    if count >= settings.MESHDASH_MAX_MUTES:
        raise MuteRefused(
            f"{count} mutes exist, the most meshdash keeps (MESHDASH_MAX_MUTES): "
            "remove some first.",
            409,
        )


def create_mute(
    user,
    *,
    check: str,
    namespace: str,
    kind: str = "",
    name: str = "",
    why: str,
    expires_in: dt.timedelta | None = None,
    scope: AdminScope | None = None,
) -> Mute:
    """A new mute by ``user``, or MuteRefused saying why not."""
    scope = scope or admin_scope(user)
    reason = refusal(scope, namespace, kind, name)
    if reason:
        raise MuteRefused(reason, 403)
    now = timezone.now()
    mute = Mute(
        check_id=check,
        namespace=namespace,
        kind=kind,
        name=name,
        who=user,
        who_name=user.get_username()[:150],
        why=why.strip(),
        created=now,
        expires=now + expires_in if expires_in else None,
    )
    try:
        mute.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise MuteRefused(" ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            check_quota()
            mute.save()
    except IntegrityError:
        raise MuteRefused(f"{mute}: already muted", 409) from None
    return mute


def remove_mute(user, mute_id: int, *, scope: AdminScope | None = None) -> Mute:
    """Unmute: the same rule as muting decides who may."""
    mute = Mute.objects.filter(pk=mute_id).first()
    if mute is None:
        raise MuteRefused("no such mute (it may have been removed or expired)", 404)
    reason = refusal(scope or admin_scope(user), mute.namespace, mute.kind, mute.name)
    if reason:
        raise MuteRefused(reason, 403)
    mute.delete()
    return mute
