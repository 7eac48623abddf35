"""What a dashboard URL shows, as plain JSON-ready data: the dashboard's interface for anything
that keeps a copy of a view (frozen bookmarks). Reads the current snapshot of the URL's window
and, for a workload page, the history of its charts' time range (``frozen_history`` draws those
charts again from the copy).
"""

import dataclasses
import time
from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings
from django.http import QueryDict
from django.urls import Resolver404, resolve

from meshdash.dashboard.filters import (
    BadQuery,
    check_page_query,
    parse_time_range,
    parse_window,
    parse_workload_query,
)
from meshdash.dashboard.ranges import FrozenHistory as FrozenHistory
from meshdash.dashboard.ranges import frozen_history as frozen_history
from meshdash.dashboard.ranges import frozen_history_json
from meshdash.mesh.model import WorkloadKey
from meshdash.store import SnapshotStore, StoreUnavailable


class NothingToShow(ValueError):
    """``str()`` says why: no snapshot yet, the workload is gone, or the URL is wrong."""


class NotAView(NothingToShow):
    """The URL itself is the problem (no page of ours, a bad filter or window), whatever the
    snapshot."""


@dataclass(frozen=True)
class ViewData:
    kind: str  # "workload" (one workload's detail) or "workloads" (a page of the list)
    data: dict  # JSON-ready
    window: str
    taken_at: float  # unix seconds: when the snapshot shown was taken
    # A workload page's charts: the time range copied (unix seconds), under data["history"].
    start: int | None = None
    end: int | None = None


def plain(value):
    """Dataclasses, lists and dicts as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


# The pages whose data a frozen copy keeps: a workload's, and the workload lists'.
FREEZABLE = frozenset(
    {
        "overview",
        "workload_list",
        "namespace_list",
        "namespace_detail",
        "workload_detail",
        "pod_history",
    }
)


def view_for_url(path: str, query: str) -> ViewData:
    """The data the page at ``path`` (percent-encoded, as in a URL) with the query string
    ``query`` shows now.

    A workload page gives the workload's detail and the history of its charts' range
    (``?range=`` ending now, or ``?from=&to=``); every other page the workload list its
    filters select (the overview and namespace list: the default list, worst health first).
    """
    try:
        match = resolve(unquote(path))
        if match.url_name not in FREEZABLE:
            raise NotAView("only workload lists and workload pages can be frozen")
        kwargs = match.kwargs
        params = QueryDict(query)
        window = parse_window(params, settings.MESHDASH_DEFAULT_WINDOW)
    except Resolver404:
        raise NotAView("the URL is not a meshdash page") from None
    except BadQuery as exc:
        raise NotAView(str(exc)) from None
    store = SnapshotStore.from_settings()
    span = {}
    try:
        meta = store.meta(window)
        if meta is None:
            raise NothingToShow(f"no snapshot of the {window} window yet")
        if {"namespace", "kind", "name"} <= kwargs.keys():
            detail = store.workload_detail(
                window, kwargs["namespace"], kwargs["kind"], kwargs["name"], version=meta.version
            )
            if detail is None:
                raise NothingToShow("this workload is not in the current snapshot")
            kind, data = "workload", plain(detail)
            time_range = parse_time_range(params, time.time())
            data["history"] = frozen_history_json(detail.workload.key, time_range, window)
            span = {"start": time_range.start, "end": time_range.end}
        else:
            namespaces = (kwargs["namespace"],) if "namespace" in kwargs else ()
            page = store.workload_page(
                window, parse_workload_query(params, namespaces=namespaces), version=meta.version
            )
            kind = "workloads"
            data = {
                "items": plain(page.items),
                "total": page.total,
                "page": page.page,
                "pages": page.pages,
            }
    except StoreUnavailable:
        raise NothingToShow("the snapshot store cannot be reached") from None
    except BadQuery as exc:
        raise NotAView(str(exc)) from None
    return ViewData(kind=kind, data=data, window=window, taken_at=meta.taken_at, **span)


def check_url(path: str, query: str) -> None:
    """Raise NotAView, with the page's own reason, when the page at ``path`` (percent-encoded)
    would refuse the query string ``query`` (``?sort=bogus``). Whether what it names still
    exists is not checked: that changes with every snapshot (``gone_targets``)."""
    try:
        match = resolve(unquote(path))
        check_page_query(match.url_name, QueryDict(query))
    except Resolver404:
        raise NotAView("the URL is not a meshdash page") from None
    except BadQuery as exc:
        raise NotAView(str(exc)) from None


def bookmark_target(path: str) -> tuple | None:
    """What the page at ``path`` (percent-encoded) shows that a snapshot can lose: a workload
    ``("workload", namespace, kind, name)`` or a namespace ``("namespace", namespace)``; None
    for any other page (a list, a search), which is never gone."""
    try:
        kwargs = resolve(unquote(path)).kwargs
    except Resolver404:
        return None
    if {"namespace", "kind", "name"} <= kwargs.keys():
        return ("workload", kwargs["namespace"], kwargs["kind"], kwargs["name"])
    if set(kwargs) == {"namespace"}:
        return ("namespace", kwargs["namespace"])
    return None


def gone_targets(targets) -> set[tuple]:
    """Those of ``targets`` (``bookmark_target``'s) the current snapshot of the default window
    no longer has: one read of the store for whether the workloads exist, the namespaces from
    the version's names, whatever their number. Nothing is gone while there is no snapshot or
    no store: a page that cannot tell does not say so."""
    targets = set(targets)
    workloads = {t: WorkloadKey(*t[1:]) for t in targets if t[0] == "workload"}
    namespaces = {t for t in targets if t[0] == "namespace"}
    if not workloads and not namespaces:
        return set()
    window = settings.MESHDASH_DEFAULT_WINDOW
    store = SnapshotStore.from_settings()
    try:
        meta = store.meta(window)
        if meta is None:
            return set()
        gone = set()
        if workloads:
            found = store.existing_workloads(window, list(workloads.values()), version=meta.version)
            gone.update(t for t, key in workloads.items() if key not in found)
        if namespaces:
            names = set(store.namespace_names(window, version=meta.version))
            gone.update(t for t in namespaces if t[1] not in names)
        return gone
    except StoreUnavailable:
        return set()


def gone_paths(paths) -> set[str]:
    """Those of ``paths`` (percent-encoded) whose workload or namespace the current snapshot
    of the default window no longer has (``gone_targets``)."""
    targets = {path: bookmark_target(path) for path in paths}
    gone = gone_targets(target for target in targets.values() if target)
    return {path for path, target in targets.items() if target in gone}
