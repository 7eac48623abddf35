"""Incident links: a frozen bookmark keeps a copy of the data its view showed when it was saved,
so everybody opening it later sees the same numbers. A workload page's copy keeps its charts'
time range too (``?range=7d`` as the week up to the freeze, or ``?from=&to=``): the points of
the workload and its pods over that range, which the history will let go of long before the
copy expires. Copies expire after MESHDASH_FROZEN_RETENTION_DAYS."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from meshdash.bookmarks.models import Bookmark, FrozenView
from meshdash.dashboard.freezing import NotAView, NothingToShow, view_for_url


class NothingToFreeze(ValueError):
    """``str()`` says why: no snapshot yet, the workload is gone, or the URL is wrong."""


class UnfreezableUrl(NothingToFreeze):
    """The URL itself is the problem (no page of ours, a bad filter or window): a bad request,
    whatever the snapshot."""


def freeze(bookmark: Bookmark) -> FrozenView:
    """Copy what the bookmark's view shows from the current snapshot of its window and, for a
    workload page, the history of its charts' range (what the dashboard's ``view_for_url``
    says the page shows)."""
    try:
        # As the URL check resolved it: the stored path keeps its percent-encoding.
        view = view_for_url(bookmark.path, bookmark.query)
    except NotAView as exc:
        raise UnfreezableUrl(str(exc)) from None
    except NothingToShow as exc:
        raise NothingToFreeze(str(exc)) from None
    bookmark.as_of = _moment(view.taken_at)
    bookmark.window = view.window
    bookmark.range_start, bookmark.range_end = _moment(view.start), _moment(view.end)
    bookmark.save(update_fields=["as_of", "window", "range_start", "range_end", "updated"])
    return FrozenView.objects.create(bookmark=bookmark, kind=view.kind, data=view.data)


def _moment(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, tz=UTC)


def delete_expired_frozen_views(now=None) -> int:
    """Drop copies older than the retention period; their bookmarks stay, marked as expired."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MESHDASH_FROZEN_RETENTION_DAYS)
    deleted, _ = FrozenView.objects.filter(created__lt=cutoff).delete()
    return deleted
