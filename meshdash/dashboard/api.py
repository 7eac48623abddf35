"""JSON API and CSV export: the same filters, sort and window as the pages (filters.py)."""

import csv
import dataclasses
import time
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.views import defaults

from meshdash.dashboard import bounded
from meshdash.dashboard.bounded import AUTHZ_COLUMNS, EDGE_COLUMNS
from meshdash.dashboard.filters import (
    BadQuery,
    parse_bounded_query,
    parse_list_params,
    parse_namespace_query,
    parse_pod_query,
    parse_service_query,
    parse_window,
)
from meshdash.dashboard.freshness import snapshot_staleness
from meshdash.dashboard.limits import TooManyViews, cold_view_gate
from meshdash.dashboard.ranges import baselines_json, workload_baselines
from meshdash.lib.records import as_dict, json_response
from meshdash.mesh.columns import CSV_FIELDS, POD_CSV_FIELDS, SERVICE_CSV_FIELDS
from meshdash.mesh.model import KINDS, Namespace
from meshdash.mesh.names import MAX_LABEL, is_namespace_name
from meshdash.mesh.query import MAX_PER_PAGE
from meshdash.store import SnapshotStore, StoreUnavailable

# Spreadsheets run cells starting with these as formulas, also after leading whitespace and line
# breaks; cluster text must stay text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


READ_METHODS = ("GET", "HEAD")


def error(reason: str, status: int) -> HttpResponse:
    return json_response({"error": reason}, status=status)


def method_not_allowed(allowed=READ_METHODS) -> HttpResponse:
    response = error(f"method not allowed: use {', '.join(allowed)}", 405)
    response["Allow"] = ", ".join(allowed)
    return response


def not_found(request, exception):
    """No URL matched: JSON under /api/ (clients parse every answer), the page elsewhere."""
    if request.path.startswith("/api/"):
        return error("no such API URL", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """A request Django refuses before any view (a Host header not in MESHDASH_ALLOWED_HOSTS,
    too many fields): JSON under /api/, like every other answer there."""
    if request.path.startswith("/api/"):
        return error("bad request", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if request.path.startswith("/api/"):
        return error("permission denied", 403)
    return defaults.permission_denied(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return error("internal error: the log has the details", 500)
    return defaults.server_error(request)


def api_view(view):
    """Errors as JSON ``{"error": reason}``, for the API and the CSV export alike.

    400 for bad input (checked first, whatever the window); 503 with ``Retry-After: 10`` while
    there is nothing to serve: Redis unavailable, or a valid window without a snapshot yet (the
    reason names the window: ``no snapshot for window 10m yet: the first collection is
    running``, see ``no_snapshot``). The pages answer that last case with a 200 page that says
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


def no_snapshot(window: str) -> HttpResponse:
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
    return as_dict(workload)


@api_view
def workloads(request):
    params = parse_list_params(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    store = SnapshotStore.from_settings()
    meta = store.meta(params.window)
    if meta is None:
        return no_snapshot(params.window)
    page = store.workload_page(
        params.window, params.query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    return page_json(page, params.window, meta, [workload_json(item) for item in page.items])


@api_view
def workload_detail(request, namespace, kind, name):
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    if kind not in KINDS:
        return error(f"unknown kind {kind[:40]!r}; choose one of: {', '.join(KINDS)}", 404)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return no_snapshot(window)
    detail = store.workload_detail(window, namespace, kind, name, version=meta.version)
    if detail is None:
        return error("no such workload in the current snapshot", 404)
    history = store.history(namespace, kind, name)
    return json_response(
        {
            "window": window,
            "workload": workload_json(detail.workload),
            "callers": [as_dict(edge) for edge in detail.callers],
            "callees": [as_dict(edge) for edge in detail.callees],
            "pods": [as_dict(pod) for pod in detail.pods],
            "routes": [as_dict(route) for route in detail.routes],
            "history": [as_dict(point) for point in history],
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
        return no_snapshot(window)
    page = store.namespace_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    return page_json(page, window, meta, [as_dict(ns) for ns in page.items])


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


def page_json(page, window: str, meta, items, **extra) -> HttpResponse:
    """One page of a list as every list endpoint answers it: the paging, the window, the
    items, ``extra`` fields, then the snapshot's freshness."""
    return json_response(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "window": window,
            "items": items,
            **extra,
            "snapshot": snapshot_json(meta),
        }
    )


def _csv_response(rows, fields, name: str, window: str):
    """A CSV download of ``rows`` (an iterable of objects), one column per field."""

    def lines():
        writer = csv.writer(_Echo())
        yield writer.writerow(fields)
        for item in rows:
            yield writer.writerow([_csv_cell(_field(item, f)) for f in fields])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{window}.csv"'
    return response


def _field(item, name: str):
    value = getattr(item, name)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return value


def _every_page(read, first):
    """The items of every page, the first one already read (one cold view for the export)."""
    page = first
    while True:
        yield from page.items
        if not page.has_next:
            return
        page = read(page.page + 1)


def _paged(request, parse, read_page):
    """(window, meta, query, read(number, on_cold)) of a paged list, or a 503 answer."""
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    query = parse(request.GET)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return None, no_snapshot(window)

    def read(number=None, on_cold=None, per_page=None):
        changed = query
        if number is not None:
            changed = dataclasses.replace(query, page=number, per_page=per_page or query.per_page)
        return read_page(store)(window, changed, version=meta.version, on_cold=on_cold)

    return (window, meta, query, read, store), None


def _list_json(parse, read_page):
    """The JSON API view of a paged list: one page of its items."""

    def view(request):
        found, answer = _paged(request, parse, read_page)
        if answer:
            return answer
        window, meta, _, read, store = found
        page = read(on_cold=cold_view_gate(request, store))
        return page_json(page, window, meta, [as_dict(i) for i in page.items])

    return view


def _list_csv(parse, read_page, fields, name):
    """The CSV export view of a paged list: every item it matches, in its order (all pages)."""

    def view(request):
        found, answer = _paged(request, parse, read_page)
        if answer:
            return answer
        window, _, _, read, store = found
        first = read(1, cold_view_gate(request, store), MAX_PER_PAGE)
        rows = _every_page(lambda n: read(n, None, MAX_PER_PAGE), first)
        return _csv_response(rows, fields, name, window)

    return view


pods = api_view(_list_json(parse_pod_query, lambda store: store.pod_page))
pods_csv = api_view(
    _list_csv(parse_pod_query, lambda store: store.pod_page, POD_CSV_FIELDS, "pods")
)
services = api_view(_list_json(parse_service_query, lambda store: store.service_page))
services_csv = api_view(
    _list_csv(parse_service_query, lambda store: store.service_page, SERVICE_CSV_FIELDS, "services")
)


@api_view
def service_detail(request, namespace, name):
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    if not is_namespace_name(namespace) or len(name) > MAX_LABEL:
        return error("no such service in the current snapshot", 404)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return no_snapshot(window)
    detail = store.service_detail(window, namespace, name, version=meta.version)
    if detail is None:
        return error("no such service in the current snapshot", 404)
    return json_response(
        {
            "window": window,
            "service": as_dict(detail.service),
            "workloads": [workload_json(w) for w in detail.workloads],
            "callers": [as_dict(edge) for edge in detail.callers],
            "routes": [as_dict(route) for route in detail.routes],
            "snapshot": snapshot_json(meta),
        }
    )


def _bounded(request, columns, default_sort, read):
    """(window, meta, every matching item, the page asked for) of a bounded list."""
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    query = parse_bounded_query(request.GET, columns, default_sort, descending=True)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return None
    items = read(store, window, meta.version, request)
    if items is None:
        return None
    return window, meta, bounded.matching(items, query), bounded.page_of(items, query)


def _mtls_edges(store, window, version, request):
    posture = store.mtls(window, version=version)
    if posture is None:
        return None
    chosen = request.GET.get("list", "")
    if chosen not in ("", "unmeshed"):
        raise BadQuery("list must be unmeshed or left out")
    unmeshed = chosen == "unmeshed"
    return posture.unmeshed_clients if unmeshed else posture.plaintext_edges


def _authz_rows(store, window, version, request):
    summary = store.authz(window, version=version)
    return None if summary is None else summary.by_policy


@api_view
def mtls(request):
    """Plain-text edges between meshed workloads (``list=unmeshed``: unmeshed clients of
    meshed servers), and every namespace's mTLS share."""
    found = _bounded(request, EDGE_COLUMNS, "rps", _mtls_edges)
    if found is None:
        return no_snapshot(parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW))
    window, meta, _, page = found
    store = SnapshotStore.from_settings()
    namespaces = store.namespaces(window, version=meta.version)
    return page_json(
        page,
        window,
        meta,
        [as_dict(e) for e in page.items],
        namespaces=[{"name": ns.name, "mtls_share": ns.mtls_share} for ns in namespaces],
    )


@api_view
def mtls_csv(request):
    found = _bounded(request, EDGE_COLUMNS, "rps", _mtls_edges)
    if found is None:
        return no_snapshot(parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW))
    window, _, rows, _ = found
    fields = bounded.csv_fields(EDGE_COLUMNS) + ("tls", "success_rate", "latency_ms_p99")
    fields = tuple(dict.fromkeys(fields))
    return _csv_response(rows, fields, "mtls", window)


@api_view
def authorization(request):
    """Authorization decisions per workload, Server and policy, most denied first, and the
    top denials mesh-wide."""
    found = _bounded(request, AUTHZ_COLUMNS, "denied", _authz_rows)
    if found is None:
        return no_snapshot(parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW))
    window, meta, _, page = found
    summary = SnapshotStore.from_settings().authz(window, version=meta.version)
    return page_json(
        page,
        window,
        meta,
        [as_dict(a) for a in page.items],
        top_denials=[as_dict(a) for a in summary.top_denials],
    )


@api_view
def authorization_csv(request):
    found = _bounded(request, AUTHZ_COLUMNS, "denied", _authz_rows)
    if found is None:
        return no_snapshot(parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW))
    window, _, rows, _ = found
    return _csv_response(rows, bounded.csv_fields(AUTHZ_COLUMNS), "authorization", window)


# The namespaces export writes every field of a rollup, health counts as "state=count".
NAMESPACE_CSV_FIELDS = tuple(f.name for f in dataclasses.fields(Namespace))


@api_view
def namespaces_csv(request):
    """Every namespace the namespaces list matches, in its order (all pages)."""
    found, answer = _paged(request, parse_namespace_query, lambda store: store.namespace_page)
    if answer:
        return answer
    window, _, _, read, store = found
    first = read(1, cold_view_gate(request, store), MAX_PER_PAGE)
    rows = _every_page(lambda n: read(n, None, MAX_PER_PAGE), first)
    return _csv_response(rows, NAMESPACE_CSV_FIELDS, "namespaces", window)


@api_view
def workloads_csv(request):
    """Every workload the list view matches, in its order (all pages, not just the current one)."""
    params = parse_list_params(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    store = SnapshotStore.from_settings()
    meta = store.meta(params.window)
    if meta is None:
        return no_snapshot(params.window)
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
