"""Creating, changing and ordering bookmarks: the rules the pages and the API share."""

from django.db import transaction
from django.db.models import Max

from meshdash.bookmarks.freeze import freeze
from meshdash.bookmarks.menu_cache import bookmarks_changed
from meshdash.bookmarks.models import Bookmark
from meshdash.bookmarks.quotas import check_bookmark_quota, lock_owner


@transaction.atomic
def create_bookmark(owner, cleaned: dict) -> Bookmark:
    """A bookmark from a valid BookmarkForm's cleaned data; frozen ones copy the data shown now.

    QuotaExceeded when the owner keeps as many bookmarks (or frozen views) as allowed.
    """
    lock_owner(owner)
    check_bookmark_quota(owner, freezing=bool(cleaned.get("freeze")))
    path, query = cleaned["url"]
    last = Bookmark.objects.filter(owner=owner).aggregate(last=Max("position"))["last"]
    bookmark = Bookmark.objects.create(
        owner=owner,
        title=cleaned["title"],
        note=cleaned.get("note", ""),
        path=path,
        query=query,
        visibility=cleaned["visibility"],
        team=cleaned["team_obj"],
        pinned=cleaned.get("pinned", False),
        position=(last or 0) + 1,
    )
    if cleaned.get("freeze"):
        freeze(bookmark)
    return bookmark


def update_bookmark(bookmark: Bookmark, cleaned: dict) -> Bookmark:
    """Apply a valid BookmarkForm; a frozen bookmark keeps its URL and its data."""
    bookmark.title = cleaned["title"]
    bookmark.note = cleaned.get("note", "")
    bookmark.visibility = cleaned["visibility"]
    bookmark.team = cleaned["team_obj"]
    bookmark.pinned = cleaned.get("pinned", False)
    if not bookmark.is_frozen:
        bookmark.path, bookmark.query = cleaned["url"]
    bookmark.save()
    return bookmark


def form_data(bookmark: Bookmark) -> dict:
    """A bookmark as BookmarkForm data, so a partial change can be validated as a whole."""
    return {
        "title": bookmark.title,
        "url": bookmark.url,
        "note": bookmark.note,
        "visibility": bookmark.visibility,
        "team": bookmark.team.name if bookmark.team else "",
        "pinned": bookmark.pinned,
    }


@transaction.atomic
def move_bookmark(bookmark: Bookmark, step: int) -> None:
    """Swap a bookmark with its neighbour in its owner's menu order (step -1 up, +1 down)."""
    mine = list(Bookmark.objects.filter(owner=bookmark.owner).in_menu_order().select_for_update())
    index = next(i for i, b in enumerate(mine) if b.pk == bookmark.pk)
    other = index + step
    if not 0 <= other < len(mine) or mine[other].pinned != bookmark.pinned:
        return
    mine[index], mine[other] = mine[other], mine[index]
    for position, item in enumerate(mine, start=1):
        if item.position != position:
            Bookmark.objects.filter(pk=item.pk).update(position=position)
    bookmarks_changed()
