"""A request for one page of workloads: the single filter and sort definition that the HTML
page, the JSON API and the CSV export all use. Parsing GET parameters into a ``WorkloadQuery``
lives in meshdash/dashboard/filters.py; running it lives in the snapshot store.
"""

import re
from dataclasses import dataclass, field

# The lists' sort keys, defined with their columns; a query names one of them.
from meshdash.mesh.columns import POD_SORT_KEYS as POD_SORT_KEYS
from meshdash.mesh.columns import SERVICE_SORT_KEYS as SERVICE_SORT_KEYS
from meshdash.mesh.columns import SORT_KEYS as SORT_KEYS

DEFAULT_SORT = "health"
PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = max(PER_PAGE_CHOICES)
MAX_PAGE = 1_000_000  # far beyond any list; keeps arithmetic on page numbers small
# The most namespaces one list URL may name: a bound on the sets one page intersects.
MAX_NAMESPACES = 100
# The most label filters (``label=key=value``) one list URL may name, for the same reason.
MAX_LABELS = 10
DEFAULT_POD_SORT = "namespace"
DEFAULT_SERVICE_SORT = "health"

# A Kubernetes label key (an optional DNS-subdomain prefix and a name) and value.
_LABEL_NAME = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([a-z0-9.-]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")
# A whole ``key=value`` filter as parse_label accepts it (for the OpenAPI description).
LABEL_FILTER_PATTERN = rf"{_LABEL_KEY.pattern[1:-1]}={_LABEL_VALUE.pattern[1:-1]}"


def parse_label(text: str) -> str:
    """A ``key=value`` label filter as the store keeps it; ValueError unless both are a valid
    Kubernetes label key and value."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
        raise ValueError(f"not a label filter key=value: {text[:100]!r}")
    return f"{key}={value}"


@dataclass(frozen=True)
class WorkloadQuery:
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    kind: str = ""  # empty: every kind
    health: str = ""  # empty: every state
    meshed: bool | None = None  # True: only meshed; False: only unmeshed
    search: str = ""  # case-insensitive substring of the name
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    team: str = ""  # empty: every team
    labels: tuple[str, ...] = ()  # "key=value" (parse_label), each one must match


@dataclass(frozen=True)
class PodQuery:
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    search: str = ""  # case-insensitive substring of the pod's name
    problem: str = ""  # one of mesh.pods.POD_PROBLEMS; empty: any pod
    proxy_version: str = ""
    node: str = ""
    labels: tuple[str, ...] = ()
    sort: str = DEFAULT_POD_SORT
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass(frozen=True)
class ServiceQuery:
    namespaces: tuple[str, ...] = ()
    search: str = ""
    health: str = ""
    sort: str = DEFAULT_SERVICE_SORT
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass
class Page:
    """One page of a list. ``page`` is clamped into 1..pages."""

    items: list
    total: int
    page: int
    per_page: int
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @classmethod
    def of(cls, rows: list, page: int, per_page: int) -> "Page":
        """Page ``page`` of ``rows`` held in memory; a page past the end is the last one."""
        pages = max(1, -(-len(rows) // per_page))
        number = min(page, pages)
        start = (number - 1) * per_page
        return cls(
            items=rows[start : start + per_page], total=len(rows), page=number, per_page=per_page
        )
