"""Bookmarks or watches changed: the per-user entries (the menu, meshdash.bookmarks.menu, and
the watched workloads among them) are built again. Saves and deletes are signalled; a change
made with ``QuerySet.update`` calls ``bookmarks_changed`` itself."""

from django.db.models.signals import post_delete, post_save

from meshdash.accounts.cache import changed
from meshdash.bookmarks.models import Bookmark, Watch


def bookmarks_changed(**kwargs) -> None:
    changed()


def connect_signals() -> None:
    for model in (Bookmark, Watch):
        post_save.connect(bookmarks_changed, sender=model, dispatch_uid=f"menu-saved-{model}")
        post_delete.connect(bookmarks_changed, sender=model, dispatch_uid=f"menu-deleted-{model}")
