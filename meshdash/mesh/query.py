"""A request for one page of workloads: the single filter and sort definition that the HTML
page, the JSON API and the CSV export all use. Parsing GET parameters into a ``WorkloadQuery``
lives in meshdash/dashboard/filters.py; running it lives in the snapshot store.
"""

from dataclasses import dataclass, field

# The list's sort keys, defined with its columns; a query names one of them.
from meshdash.mesh.columns import SORT_KEYS as SORT_KEYS

DEFAULT_SORT = "health"
PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = max(PER_PAGE_CHOICES)
MAX_PAGE = 1_000_000  # far beyond any list; keeps arithmetic on page numbers small
# The most namespaces one list URL may name: a bound on the sets one page intersects.
MAX_NAMESPACES = 100


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
