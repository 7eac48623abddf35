"""The dashboard's part of the API's OpenAPI description (assembled in meshdash/openapi.py):
the workload and namespace lists, a workload, and the mesh dataclasses they serialise.

Built from the code's own definitions: the filters' choices and bounds (filters.py, mesh/query.py,
mesh/columns.py, mesh/names.py) and the mesh dataclasses. So a new sort key, kind or field shows
up here by itself.
"""

from django.conf import settings
from django.urls import reverse

from meshdash.dashboard import filters
from meshdash.dashboard.bounded import AUTHZ_COLUMNS, EDGE_COLUMNS
from meshdash.lib.openapi import (
    anchored,
    dataclass_schema,
    error_response,
    json_response,
    ref,
    unauthorized_response,
)
from meshdash.mesh.columns import NAMESPACE_SORT_KEYS, POD_SORT_KEYS, SERVICE_SORT_KEYS
from meshdash.mesh.health import HEALTH_STATES
from meshdash.mesh.model import (
    KINDS,
    WINDOWS,
    Authorization,
    Edge,
    Event,
    HistoryPoint,
    Namespace,
    Pod,
    Route,
    Service,
    Workload,
)
from meshdash.mesh.names import DNS1123_LABEL, MAX_LABEL
from meshdash.mesh.pods import POD_PROBLEMS
from meshdash.mesh.query import (
    DEFAULT_PER_PAGE,
    DEFAULT_POD_SORT,
    DEFAULT_SERVICE_SORT,
    DEFAULT_SORT,
    LABEL_FILTER_PATTERN,
    MAX_LABELS,
    MAX_NAMESPACES,
    MAX_PAGE,
    MAX_PER_PAGE,
    SORT_KEYS,
)
from meshdash.store.namespaces import DEFAULT_NAMESPACE_SORT

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def common_responses() -> dict:
    return {
        "400": error_response(
            "Bad input: an unknown value, a parameter given twice, a value out of bounds, or text "
            "no Kubernetes name can hold. The reason is in `error`."
        ),
        "401": unauthorized_response(),
        "503": error_response(
            "Nothing to serve yet: the snapshot store (Redis) is unavailable, or the window has "
            "no snapshot yet because its first collection is running. Retry after the delay.",
            RETRY_AFTER,
        ),
    }


# The parser takes an empty value as one not given: the default, or no filter.
EMPTY = {"const": ""}


def too_many_views_response() -> dict:
    return error_response(
        "The caller opened new filtered views (ones not cached) faster than "
        "MESHDASH_COLD_VIEWS_PER_MINUTE a minute, past a burst of MESHDASH_COLD_VIEWS_BURST. "
        "Retry after the delay.",
        RETRY_AFTER,
    )


def _enum(name: str, values, default: str | None, description: str) -> dict:
    schema = {"type": "string", "enum": [*values, ""]}
    if default is not None:
        schema["default"] = default
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _number(name: str, maximum: int, default: int, description: str) -> dict:
    number = {"type": "integer", "minimum": 1, "maximum": maximum}
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"anyOf": [number, EMPTY], "default": default},
    }


def _page_parameters() -> list[dict]:
    return [
        _number("page", MAX_PAGE, 1, "Page number; one past the last gives the last page."),
        _number("per_page", MAX_PER_PAGE, DEFAULT_PER_PAGE, "Items per page."),
    ]


def _search_parameter(what: str) -> dict:
    # The parser lowercases the search before matching it against SEARCH_RE.
    pattern = filters.SEARCH_RE.pattern.replace("a-z", "A-Za-z")
    return {
        "name": "q",
        "in": "query",
        "description": f"Case-insensitive part of the {what} name.",
        "schema": {
            "type": "string",
            "maxLength": filters.MAX_VALUE_LENGTH,
            "pattern": anchored(pattern),
        },
    }


def window_parameter() -> dict:
    return _enum(
        "window",
        WINDOWS,
        settings.MESHDASH_DEFAULT_WINDOW,
        "The time window the metrics are computed over.",
    )


def _direction_parameter() -> dict:
    return _enum("dir", filters.DIRECTIONS, "asc", "Sort direction; empty values sort last.")


def _namespaces_parameter() -> dict:
    return {
        "name": "ns",
        "in": "query",
        "description": "Only these namespaces (repeat the parameter for several).",
        "style": "form",
        "explode": True,
        "schema": {
            "type": "array",
            "items": {"anyOf": [namespace_name_schema(), EMPTY]},
            "maxItems": MAX_NAMESPACES,
        },
    }


def _label_parameter(what: str) -> dict:
    return {
        "name": "label",
        "in": "query",
        "description": f"Only {what} with this label, as key=value (repeat for several: all "
        "must match), e.g. team=payments.",
        "style": "form",
        "explode": True,
        "schema": {
            "type": "array",
            "items": {
                "anyOf": [
                    {
                        "type": "string",
                        "maxLength": filters.MAX_LABEL_FILTER,
                        "pattern": anchored(LABEL_FILTER_PATTERN),
                    },
                    EMPTY,
                ]
            },
            "maxItems": MAX_LABELS,
        },
    }


def _text_parameter(name: str, pattern: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {
            "type": "string",
            "maxLength": filters.MAX_VALUE_LENGTH,
            "pattern": anchored(pattern),
        },
    }


def pod_list_parameters() -> list[dict]:
    return [
        _namespaces_parameter(),
        _search_parameter("pod"),
        _enum(
            "problem",
            POD_PROBLEMS,
            None,
            "Only pods with this problem: "
            + ", ".join(f"`{k}` ({v})" for k, v in POD_PROBLEMS.items())
            + ".",
        ),
        _text_parameter(
            "proxy_version", filters.VERSION_RE.pattern, "Only pods whose proxy runs this version."
        ),
        _text_parameter("node", filters.NODE_RE.pattern, "Only pods on this node."),
        _label_parameter("pods"),
        _enum("sort", POD_SORT_KEYS, DEFAULT_POD_SORT, "Sort key."),
        _direction_parameter(),
        *_page_parameters(),
        window_parameter(),
    ]


def service_list_parameters() -> list[dict]:
    return [
        _namespaces_parameter(),
        _search_parameter("Service"),
        _enum("health", HEALTH_STATES, None, "Only Services in this health state."),
        _enum("sort", SERVICE_SORT_KEYS, DEFAULT_SERVICE_SORT, "Sort key."),
        _direction_parameter(),
        *_page_parameters(),
        window_parameter(),
    ]


def bounded_list_parameters(columns, default_sort: str) -> list[dict]:
    keys = [c.key for c in columns if c.sortable]
    return [
        _namespaces_parameter(),
        _search_parameter("workload"),
        _enum("sort", keys, default_sort, "Sort key; the default sorts biggest first."),
        _direction_parameter(),
        *_page_parameters(),
        window_parameter(),
    ]


def workload_list_parameters() -> list[dict]:
    namespace = namespace_name_schema()
    return [
        {
            "name": "ns",
            "in": "query",
            "description": "Only these namespaces (repeat the parameter for several).",
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "items": {"anyOf": [namespace, EMPTY]},
                "maxItems": MAX_NAMESPACES,
            },
        },
        _enum("kind", KINDS, None, "Only workloads of this kind."),
        _enum("health", HEALTH_STATES, None, "Only workloads in this health state."),
        _enum(
            "meshed",
            [value for value in filters.MESHED_VALUES if value],
            None,
            "Only meshed (yes, true) or only unmeshed (no, false) workloads; case-insensitive.",
        ),
        _search_parameter("workload"),
        {
            "name": "team",
            "in": "query",
            "description": "Only the workloads of this team (its namespaces and label selector).",
            "schema": {
                "type": "string",
                "maxLength": filters.MAX_VALUE_LENGTH,
                "pattern": anchored(filters.TEAM_RE.pattern),
            },
        },
        _label_parameter("workloads"),
        _enum("sort", SORT_KEYS, DEFAULT_SORT, "Sort key; `health` ascending is worst first."),
        _direction_parameter(),
        *_page_parameters(),
        window_parameter(),
    ]


def namespace_list_parameters() -> list[dict]:
    return [
        _search_parameter("namespace"),
        _enum("sort", NAMESPACE_SORT_KEYS, DEFAULT_NAMESPACE_SORT, "Sort key."),
        _direction_parameter(),
        *_page_parameters(),
        window_parameter(),
    ]


def namespace_name_schema() -> dict:
    return {"type": "string", "maxLength": MAX_LABEL, "pattern": anchored(DNS1123_LABEL.pattern)}


def workload_path_parameters() -> list[dict]:
    return [
        {"name": "namespace", "in": "path", "required": True, "schema": namespace_name_schema()},
        {
            "name": "kind",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(KINDS)},
        },
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": filters.MAX_VALUE_LENGTH,
                "pattern": "^[^/]+$",
            },
        },
    ]


def snapshot_schema() -> dict:
    properties = {
        "taken_at": {"type": "number", "description": "When the collection started (unix s)."},
        "age_seconds": {"type": "number", "minimum": 0},
        "collect_seconds": {"type": "number", "minimum": 0},
        "stale": {
            "type": "boolean",
            "description": "The last collection failed, no collection landed for a few refresh "
            "intervals, or parts are missing (see `errors`).",
        },
        "reason": {
            "type": "string",
            "description": "Why it is stale (failed or too old); empty otherwise.",
        },
        "errors": {
            "type": "object",
            "description": "Parts missing from this snapshot, each with why it failed.",
            "additionalProperties": {"type": "string"},
        },
        "failure_reason": {
            "type": "string",
            "description": "Why the last collection failed; empty when it succeeded.",
        },
    }
    return {
        "type": "object",
        "description": "The snapshot the answer was read from.",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def page_schema(items: dict) -> dict:
    properties = {
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "window": {"type": "string", "enum": list(WINDOWS)},
        "items": {"type": "array", "items": items},
        "snapshot": ref("Snapshot"),
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def baselines_schema() -> dict:
    """meshdash.dashboard.ranges.baselines_json: the last hour against the same hour yesterday
    and a week ago."""
    point = {
        "type": ["object", "null"],
        "description": "The hour's request-weighted figures (t: the time compared, unix "
        "seconds); null when the history has nothing there: not enough history yet.",
        "properties": {
            "t": {"type": "integer"},
            "success_rate": {"type": ["number", "null"]},
            "p99": {"type": ["number", "null"]},
            "rps": {"type": ["number", "null"]},
        },
        "required": ["t", "success_rate", "p99", "rps"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "now": point,
            "yesterday": point,
            "week_ago": point,
            "missing": {
                "type": "array",
                "items": {"type": "string", "enum": ["now", "yesterday", "week_ago"]},
                "description": "The baselines that are null.",
            },
            "note": {
                "type": "string",
                "description": '"not enough history yet" when any baseline is missing, else "".',
            },
        },
        "required": ["now", "yesterday", "week_ago", "missing", "note"],
        "additionalProperties": False,
    }


def extended_page_schema(items: dict, **more: dict) -> dict:
    """A page with more top-level members than the items."""
    schema = page_schema(items)
    schema = {**schema, "properties": {**schema["properties"], **more}}
    schema["required"] = [*schema["required"], *more]
    return schema


def service_detail_schema() -> dict:
    properties = {
        "window": {"type": "string", "enum": list(WINDOWS)},
        "service": ref("Service"),
        "workloads": {"type": "array", "items": ref("Workload")},
        "callers": {"type": "array", "items": ref("Edge")},
        "routes": {"type": "array", "items": ref("Route")},
        "snapshot": ref("Snapshot"),
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def workload_detail_schema() -> dict:
    properties = {
        "window": {"type": "string", "enum": list(WINDOWS)},
        "workload": ref("Workload"),
        "callers": {"type": "array", "items": ref("Edge")},
        "callees": {"type": "array", "items": ref("Edge")},
        "pods": {"type": "array", "items": ref("Pod")},
        "routes": {"type": "array", "items": ref("Route")},
        "history": {"type": "array", "items": ref("HistoryPoint")},
        "baselines": ref("Baselines"),
        "events": {"type": "array", "items": ref("Event")},
        "authorizations": {"type": "array", "items": ref("Authorization")},
        "snapshot": ref("Snapshot"),
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


# The mesh dataclasses' times: every one a unix time (seconds since the epoch, UTC), as is
# every time the API answers.
TIME_FIELDS = frozenset(
    {
        "taken_at",
        "last_rollout",
        "created_at",
        "proxy_cert_expiry",
        "proxy_cert_refreshed_at",
        "first_seen",
        "last_seen",
        "trust_anchor_not_after",
        "issuer_not_after",
        "t",
    }
)
UNIX_TIME = {"format": "unix-time", "description": "Seconds since the Unix epoch (UTC)."}


def _with_time_formats(schema):
    """``schema`` with every property named in TIME_FIELDS marked as a unix time."""
    if isinstance(schema, dict):
        marked = {key: _with_time_formats(value) for key, value in schema.items()}
        for name, prop in (marked.get("properties") or {}).items():
            if name in TIME_FIELDS and isinstance(prop, dict) and "$ref" not in prop:
                marked["properties"][name] = UNIX_TIME | prop
        return marked
    if isinstance(schema, list):
        return [_with_time_formats(value) for value in schema]
    return schema


def schemas() -> dict:
    return _with_time_formats(_schemas())


def _schemas() -> dict:
    return {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string", "minLength": 1}},
            "required": ["error"],
            "additionalProperties": False,
        },
        "Snapshot": snapshot_schema(),
        "Workload": dataclass_schema(Workload, enums={"kind": KINDS, "health": HEALTH_STATES}),
        "Edge": dataclass_schema(Edge),
        "Pod": dataclass_schema(Pod),
        "Route": dataclass_schema(Route),
        "Namespace": dataclass_schema(Namespace),
        "HistoryPoint": dataclass_schema(HistoryPoint),
        "Baselines": baselines_schema(),
        "Service": dataclass_schema(Service, enums={"health": HEALTH_STATES}),
        "Authorization": dataclass_schema(Authorization),
        "Event": dataclass_schema(Event),
        "PodPage": page_schema(ref("Pod")),
        "ServicePage": page_schema(ref("Service")),
        "ServiceDetail": service_detail_schema(),
        "MtlsPage": extended_page_schema(
            ref("Edge"),
            namespaces={
                "type": "array",
                "description": "Every namespace's share of requests over mTLS.",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "mtls_share": {"type": ["number", "null"]},
                    },
                    "required": ["name", "mtls_share"],
                    "additionalProperties": False,
                },
            },
        ),
        "AuthorizationPage": extended_page_schema(
            ref("Authorization"),
            top_denials={"type": "array", "items": ref("Authorization")},
        ),
        "WorkloadPage": page_schema(ref("Workload")),
        "NamespacePage": page_schema(ref("Namespace")),
        "WorkloadDetail": workload_detail_schema(),
    }


def _list_path(operation: str, summary: str, tag: str, parameters, schema: str) -> dict:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "tags": [tag],
            "parameters": parameters,
            "responses": {
                "200": json_response(summary, ref(schema)),
                "429": too_many_views_response(),
                **common_responses(),
            },
        }
    }


def dashboard_paths() -> dict:
    return {
        reverse("api_workloads"): {
            "get": {
                "operationId": "listWorkloads",
                "summary": "One page of the workload list, filtered and sorted as the page is.",
                "tags": ["workloads"],
                "parameters": workload_list_parameters(),
                "responses": {
                    "200": json_response("One page of workloads.", ref("WorkloadPage")),
                    "429": too_many_views_response(),
                    **common_responses(),
                },
            }
        },
        "/api/v1/workloads/{namespace}/{kind}/{name}": {
            "get": {
                "operationId": "getWorkload",
                "summary": "One workload: its metrics, callers, callees, pods, routes, the "
                "last hour of its 1m metrics and its baselines (success rate, p99 and RPS of "
                "the last hour against the same hour yesterday and a week ago).",
                "tags": ["workloads"],
                "parameters": workload_path_parameters() + [window_parameter()],
                "responses": {
                    "200": json_response("The workload.", ref("WorkloadDetail")),
                    "404": error_response("No such kind, or no such workload in the snapshot."),
                    **common_responses(),
                },
            }
        },
        reverse("api_pods"): _list_path(
            "listPods",
            "One page of the pods, mesh-wide, filtered and sorted as the pods page is.",
            "pods",
            pod_list_parameters(),
            "PodPage",
        ),
        reverse("api_services"): _list_path(
            "listServices",
            "One page of the Services, with their traffic as their callers saw it.",
            "services",
            service_list_parameters(),
            "ServicePage",
        ),
        "/api/v1/services/{namespace}/{name}": {
            "get": {
                "operationId": "getService",
                "summary": "One Service: its backing workloads, callers and routes.",
                "tags": ["services"],
                "parameters": [
                    {
                        "name": "namespace",
                        "in": "path",
                        "required": True,
                        "schema": namespace_name_schema(),
                    },
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": MAX_LABEL},
                    },
                    window_parameter(),
                ],
                "responses": {
                    "200": json_response("The Service.", ref("ServiceDetail")),
                    "404": error_response("No such Service in the snapshot."),
                    **common_responses(),
                },
            }
        },
        reverse("api_mtls"): _list_path(
            "listPlaintextEdges",
            "The mTLS posture: plain-text edges between meshed workloads (`list=unmeshed`: "
            "unmeshed clients calling meshed servers), busiest first, and every namespace's "
            "share of requests over mTLS.",
            "mtls",
            bounded_list_parameters(EDGE_COLUMNS, "rps")
            + [_enum("list", ["unmeshed"], None, "`unmeshed`: the unmeshed clients.")],
            "MtlsPage",
        ),
        reverse("api_authorization"): _list_path(
            "listAuthorization",
            "Authorization decisions per workload, Server and policy, most denied first, "
            "and the top denials mesh-wide.",
            "authorization",
            bounded_list_parameters(AUTHZ_COLUMNS, "denied"),
            "AuthorizationPage",
        ),
        reverse("api_namespaces"): {
            "get": {
                "operationId": "listNamespaces",
                "summary": "One page of the namespaces list.",
                "tags": ["namespaces"],
                "parameters": namespace_list_parameters(),
                "responses": {
                    "200": json_response("One page of namespaces.", ref("NamespacePage")),
                    "429": too_many_views_response(),
                    **common_responses(),
                },
            }
        },
    }
