"""The most one user (or team) may keep: bookmarks, frozen views and watches, each bounded by a
setting, so nobody can make everyone's bookmarks page or the database grow without end."""

from django.conf import settings
from django.contrib.auth import get_user_model

from meshdash.bookmarks.models import Bookmark, FrozenView, Watch


class QuotaExceeded(ValueError):
    """``str()`` is the message shown to the user."""


def lock_owner(user) -> None:
    """Serialise one user's creations inside the current transaction, so two requests at once
    cannot both pass the count below the quota."""
    list(get_user_model()._default_manager.select_for_update().filter(pk=user.pk).values("pk"))


def check_bookmark_quota(owner, *, freezing: bool) -> None:
    limit = settings.MESHDASH_BOOKMARKS_PER_USER
    count = Bookmark.objects.filter(owner=owner).count()
    if count >= limit:
        raise QuotaExceeded(
            f"You have {count} bookmarks, the most one may keep: delete some first."
        )
    if freezing:
        limit = settings.MESHDASH_FROZEN_VIEWS_PER_USER
        frozen = FrozenView.objects.filter(bookmark__owner=owner).count()
        if frozen >= limit:
            raise QuotaExceeded(
                f"You have {frozen} frozen views, the most one may keep: delete some, or save "
                "a live bookmark instead."
            )


def check_watch_quota(*, user=None, team=None) -> None:
    """Watches of a user, or of a team (a team's watches count apart from its members')."""
    limit = settings.MESHDASH_WATCHES_PER_USER
    if team is not None:
        count = Watch.objects.filter(team=team).count()
        who = f"Team {team.name} has"
    else:
        count = Watch.objects.filter(user=user).count()
        who = "You have"
    if count >= limit:
        raise QuotaExceeded(
            f"{who} {count} watched workloads, the most one may keep: stop watching some first."
        )
