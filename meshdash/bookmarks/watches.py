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
