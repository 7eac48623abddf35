"""The bookmarks menu shown on every page: mine, my teams', everyone's, pinned first; with
what the "Save this view" form next to it needs (the user's teams, whether they may share with
everyone). Built from SQL once per user and change (meshdash.accounts.cache; the bookmarks'
changes are signalled by meshdash.bookmarks.menu_cache), so a page runs no query for it."""

from django.conf import settings

from meshdash.accounts.cache import per_user
from meshdash.bookmarks.models import EVERYONE, TEAM, Bookmark, may_share_with_everyone
from meshdash.dashboard.freezing import bookmark_target

MENU_LIMIT = 20
ITEM_FIELDS = ("id", "title", "note", "pinned", "as_of", "path", "query")


def menu(user) -> dict:
    """``sections`` (``menu_sections``), ``teams`` (the user's team names, by name) and
    ``may_share_with_everyone``."""
    # The settings that shape the menu are part of its key: an entry never outlives them.
    shape = "".join(
        "1" if flag else "0"
        for flag in (
            settings.MESHDASH_ANONYMOUS_READ,
            settings.MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE,
        )
    )
    who = user.pk if user.is_authenticated else "anonymous"
    return per_user(f"menu:{shape}", who, lambda: _menu(user))


def _menu(user) -> dict:
    return {
        "sections": menu_sections(user),
        "teams": (
            list(user.groups.order_by("name").values_list("name", flat=True))
            if user.is_authenticated
            else []
        ),
        "may_share_with_everyone": may_share_with_everyone(user),
    }


def menu_sections(user) -> list[dict]:
    """Each item a plain row, not a model instance (they are cached and pickled), with the
    ``target`` its page shows (``bookmark_target``; None when frozen), which every page checks
    against the current snapshot: resolved here once per change, not on every page."""
    visible = Bookmark.objects.visible_to(user).in_menu_order().values(*ITEM_FIELDS)
    if not user.is_authenticated:
        if not settings.MESHDASH_ANONYMOUS_READ:
            return []
        return [{"label": "Everyone's", "items": _items(visible)}]
    return [
        {"label": "Mine", "items": _items(visible.filter(owner=user))},
        {
            "label": "My teams'",
            "items": _items(visible.filter(visibility=TEAM).exclude(owner=user)),
        },
        {
            "label": "Everyone's",
            "items": _items(visible.filter(visibility=EVERYONE).exclude(owner=user)),
        },
    ]


def _items(rows) -> list[dict]:
    items = list(rows[:MENU_LIMIT])
    for item in items:
        item["target"] = None if item["as_of"] else bookmark_target(item["path"])
    return items
