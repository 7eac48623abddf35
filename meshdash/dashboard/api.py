"""JSON API and CSV export: the same filters, sort and window as the pages (filters.py)."""

import csv
import dataclasses
import time
from functools import wraps

from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from django.views.defaults import page_not_found

from meshdash.dashboard.filters import (
    BadQuery,
    parse_list_params,
    parse_namespace_query,
    parse_window,
)
from meshdash.dashboard.freshness import snapshot_staleness
from meshdash.dashboard.limits import TooManyViews, cold_view_gate
from meshdash.dashboard.ranges import baselines_json, workload_baselines
from meshdash.mesh.columns import CSV_FIELDS
from meshdash.mesh.model import KINDS
from meshdash.mesh.query import MAX_PER_PAGE
from meshdash.store import SnapshotStore, StoreUnavailable

# Spreadsheets run cells starting with these as formulas, also after leading whitespace and line
# breaks; cluster text must stay text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


READ_METHODS = ("GET", "HEAD")


def error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def method_not_allowed(allowed=READ_METHODS) -> JsonResponse:
    response = error(f"method not allowed: use {', '.join(allowed)}", 405)
    response["Allow"] = ", ".join(allowed)
    return response


def not_found(request, exception):
    """No URL matched: JSON under /api/ (clients parse every answer), the page elsewhere."""
    if request.path.startswith("/api/"):
        return error("no such API URL", 404)
    return page_not_found(request, exception)


def api_view(view):
    """Errors as JSON ``{"error": reason}``, for the API and the CSV export alike.

    400 for bad input (checked first, whatever the window); 503 with ``Retry-After: 10`` while
    there is nothing to serve: Redis unavailable, or a valid window without a snapshot yet (the
    reason names the window: ``no snapshot for window 10m yet: the first collection is
    running``, see ``_no_snapshot``). The pages answer that last case with a 200 page that says
    the first collection is running (``views.dashboard_page``). Only reads: 405 otherwise.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in READ_METHODS:
            return method_not_allowed()
        try:
            return view(request, *args, **kwargs)
        except BadQuery as exc:
            return error(str(exc), 400)
        except TooManyViews as exc:
            response = error(str(exc), 429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except StoreUnavailable:
            response = error("the snapshot store (Redis) is unavailable", 503)
            response["Retry-After"] = "10"
            return response

    return wrapper


def _no_snapshot(window: str) -> JsonResponse:
    response = error(f"no snapshot for window {window} yet: the first collection is running", 503)
    response["Retry-After"] = "10"
    return response


def snapshot_json(meta) -> dict:
    """The snapshot an answer was read from: ``stale`` when its last collection failed, it is
    too old (``reason`` says which) or parts of it are missing (``errors``)."""
    now = time.time()
    staleness = snapshot_staleness(meta, now)
    return {
        "taken_at": meta.taken_at,
        "age_seconds": round(meta.age_seconds(now), 3),
        "collect_seconds": meta.collect_seconds,
        "stale": staleness.stale or bool(meta.errors),
        "reason": staleness.reason,
        "errors": dict(meta.errors or {}),
        "failure_reason": meta.failure_reason or "",
    }


def workload_json(workload) -> dict:
    return dataclasses.asdict(workload)


@api_view
def workloads(request):
    params = parse_list_params(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    store = SnapshotStore.from_settings()
    meta = store.meta(params.window)
    if meta is None:
        return _no_snapshot(params.window)
    page = store.workload_page(
        params.window, params.query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    return JsonResponse(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "window": params.window,
            "items": [workload_json(item) for item in page.items],
            "snapshot": snapshot_json(meta),
        }
    )


@api_view
def workload_detail(request, namespace, kind, name):
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    if kind not in KINDS:
        return error(f"unknown kind {kind[:40]!r}; choose one of: {', '.join(KINDS)}", 404)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return _no_snapshot(window)
    detail = store.workload_detail(window, namespace, kind, name, version=meta.version)
    if detail is None:
        return error("no such workload in the current snapshot", 404)
    history = store.history(namespace, kind, name)
    return JsonResponse(
        {
            "window": window,
            "workload": workload_json(detail.workload),
            "callers": [dataclasses.asdict(edge) for edge in detail.callers],
            "callees": [dataclasses.asdict(edge) for edge in detail.callees],
            "pods": [dataclasses.asdict(pod) for pod in detail.pods],
            "routes": [dataclasses.asdict(route) for route in detail.routes],
            "history": [dataclasses.asdict(point) for point in history],
            "baselines": baselines_json(workload_baselines(detail.workload.key, window)),
            "snapshot": snapshot_json(meta),
        }
    )


@api_view
def namespaces(request):
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    query = parse_namespace_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return _no_snapshot(window)
    page = store.namespace_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    return JsonResponse(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "window": window,
            "items": [dataclasses.asdict(ns) for ns in page.items],
            "snapshot": snapshot_json(meta),
        }
    )


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and (
        value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)
    ):
        return "'" + value
    return value


@api_view
def workloads_csv(request):
    """Every workload the list view matches, in its order (all pages, not just the current one)."""
    params = parse_list_params(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    store = SnapshotStore.from_settings()
    meta = store.meta(params.window)
    if meta is None:
        return _no_snapshot(params.window)
    batch = MAX_PER_PAGE

    def read(number: int, on_cold=None):
        # Every batch from the same snapshot version, even if a new one lands meanwhile.
        query = dataclasses.replace(params.query, page=number, per_page=batch)
        return store.workload_page(params.window, query, version=meta.version, on_cold=on_cold)

    # One export counts as one new view, though its later batches may recompute it.
    first = read(1, cold_view_gate(request, store))

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow(CSV_FIELDS)
        page = first
        while True:
            for item in page.items:
                yield writer.writerow([_csv_cell(getattr(item, f)) for f in CSV_FIELDS])
            if not page.has_next:
                return
            page = read(page.page + 1)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="workloads-{params.window}.csv"'
    return response
