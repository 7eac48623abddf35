"""The bookmarks menu shown on every page: mine, my teams', everyone's, pinned first."""

from django.conf import settings

from meshdash.bookmarks.models import EVERYONE, TEAM, Bookmark

MENU_LIMIT = 20


def menu_sections(user) -> list[dict]:
    # Plain rows, not model instances: this runs on every page.
    visible = (
        Bookmark.objects.visible_to(user)
        .in_menu_order()
        .values("id", "title", "note", "pinned", "as_of")
    )
    if not user.is_authenticated:
        if not settings.MESHDASH_ANONYMOUS_READ:
            return []
        return [{"label": "Everyone's", "items": list(visible[:MENU_LIMIT])}]
    return [
        {"label": "Mine", "items": list(visible.filter(owner=user)[:MENU_LIMIT])},
        {
            "label": "My teams'",
            "items": list(visible.filter(visibility=TEAM).exclude(owner=user)[:MENU_LIMIT]),
        },
        {
            "label": "Everyone's",
            "items": list(visible.filter(visibility=EVERYONE).exclude(owner=user)[:MENU_LIMIT]),
        },
    ]
