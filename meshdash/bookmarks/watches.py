from meshdash.bookmarks.models import Watch


def watched_workloads(user) -> list[tuple[str, str, str]]:
    """(namespace, kind, name) watched by the user or one of their teams, for the overview."""
    rows = Watch.objects.visible_to(user).values_list("namespace", "kind", "name")
    return sorted(set(rows))
