"""Pages of the dashboard. Each reads the snapshot store, never Prometheus or the cluster."""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from meshdash.accounts.teams import team_scope
from meshdash.bookmarks.models import Watch
from meshdash.dashboard import charts, paging
from meshdash.dashboard.control_plane import certificates, proxy_versions
from meshdash.dashboard.filters import (
    MAX_NAMESPACES,
    BadQuery,
    parse_list_params,
    parse_namespace,
    parse_namespace_query,
    parse_window,
)
from meshdash.dashboard.freshness import snapshot_staleness
from meshdash.dashboard.limits import TooManyViews, cold_view_gate
from meshdash.dashboard.next_steps import (
    fill_url_template,
    logs_command,
    resource,
    workload_commands,
    workload_promql,
)
from meshdash.dashboard.rows import workload_rows
from meshdash.dashboard.rules import health_rules
from meshdash.lib.htmx import render_page, wants_partial
from meshdash.mesh.health import HEALTH_STATES
from meshdash.mesh.model import KINDS, WINDOWS
from meshdash.store import SnapshotStore, StoreUnavailable

MAX_WATCHED = 30
NAMESPACE_PICKER_SIZE = 40


class NoSnapshot(Exception):
    """The collector has not written a snapshot for this window yet."""

    def __init__(self, window: str):
        super().__init__(window)
        self.window = window


def dashboard_page(view):
    """The pages' answers when there is no list to show.

    Bad input is a 400 page with the reason (checked first, whatever the window); a missing
    Redis a 503 page with ``Retry-After``. A valid window without a snapshot yet (the first
    collection of that window is running) is the 200 page ``dashboard/collecting.html``, which
    reloads itself, with ``HX-Refresh: true`` so that an htmx swap reloads the whole page. The
    JSON API and the CSV export answer the same case with a 503 instead (``api.api_view``).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadQuery as exc:
            return render(request, "dashboard/bad_request.html", {"reason": str(exc)}, status=400)
        except StoreUnavailable:
            response = render(request, "dashboard/unavailable.html", status=503)
            response["Retry-After"] = "10"
            return response
        except TooManyViews as exc:
            response = render(
                request,
                "dashboard/too_many.html",
                {
                    "retry_after": exc.retry_after,
                    "per_minute": settings.MESHDASH_COLD_VIEWS_PER_MINUTE,
                    "burst": settings.MESHDASH_COLD_VIEWS_BURST,
                },
                status=429,
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        except NoSnapshot as exc:
            context = _base_context(request, exc.window)
            response = render(request, "dashboard/collecting.html", context)
            # A table that polls into a missing snapshot reloads as the whole waiting page.
            response["HX-Refresh"] = "true"
            return response

    return wrapper


def _default_window() -> str:
    return settings.MESHDASH_DEFAULT_WINDOW


def _base_context(request, window: str | None = None) -> dict:
    return {
        "window": window or _default_window(),
        "windows": list(WINDOWS),
        "default_window": _default_window(),
        "refresh_seconds": settings.MESHDASH_REFRESH_SECONDS,
    }


def window_query(window: str) -> str:
    return "" if window == _default_window() else f"?window={window}"


def _read_meta(store, window: str):
    meta = store.meta(window)
    if meta is None:
        raise NoSnapshot(window)
    return meta


def _freshness(meta) -> dict:
    now = time.time()
    return {
        "meta": meta,
        "age_seconds": meta.age_seconds(now),
        "now": now,
        "staleness": snapshot_staleness(meta, now),
    }


def _workload_table(request, store, meta, query, pinned_namespace: str = "") -> dict:
    """Context for the shared workload table: one page, sparklines, links that keep the URL."""
    page = store.workload_page(
        meta.window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    histories = store.sparklines([item.key for item in page.items], charts.SPARK_POINTS)
    params = request.GET
    csv_changes = {"page": None, "per_page": None}
    if pinned_namespace:
        csv_changes["ns"] = pinned_namespace
    return {
        "csv_query": paging.query_url(params, **csv_changes),
        "query": query,
        "page": page,
        "rows": workload_rows(
            [(item, histories.get(item.key)) for item in page.items],
            window_query(meta.window),
        ),
        "columns": paging.column_headers(params, query),
        **_paging(params, page),
    }


def _paging(params, page) -> dict:
    """Context for the pager and per-page links under a list (templates/dashboard/_pager.html)."""
    return {
        "page": page,
        "page_links": paging.page_links(params, page),
        "per_page_links": paging.per_page_links(params, page),
        "previous_href": paging.query_url(params, page=page.page - 1),
        "next_href": paging.query_url(params, page=page.page + 1),
        "first_item": (page.page - 1) * page.per_page + 1,
        "last_item": min(page.total, page.page * page.per_page),
    }


def _team_links(user, window: str) -> list[tuple[str, str]]:
    """ "My team's workloads": the namespaces the user's teams own, and each team label."""
    namespaces, labels = team_scope(user)
    extra = [] if window == _default_window() else [("window", window)]
    links = []
    if namespaces:
        pairs = [("ns", name) for name in sorted(namespaces)[:MAX_NAMESPACES]]
        links.append(("My teams' namespaces", "?" + urlencode(pairs + extra)))
    links += [
        (f"Team {label}", "?" + urlencode([("team", label), *extra])) for label in sorted(labels)
    ]
    return links


def _watched(user, store, meta) -> list[tuple[tuple[str, str, str], object]]:
    """Workloads the user or their teams watch, as (namespace, kind, name) and the current
    Workload (None when the snapshot no longer has it)."""
    watches = Watch.objects.visible_to(user).order_by("namespace", "kind", "name")
    found = {}
    for watch in watches[:MAX_WATCHED]:
        key = (watch.namespace, watch.kind, watch.name)
        if key not in found:
            found[key] = store.workload(meta.window, *key, version=meta.version)
    return list(found.items())


def _list_context(
    request, store, params, extra: dict | None = None, pinned_namespace: str = "", meta=None
) -> dict:
    meta = meta or _read_meta(store, params.window)
    context = _base_context(request, params.window)
    context.update(_freshness(meta))
    context.update(_workload_table(request, store, meta, params.query, pinned_namespace))
    context.update(extra or {})
    if wants_partial(request):  # the filter form is outside the swapped table
        return context
    selected = set(params.query.namespaces)
    names = store.namespace_names(params.window, version=meta.version)
    # The picker stays small on a mesh of hundreds of namespaces: the selected ones, then the
    # first few by name; any other is typed into its text field.
    offered = sorted(selected) + [name for name in names if name not in selected]
    context.update(
        {
            "namespace_names": offered[:NAMESPACE_PICKER_SIZE],
            "namespaces_not_offered": max(0, len(offered) - NAMESPACE_PICKER_SIZE),
            "kinds": KINDS,
            "health_states": HEALTH_STATES,
            "selected_namespaces": selected,
            "team_links": _team_links(request.user, params.window),
        }
    )
    return context


@dashboard_page
def overview(request):
    params = parse_list_params(request.GET, _default_window())
    store = SnapshotStore.from_settings()
    context = _list_context(request, store, params, {"list_url": request.path})
    if wants_partial(request):
        return render_page(request, "dashboard/overview.html", context, "table")
    overview_ = store.overview(params.window, version=context["meta"].version)
    if overview_ is None:
        raise NoSnapshot(params.window)
    control_plane = overview_.control_plane
    # Every list here is bounded when the store writes it: the page costs the same at any size.
    extra_window = [] if params.window == _default_window() else [("window", params.window)]
    context.update(
        {
            "overview": overview_,
            "watched": _watched(request.user, store, context["meta"]),
            "certificates": certificates(control_plane, context["now"]),
            "proxy_versions": proxy_versions(control_plane),
            "skewed_proxies": sum(v.proxies for v in proxy_versions(control_plane) if v.skewed),
            "injection_failures_query": urlencode(
                [("ns", ns) for ns in overview_.injection_failure_namespaces]
                + [("meshed", "no")]
                + extra_window
            ),
            "namespaces_query": urlencode(extra_window),
            "more_bad_inject": overview_.bad_inject_count - len(overview_.bad_inject_namespaces),
        }
    )
    return render_page(request, "dashboard/overview.html", context, "table")


@dashboard_page
def workload_list(request):
    params = parse_list_params(request.GET, _default_window())
    store = SnapshotStore.from_settings()
    context = _list_context(request, store, params, {"list_url": request.path})
    return render_page(request, "dashboard/workloads.html", context, "table")


@dashboard_page
def namespace_list(request):
    window = parse_window(request.GET, _default_window())
    query = parse_namespace_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = _read_meta(store, window)
    page = store.namespace_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    context = _base_context(request, window)
    context.update(_freshness(meta))
    context.update(_paging(request.GET, page))
    context.update(
        {
            "query": query,
            "namespaces": page.items,
            "columns": paging.column_headers(request.GET, query, paging.NAMESPACE_COLUMNS),
            "list_url": request.path,
        }
    )
    return render_page(request, "dashboard/namespaces.html", context, "table")


@dashboard_page
def namespace_detail(request, namespace):
    try:
        namespace = parse_namespace(namespace)
    except BadQuery as exc:
        raise Http404("no such namespace") from exc
    params = parse_list_params(request.GET, _default_window(), namespaces=(namespace,))
    store = SnapshotStore.from_settings()
    meta = _read_meta(store, params.window)
    rollup = store.namespace(params.window, namespace, version=meta.version)
    if rollup is None:
        raise Http404("no such namespace")
    context = _list_context(
        request,
        store,
        params,
        {
            "namespace": namespace,
            "rollup": rollup,
            "list_url": request.path,
        },
        pinned_namespace=namespace,
        meta=meta,
    )
    return render_page(request, "dashboard/namespace.html", context, "table")


@dashboard_page
def workload_detail(request, namespace, kind, name):
    window = parse_window(request.GET, _default_window())
    if kind not in KINDS or len(name) > 253 or len(namespace) > 63:
        raise Http404("no such workload")
    store = SnapshotStore.from_settings()
    meta = _read_meta(store, window)
    detail = store.workload_detail(window, namespace, kind, name, version=meta.version)
    if detail is None:
        raise Http404("no such workload")
    workload = detail.workload
    history = store.history(namespace, kind, name)
    rules = health_rules()
    first_pod = detail.pods[0].name if detail.pods else ""
    context = _base_context(request, window)
    context.update(_freshness(meta))
    context.update(
        {
            "detail": detail,
            "workload": workload,
            "resource": resource(kind, name),
            "charts": [
                charts.hour_chart(
                    history, "success_rate", "Success rate", "%", zero_based=False, ceiling=1.0
                ),
                charts.hour_chart(history, "rps", "Requests per second", "rps"),
                charts.hour_chart(history, "latency_ms_p99", "P99 latency", "ms"),
            ],
            "graph": charts.neighbourhood(workload, detail.callers, detail.callees, rules),
            "commands": workload_commands(namespace, kind, name, first_pod),
            "pods": [(pod, logs_command(namespace, pod.name)) for pod in detail.pods],
            "grafana_url": fill_url_template(
                settings.MESHDASH_GRAFANA_URL_TEMPLATE, namespace=namespace, kind=kind, name=name
            ),
            "prometheus_url": fill_url_template(
                settings.MESHDASH_PROMETHEUS_URL_TEMPLATE,
                namespace=namespace,
                kind=kind,
                name=name,
                query=workload_promql(namespace, kind, name, window),
            ),
        }
    )
    return render_page(request, "dashboard/workload.html", context, "detail")
