from meshdash.accounts.cache import per_user
from meshdash.bookmarks.models import Watch


def watched_workloads(user) -> list[tuple[str, str, str]]:
    """(namespace, kind, name) watched by the user or one of their teams, for the overview;
    cached per user and change (meshdash.accounts.cache, meshdash.bookmarks.menu_cache)."""
    if not user.is_authenticated:
        return []
    return per_user("watched", user.pk, lambda: _watched(user))


def _watched(user) -> list[tuple[str, str, str]]:
    rows = Watch.objects.visible_to(user).values_list("namespace", "kind", "name")
    return sorted(set(rows))


def own_watch(user, namespace: str, kind: str, name: str) -> int | None:
    """The id of the user's own watch of the workload, None when they have none; from their
    own watches cached per user and change, as ``watched_workloads`` (a workload's page runs
    no query for its watch button). Bounded by the watch quota."""
    if not user.is_authenticated:
        return None
    own = per_user("own-watches", user.pk, lambda: _own(user))
    return own.get(f"{namespace}/{kind}/{name}")


def _own(user) -> dict[str, int]:
    rows = Watch.objects.filter(user=user).values_list("pk", "namespace", "kind", "name")
    return {f"{namespace}/{kind}/{name}": pk for pk, namespace, kind, name in rows}
