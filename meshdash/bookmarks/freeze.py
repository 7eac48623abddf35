"""Incident links: a frozen bookmark keeps a copy of the data its view showed when it was saved,
so everybody opening it later sees the same numbers. Copies expire after
MESHDASH_FROZEN_RETENTION_DAYS."""

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from django.conf import settings
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from meshdash.bookmarks.models import Bookmark, FrozenView
from meshdash.dashboard.filters import BadQuery, parse_window, parse_workload_query
from meshdash.store import SnapshotStore, StoreUnavailable


class NothingToFreeze(ValueError):
    """``str()`` says why: no snapshot yet, the workload is gone, or the URL is wrong."""


class UnfreezableUrl(NothingToFreeze):
    """The URL itself is the problem (no page of ours, a bad filter or window): a bad request,
    whatever the snapshot."""


def plain(value):
    """Dataclasses, lists and dicts as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def freeze(bookmark: Bookmark) -> FrozenView:
    """Copy what the bookmark's view shows from the current snapshot of its window.

    A workload page keeps the workload's detail; every other page keeps the workload list its
    filters select (the overview and namespace list: the default list, worst health first).
    """
    try:
        # As the URL check resolved it: the stored path keeps its percent-encoding.
        kwargs = resolve(unquote(bookmark.path)).kwargs
        params = QueryDict(bookmark.query)
        window = parse_window(params, settings.MESHDASH_DEFAULT_WINDOW)
    except Resolver404:
        raise UnfreezableUrl("the URL is not a meshdash page") from None
    except BadQuery as exc:
        raise UnfreezableUrl(str(exc)) from None
    store = SnapshotStore.from_settings()
    try:
        meta = store.meta(window)
        if meta is None:
            raise NothingToFreeze(f"no snapshot of the {window} window yet")
        if {"namespace", "kind", "name"} <= kwargs.keys():
            detail = store.workload_detail(
                window, kwargs["namespace"], kwargs["kind"], kwargs["name"], version=meta.version
            )
            if detail is None:
                raise NothingToFreeze("this workload is not in the current snapshot")
            kind, data = "workload", plain(detail)
        else:
            namespaces = (kwargs["namespace"],) if "namespace" in kwargs else ()
            query = parse_workload_query(params, namespaces=namespaces)
            page = store.workload_page(window, query, version=meta.version)
            kind = "workloads"
            data = {
                "items": plain(page.items),
                "total": page.total,
                "page": page.page,
                "pages": page.pages,
            }
    except StoreUnavailable:
        raise NothingToFreeze("the snapshot store cannot be reached") from None
    except BadQuery as exc:
        raise UnfreezableUrl(str(exc)) from None
    bookmark.as_of = datetime.fromtimestamp(meta.taken_at, tz=UTC)
    bookmark.window = window
    bookmark.save(update_fields=["as_of", "window", "updated"])
    return FrozenView.objects.create(bookmark=bookmark, kind=kind, data=data)


def delete_expired_frozen_views(now=None) -> int:
    """Drop copies older than the retention period; their bookmarks stay, marked as expired."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MESHDASH_FROZEN_RETENTION_DAYS)
    deleted, _ = FrozenView.objects.filter(created__lt=cutoff).delete()
    return deleted
