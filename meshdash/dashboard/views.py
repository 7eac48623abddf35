"""Pages of the dashboard. Each reads the snapshot store, never Prometheus or the cluster."""

import time
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from meshdash.accounts.teams import team_scope
from meshdash.dashboard import attention, bounded, charts, paging
from meshdash.dashboard.bounded import AUTHZ_COLUMNS, EDGE_COLUMNS
from meshdash.dashboard.control_plane import leaf_certificate, proxy_versions
from meshdash.dashboard.filters import (
    BadQuery,
    parse_bounded_query,
    parse_list_params,
    parse_namespace,
    parse_namespace_query,
    parse_pod_query,
    parse_service_query,
    parse_time_range,
    parse_window,
    window_params,
)
from meshdash.dashboard.freshness import snapshot_staleness
from meshdash.dashboard.legend import health_legend
from meshdash.dashboard.limits import TooManyViews, cold_view_gate
from meshdash.dashboard.next_steps import (
    fill_url_template,
    logs_command,
    resource,
    workload_commands,
    workload_promql,
)
from meshdash.dashboard.ranges import (
    baseline_rows,
    pod_charts,
    pod_series,
    range_context,
    workload_baselines,
    workload_charts,
    workload_series,
)
from meshdash.dashboard.rows import (
    authz_rows,
    edge_rows,
    leaf_cell,
    namespace_rows,
    pod_rows,
    service_rows,
    workload_rows,
)
from meshdash.lib.htmx import render_page, wants_partial
from meshdash.lib.templatetags.meshdash import with_query
from meshdash.mesh.columns import NAMESPACE_COLUMNS, POD_COLUMNS, SERVICE_COLUMNS
from meshdash.mesh.health import HEALTH_STATES
from meshdash.mesh.model import KINDS, WINDOWS
from meshdash.mesh.names import MAX_LABEL, MAX_SUBDOMAIN, is_namespace_name, is_object_name
from meshdash.mesh.pods import POD_PROBLEMS
from meshdash.mesh.query import DEFAULT_PER_PAGE, MAX_NAMESPACES, SORT_KEYS
from meshdash.store import SnapshotStore, StoreUnavailable

NAMESPACE_PICKER_SIZE = 40
# The workload page lists this many of the events the snapshot keeps for it, newest first.
MAX_EVENTS_SHOWN = 30


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
            # A table that polls into a missing snapshot reloads as the whole waiting page.
            response = HttpResponseClientRefresh()
            context = base_context(request, exc.window)
            response.write(render_to_string("dashboard/collecting.html", context, request))
            return response

    return wrapper


def default_window() -> str:
    return settings.MESHDASH_DEFAULT_WINDOW


def base_context(request, window: str | None = None) -> dict:
    window = window or default_window()
    # What every link on the page carries, so that moving around keeps the window.
    kept = window_params(window, default_window())
    return {
        "window": window,
        "windows": list(WINDOWS),
        "default_window": default_window(),
        "window_params": kept,
        "window_query": with_query("", kept),  # the same, for the rows built in Python
        "default_per_page": DEFAULT_PER_PAGE,
        "refresh_seconds": settings.MESHDASH_REFRESH_SECONDS,
    }


def read_meta(store, window: str):
    meta = store.meta(window)
    if meta is None:
        raise NoSnapshot(window)
    return meta


def page_freshness(meta) -> dict:
    now = time.time()
    return {
        "meta": meta,
        "health_legend": health_legend(getattr(meta, "health_rules", None)),
        "age_seconds": meta.age_seconds(now),
        "now": now,
        "staleness": snapshot_staleness(meta, now),
    }


def _workload_table(request, store, meta, query, window_query: str) -> dict:
    """Context for the shared workload table: one page, with sparklines."""
    page = store.workload_page(
        meta.window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    keys = [item.key for item in page.items]
    histories = store.sparklines(keys, charts.SPARK_POINTS)
    return {
        "query": query,
        "rows": workload_rows(
            [(item, histories.get(key)) for item, key in zip(page.items, keys, strict=True)],
            window_query,
        ),
        "columns": paging.column_headers(query),
        **paging.pager(page),
    }


def team_links(user) -> list[dict]:
    """ "My team's workloads": the namespaces the user's teams own, and each team label."""
    namespaces, labels = team_scope(user)
    links = []
    if namespaces:
        links.append(
            {
                "label": "My teams' namespaces",
                "namespaces": sorted(namespaces)[:MAX_NAMESPACES],
                "team": None,
            }
        )
    links += [
        {"label": f"Team {label}", "namespaces": None, "team": label} for label in sorted(labels)
    ]
    return links


def _list_context(request, store, params, extra: dict | None = None, meta=None) -> dict:
    meta = meta or read_meta(store, params.window)
    context = base_context(request, params.window)
    context.update(page_freshness(meta))
    context.update(_workload_table(request, store, meta, params.query, context["window_query"]))
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
            "team_links": team_links(request.user),
            "landing": _landing_query(request.COOKIES.get(LANDING_COOKIE, "")),
            # The page's own query, already parsed: its scope needs no check again.
            "scope_query": _scope(request.GET).urlencode(),
        }
    )
    return context


@dashboard_page
def overview(request):
    if not request.GET and not wants_partial(request):
        landing = _landing_query(request.COOKIES.get(LANDING_COOKIE, ""))
        if landing:  # the URL stays the state: the landing view is a URL like any other
            return HttpResponseRedirect(f"{request.path}?{landing}")
    params = parse_list_params(request.GET, default_window())
    store = SnapshotStore.from_settings()
    context = _list_context(request, store, params, {"list_url": request.path})
    overview_ = store.overview(params.window, version=context["meta"].version)
    if overview_ is None:
        raise NoSnapshot(params.window)
    # What needs attention is the checks' findings, stored with the snapshot: one read.
    findings = attention.read_findings(store, params.window, context["meta"].version)
    window_params = context["window_params"]
    # Every list here is bounded when the store writes it: the page costs the same at any size.
    context.update(
        {
            "overview": overview_,
            "namespace_columns": paging.column_headers(None, NAMESPACE_COLUMNS),
            "namespace_rows": namespace_rows(overview_.namespaces, context["window_query"]),
            "findings_ran": findings.ran,
            "attention": attention.attention_panel(findings, window_params),
            "control_plane_findings": attention.control_plane_panel(findings, window_params),
            "data_plane_versions": sorted(
                overview_.control_plane.data_plane_versions.items(),
                key=lambda item: (-item[1], item[0]),
            ),
            # A swap of the table (auto-refresh, sort, filter) brings every panel along with
            # it, out of band: one request, one snapshot version for the whole page.
            "oob": wants_partial(request),
        }
    )
    return render_page(request, "dashboard/overview.html", context, "table")


@dashboard_page
def workload_list(request):
    params = parse_list_params(request.GET, default_window())
    store = SnapshotStore.from_settings()
    context = _list_context(request, store, params, {"list_url": request.path})
    return render_page(request, "dashboard/workloads.html", context, "table")


@dashboard_page
def namespace_list(request):
    window = parse_window(request.GET, default_window())
    query = parse_namespace_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    page = store.namespace_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    context = base_context(request, window)
    context.update(page_freshness(meta))
    context.update(paging.pager(page))
    empty = "No namespaces match." if query.search else "No namespaces in this snapshot."
    context.update(
        {
            "query": query,
            "rows": namespace_rows(page.items, context["window_query"], empty),
            "columns": paging.column_headers(query, NAMESPACE_COLUMNS),
            "list_url": request.path,
            "csv_url": reverse("namespaces_csv"),
        }
    )
    return render_page(request, "dashboard/namespaces.html", context, "table")


@dashboard_page
def namespace_detail(request, namespace):
    try:
        namespace = parse_namespace(namespace)
    except BadQuery as exc:
        raise Http404("no such namespace") from exc
    params = parse_list_params(request.GET, default_window(), namespaces=(namespace,))
    store = SnapshotStore.from_settings()
    meta = read_meta(store, params.window)
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
        meta=meta,
    )
    return render_page(request, "dashboard/namespace.html", context, "table")


@dashboard_page
def workload_detail(request, namespace, kind, name):
    window = parse_window(request.GET, default_window())
    time_range = parse_time_range(request.GET, time.time())
    if kind not in KINDS or len(name) > MAX_SUBDOMAIN or len(namespace) > MAX_LABEL:
        raise Http404("no such workload")
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    detail = store.workload_detail(window, namespace, kind, name, version=meta.version)
    if detail is None:
        raise Http404("no such workload")
    workload = detail.workload
    series = workload_series(workload.key, time_range, window)
    first_pod = detail.pods[0].name if detail.pods else ""
    context = base_context(request, window)
    context.update(page_freshness(meta))
    findings = attention.read_findings(store, window, meta.version)
    context.update(
        {
            "detail": detail,
            "workload": workload,
            "findings_ran": findings.ran,
            "workload_findings": attention.workload_panel(
                findings,
                namespace,
                kind,
                name,
                (pod.name for pod in detail.pods),
                context["window_params"],
            ),
            "resource": resource(kind, name),
            **range_context(time_range, context["window_params"]),
            "series": series,
            "charts": workload_charts(series),
            "baselines": baseline_rows(workload_baselines(workload.key, window)),
            "graph": charts.neighbourhood(workload, detail.callers, detail.callees),
            "commands": workload_commands(namespace, kind, name, first_pod),
            "pods": [
                (
                    pod,
                    logs_command(namespace, pod.name),
                    leaf_cell(
                        leaf_certificate(
                            pod.proxy_cert_expiry, pod.proxy_cert_refreshed_at, context["now"]
                        )
                    ),
                )
                for pod in detail.pods
            ],
            "events": detail.events[:MAX_EVENTS_SHOWN],
            "authorizations": detail.authorizations,
            "traces_url": fill_url_template(
                settings.MESHDASH_TRACES_URL_TEMPLATE, namespace=namespace, kind=kind, name=name
            ),
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


@dashboard_page
def pod_history(request, namespace, kind, name, pod):
    """One pod's proxy charts over the page's time range: the workload page loads them into
    the pod's row when it is opened."""
    window = parse_window(request.GET, default_window())
    time_range = parse_time_range(request.GET, time.time())
    names_valid = is_namespace_name(namespace) and is_object_name(name) and is_object_name(pod)
    if kind not in KINDS or not names_valid:
        raise Http404("no such pod")
    series = pod_series(namespace, pod, time_range)
    context = base_context(request, window)
    context.update(range_context(time_range, context["window_params"]))
    context.update(
        {
            "namespace": namespace,
            "kind": kind,
            "name": name,
            "pod": pod,
            "series": series,
            "charts": pod_charts(series),
        }
    )
    return render_page(request, "dashboard/pod_history.html", context, "charts")


def _page_context(request, window: str, meta, page, query, columns, rows, **extra) -> dict:
    """What every list page shows around its rows."""
    context = base_context(request, window)
    context.update(page_freshness(meta))
    context.update(paging.pager(page))
    context.update(
        {
            "query": query,
            "rows": rows,
            "columns": paging.column_headers(query, columns),
            "list_url": request.path,
            **extra,
        }
    )
    return context


@dashboard_page
def pod_list(request):
    window = parse_window(request.GET, default_window())
    query = parse_pod_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    page = store.pod_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    context = _page_context(
        request, window, meta, page, query, POD_COLUMNS, None, problems=POD_PROBLEMS
    )
    context["rows"] = pod_rows(page.items, context["now"], context["window_query"])
    context["csv_url"] = reverse("pods_csv")
    if not wants_partial(request):  # the filter form offers the versions the proxies run
        control_plane = store.control_plane(window, version=meta.version)
        context["proxy_versions"] = proxy_versions(control_plane) if control_plane else []
    return render_page(request, "dashboard/pods.html", context, "table")


@dashboard_page
def service_list(request):
    window = parse_window(request.GET, default_window())
    query = parse_service_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    page = store.service_page(
        window, query, version=meta.version, on_cold=cold_view_gate(request, store)
    )
    context = _page_context(
        request, window, meta, page, query, SERVICE_COLUMNS, None, health_states=HEALTH_STATES
    )
    context["rows"] = service_rows(page.items, context["window_query"])
    context["csv_url"] = reverse("services_csv")
    return render_page(request, "dashboard/services.html", context, "table")


@dashboard_page
def service_detail(request, namespace, name):
    window = parse_window(request.GET, default_window())
    if not is_namespace_name(namespace) or len(name) > MAX_LABEL:
        raise Http404("no such service")
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    detail = store.service_detail(window, namespace, name, version=meta.version)
    if detail is None:
        raise Http404("no such service")
    context = base_context(request, window)
    context.update(page_freshness(meta))
    context.update(
        {
            "detail": detail,
            "service": detail.service,
            "workload_rows": workload_rows(
                [(w, None) for w in detail.workloads], context["window_query"]
            ),
            "workload_columns": paging.column_headers(None),
        }
    )
    return render_page(request, "dashboard/service.html", context, "detail")


def _bounded_list(request, window, meta, items, query, columns, rows, **extra) -> dict:
    """A page of a list the snapshot keeps whole and bounded (mTLS edges, authorizations)."""
    page = bounded.page_of(items, query)
    context = _page_context(request, window, meta, page, query, columns, None, **extra)
    context["rows"] = rows(page.items, context["window_query"])
    return context


@dashboard_page
def mtls(request):
    window = parse_window(request.GET, default_window())
    query = parse_bounded_query(request.GET, EDGE_COLUMNS, "rps", descending=True)
    side = "unmeshed" if request.GET.get("list") == "unmeshed" else "plaintext"
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    posture = store.mtls(window, version=meta.version)
    if posture is None:
        raise NoSnapshot(window)
    edges = posture.unmeshed_clients if side == "unmeshed" else posture.plaintext_edges
    context = _bounded_list(
        request, window, meta, edges, query, EDGE_COLUMNS, edge_rows, posture=posture, side=side
    )
    context["namespaces"] = sorted(
        posture.namespaces,
        key=lambda ns: (ns.mtls_share is None, ns.mtls_share or 0.0, ns.name),
    )
    context["csv_url"] = reverse("mtls_csv")
    context["workloads_sort_by_mtls"] = "mtls" in SORT_KEYS
    return render_page(request, "dashboard/mtls.html", context, "table")


@dashboard_page
def authorization(request):
    window = parse_window(request.GET, default_window())
    query = parse_bounded_query(request.GET, AUTHZ_COLUMNS, "denied", descending=True)
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    summary = store.authz(window, version=meta.version)
    if summary is None:
        raise NoSnapshot(window)
    context = _bounded_list(
        request,
        window,
        meta,
        summary.by_policy,
        query,
        AUTHZ_COLUMNS,
        authz_rows,
        summary=summary,
    )
    context["top_denials"] = authz_rows(summary.top_denials[:10], context["window_query"])
    context["authz_columns"] = paging.column_headers(None, AUTHZ_COLUMNS)
    context["csv_url"] = reverse("authorization_csv")
    return render_page(request, "dashboard/authorization.html", context, "table")


# The landing view is a cookie, not a database row: a display preference of one browser, with
# no weight for security, that costs no query on any page (and no migration). Its value is a
# scope's query string, checked as the overview checks its URL whenever it is used.
LANDING_COOKIE = "meshdash_landing"
LANDING_PARAMS = ("ns", "team", "label")
LANDING_MAX_AGE = 400 * 86400  # the longest browsers keep a cookie


def _scope(params: QueryDict) -> QueryDict:
    scope = params.copy()
    for key in list(scope):
        if key not in LANDING_PARAMS:
            del scope[key]
    return scope


def _landing_query(raw: str) -> str:
    """The scope part of ``raw`` as a query string, "" unless the overview would accept it."""
    if not raw:
        return ""
    params = _scope(QueryDict(raw))
    try:
        parse_list_params(params, default_window())
    except BadQuery:
        return ""
    return params.urlencode()


@require_POST
def set_landing(request):
    """Make a team scope (or none: ``clear``) the overview's landing view, then go there."""
    scope = "" if "clear" in request.POST else _landing_query(request.POST.get("scope", ""))
    response = HttpResponseRedirect(with_query(reverse("overview"), QueryDict(scope)))
    if scope:
        response.set_cookie(
            LANDING_COOKIE,
            scope,
            max_age=LANDING_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure(),
        )
    else:
        response.delete_cookie(LANDING_COOKIE, samesite="Lax")
    return response
