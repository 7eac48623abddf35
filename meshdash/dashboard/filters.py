"""GET parameters -> ``WorkloadQuery``, ``PodQuery``, ``ServiceQuery``: the one filter
definition behind each list's page, its JSON API and its CSV export.

Everything here is strict: a value we do not understand is a ``BadQuery`` with a reason the
user can act on, never a silent default that shows a different list than the URL says. The
exception is a page past the end, which the store clamps to the last page.
"""

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.http import QueryDict

from meshdash.dashboard.bounded import AUTHZ_COLUMNS, EDGE_COLUMNS, BoundedQuery
from meshdash.mesh.columns import NAMESPACE_SORT_KEYS
from meshdash.mesh.health import HEALTH_STATES
from meshdash.mesh.history import DEFAULT_RANGE, RANGES, range_bounds
from meshdash.mesh.model import KINDS, WINDOWS
from meshdash.mesh.names import MAX_SUBDOMAIN, is_namespace_name
from meshdash.mesh.pods import POD_PROBLEMS
from meshdash.mesh.query import (
    DEFAULT_PER_PAGE,
    DEFAULT_POD_SORT,
    DEFAULT_SERVICE_SORT,
    DEFAULT_SORT,
    MAX_LABELS,
    MAX_NAMESPACES,
    MAX_PAGE,
    MAX_PER_PAGE,
    POD_SORT_KEYS,
    SERVICE_SORT_KEYS,
    SORT_KEYS,
    PodQuery,
    ServiceQuery,
    WorkloadQuery,
    parse_label,
)
from meshdash.store.namespaces import DEFAULT_NAMESPACE_SORT, NamespaceQuery

# The longest Kubernetes name; nothing legitimate is longer.
MAX_VALUE_LENGTH = MAX_SUBDOMAIN

# Workload names are DNS-1123 subdomains; searching for anything else cannot match, and
# refusing it keeps glob, regex and SQL syntax out of every layer below.
SEARCH_RE = re.compile(r"[a-z0-9._-]*")
TEAM_RE = re.compile(r"[A-Za-z0-9._-]*")
# Proxy versions ("stable-2.14.10", "v2.294.0", "edge-24.11.8") and node names.
VERSION_RE = re.compile(r"[A-Za-z0-9._+-]*")
NODE_RE = re.compile(r"[a-z0-9._-]*")
# A label filter: a prefixed key (253 + "/" + 63) "=" and a value (63).
MAX_LABEL_FILTER = 253 + 1 + 63 + 1 + 63

MESHED_VALUES = {"": None, "yes": True, "true": True, "no": False, "false": False}
DIRECTIONS = {"asc": False, "desc": True}


class BadQuery(ValueError):
    """A query parameter we refuse; ``str()`` is the reason shown to the user."""


@dataclass(frozen=True)
class ListParams:
    query: WorkloadQuery
    window: str


def single_value(params, name: str) -> str:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadQuery(f"{name} may be given once")
    value = values[0].strip() if values else ""
    if len(value) > MAX_VALUE_LENGTH:
        raise BadQuery(f"{name} is longer than {MAX_VALUE_LENGTH} characters")
    return value


def parse_positive_int(params, name: str, default: int, maximum: int) -> int:
    raw = single_value(params, name)
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadQuery(f"{name} must be a whole number, not {raw[:40]!r}")
    value = int(raw)
    if value < 1:
        raise BadQuery(f"{name} must be 1 or more")
    if value > maximum:
        raise BadQuery(f"{name} must be at most {maximum}")
    return value


def parse_choice(params, name: str, choices, default: str = "") -> str:
    value = single_value(params, name)
    if value == "":
        return default
    if value not in choices:
        raise BadQuery(f"unknown {name} {value[:40]!r}; choose one of: {', '.join(choices)}")
    return value


def parse_window(params, default: str) -> str:
    return parse_choice(params, "window", tuple(WINDOWS), default)


def window_params(window: str, default: str) -> QueryDict:
    """The query that keeps ``window`` in a link: empty for the default window."""
    params = QueryDict(mutable=True)
    if window != default:
        params["window"] = window
    return params


def parse_namespace(value: str) -> str:
    if not is_namespace_name(value):
        raise BadQuery(f"{value[:70]!r} is not a valid namespace name")
    return value


def parse_namespaces(params) -> tuple[str, ...]:
    given = params.getlist("ns")
    # Empty values count too: the bound is on what the URL carries, as the OpenAPI says.
    if len(given) > MAX_NAMESPACES:
        raise BadQuery(f"at most {MAX_NAMESPACES} namespaces at once")
    values = [value.strip() for value in given if value.strip()]
    return tuple(sorted({parse_namespace(value) for value in values}))


def parse_labels(params) -> tuple[str, ...]:
    """``label=key=value`` filters (several: all must match), sorted and without repeats."""
    given = params.getlist("label")
    if len(given) > MAX_LABELS:  # empty ones too, as for namespaces
        raise BadQuery(f"at most {MAX_LABELS} label filters at once")
    values = [value.strip() for value in given if value.strip()]
    labels = set()
    for value in values:
        if len(value) > MAX_LABEL_FILTER:
            raise BadQuery(f"a label filter is longer than {MAX_LABEL_FILTER} characters")
        try:
            labels.add(parse_label(value))
        except ValueError:
            raise BadQuery(
                f"label must be key=value with a Kubernetes label key and value, not {value[:60]!r}"
            ) from None
    return tuple(sorted(labels))


def _search(params, what: str) -> str:
    search = single_value(params, "q").lower()
    if not SEARCH_RE.fullmatch(search):
        raise BadQuery(f"search matches {what} names: use letters, digits, '-', '.' and '_'")
    return search


def _sort_and_page(params, sort_keys, default_sort: str) -> dict:
    """The sort, direction and page of any list."""
    return {
        "sort": parse_choice(params, "sort", tuple(sort_keys), default_sort),
        "descending": DIRECTIONS[parse_choice(params, "dir", tuple(DIRECTIONS), "asc")],
        "page": parse_positive_int(params, "page", 1, MAX_PAGE),
        "per_page": parse_positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    }


def parse_workload_query(params, *, namespaces: tuple[str, ...] = ()) -> WorkloadQuery:
    """The query a workload list URL asks for. ``namespaces`` pins the list (a namespace page)."""
    search = single_value(params, "q").lower()
    if not SEARCH_RE.fullmatch(search):
        raise BadQuery("search matches workload names: use letters, digits, '-', '.' and '_'")
    team = single_value(params, "team")
    if not TEAM_RE.fullmatch(team):
        raise BadQuery("team must be letters, digits, '-', '.' and '_'")
    meshed_raw = single_value(params, "meshed").lower()
    if meshed_raw not in MESHED_VALUES:
        raise BadQuery("meshed must be yes or no")
    direction = parse_choice(params, "dir", tuple(DIRECTIONS), "asc")
    return WorkloadQuery(
        namespaces=namespaces or parse_namespaces(params),
        kind=parse_choice(params, "kind", KINDS),
        health=parse_choice(params, "health", HEALTH_STATES),
        meshed=MESHED_VALUES[meshed_raw],
        search=search,
        sort=parse_choice(params, "sort", tuple(SORT_KEYS), DEFAULT_SORT),
        descending=DIRECTIONS[direction],
        page=parse_positive_int(params, "page", 1, MAX_PAGE),
        per_page=parse_positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        team=team,
        labels=parse_labels(params),
    )


def parse_namespace_query(params) -> NamespaceQuery:
    """The query a namespaces list URL asks for: name search, sort and page."""
    search = single_value(params, "q").lower()
    if not SEARCH_RE.fullmatch(search):
        raise BadQuery("search matches namespace names: use letters, digits, '-', '.' and '_'")
    direction = parse_choice(params, "dir", tuple(DIRECTIONS), "asc")
    return NamespaceQuery(
        search=search,
        sort=parse_choice(params, "sort", tuple(NAMESPACE_SORT_KEYS), DEFAULT_NAMESPACE_SORT),
        descending=DIRECTIONS[direction],
        page=parse_positive_int(params, "page", 1, MAX_PAGE),
        per_page=parse_positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def parse_pod_query(params) -> PodQuery:
    """The query a pods list URL asks for."""
    proxy_version = single_value(params, "proxy_version")
    if not VERSION_RE.fullmatch(proxy_version):
        raise BadQuery("proxy_version must be letters, digits, '.', '-', '+' and '_'")
    node = single_value(params, "node").lower()
    if not NODE_RE.fullmatch(node):
        raise BadQuery("node must be a node name: letters, digits, '-', '.' and '_'")
    return PodQuery(
        namespaces=parse_namespaces(params),
        search=_search(params, "pod"),
        problem=parse_choice(params, "problem", tuple(POD_PROBLEMS)),
        proxy_version=proxy_version,
        node=node,
        labels=parse_labels(params),
        **_sort_and_page(params, POD_SORT_KEYS, DEFAULT_POD_SORT),
    )


def parse_service_query(params) -> ServiceQuery:
    """The query a services list URL asks for."""
    return ServiceQuery(
        namespaces=parse_namespaces(params),
        search=_search(params, "service"),
        health=parse_choice(params, "health", HEALTH_STATES),
        **_sort_and_page(params, SERVICE_SORT_KEYS, DEFAULT_SERVICE_SORT),
    )


def parse_bounded_query(params, columns, default_sort: str, *, descending=False) -> BoundedQuery:
    """The query of a bounded list (dashboard.bounded): namespaces, name search, sort, page."""
    keys = {c.key: c.sort_by for c in columns if c.sortable}
    sort = _sort_and_page(params, keys, default_sort)
    if not params.get("dir") and sort["sort"] == default_sort:
        sort["descending"] = descending
    return BoundedQuery(
        namespaces=parse_namespaces(params), search=_search(params, "workload"), **sort
    )


def parse_list_params(params, default_window: str, **kwargs) -> ListParams:
    window = parse_window(params, default_window)
    return ListParams(query=parse_workload_query(params, **kwargs), window=window)


@dataclass(frozen=True)
class TimeRange:
    """The span a page's charts cover: a named range ending now (``?range=7d``), or the
    explicit ``?from=...&to=...`` of an incident (``name`` then empty)."""

    name: str
    start: int  # unix seconds
    end: int

    @property
    def start_iso(self) -> str:
        return _iso(self.start)

    @property
    def end_iso(self) -> str:
        return _iso(self.end)

    def params(self, default: str) -> QueryDict:
        """The query that keeps this range in a link: empty for the default range."""
        params = QueryDict(mutable=True)
        if not self.name:
            params["from"], params["to"] = self.start_iso, self.end_iso
        elif self.name != default:
            params["range"] = self.name
        return params


# An explicit range ends at most this far in the future (clocks differ a little).
RANGE_CLOCK_SKEW = 60
MIN_RANGE_SECONDS = 60


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(params, name: str) -> int:
    """Unix seconds from ISO 8601 (UTC unless it says otherwise) or a whole number."""
    raw = single_value(params, name)
    if raw.isascii() and raw.isdigit():
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadQuery(
            f"{name} must be a time like 2026-12-01T22:00:00Z or unix seconds, not {raw[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def parse_time_range(params, now: float) -> TimeRange:
    """``range`` (one of mesh.history.RANGES, DEFAULT_RANGE when absent) or both ``from`` and
    ``to``, which span at most the longest range and end no later than now."""
    explicit = [name for name in ("from", "to") if single_value(params, name)]
    if not explicit:
        name = parse_choice(params, "range", tuple(RANGES), DEFAULT_RANGE)
        start, end = range_bounds(name, now)
        return TimeRange(name, start, end)
    if single_value(params, "range"):
        raise BadQuery("give either range or from and to, not both")
    if len(explicit) == 1:
        raise BadQuery("from and to go together: give both")
    start, end = _instant(params, "from"), _instant(params, "to")
    longest = max(RANGES.values())
    if end - start < MIN_RANGE_SECONDS:
        raise BadQuery(f"to must be at least {MIN_RANGE_SECONDS} s after from")
    if end - start > longest:
        raise BadQuery(f"from and to may be at most {longest // 86400} days apart")
    if end > now + RANGE_CLOCK_SKEW:
        raise BadQuery("to is in the future")
    if start < 0:
        raise BadQuery("from is before 1970")
    return TimeRange("", start, end)


def _detail_query(params) -> None:
    """A detail page's parameters: its window and its charts' range."""
    parse_window(params, "")
    parse_time_range(params, time.time())


# Each page (and its JSON and CSV twins) by URL name: what it parses its query with.
PAGE_QUERIES = {
    **dict.fromkeys(
        ("overview", "workload_list", "workloads_csv", "api_workloads", "namespace_detail"),
        parse_workload_query,
    ),
    **dict.fromkeys(("namespace_list", "namespaces_csv", "api_namespaces"), parse_namespace_query),
    **dict.fromkeys(("pod_list", "pods_csv", "api_pods"), parse_pod_query),
    **dict.fromkeys(("service_list", "services_csv", "api_services"), parse_service_query),
    **dict.fromkeys(
        ("mtls", "mtls_csv", "api_mtls"),
        lambda params: parse_bounded_query(params, EDGE_COLUMNS, "rps"),
    ),
    **dict.fromkeys(
        ("authorization", "authorization_csv", "api_authorization"),
        lambda params: parse_bounded_query(params, AUTHZ_COLUMNS, "denied"),
    ),
    **dict.fromkeys(
        ("workload_detail", "api_workload_detail", "service_detail", "api_service_detail"),
        _detail_query,
    ),
}


def check_page_query(url_name: str, params) -> None:
    """Raise BadQuery when the page named ``url_name`` would refuse ``params``, as it would
    say it; pages of ours without a query of their own accept anything."""
    parse = PAGE_QUERIES.get(url_name)
    if parse is not None:
        parse_window(params, "")
        parse(params)
