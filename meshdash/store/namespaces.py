"""The namespaces list: its query and its orders (one per sort key of mesh.columns and
direction), computed once per snapshot from plain data (no Redis here)."""

from collections.abc import Sequence
from dataclasses import dataclass

from meshdash.mesh.columns import NAMESPACE_SORT_KEYS
from meshdash.mesh.model import Namespace
from meshdash.mesh.overview import namespace_worst_first
from meshdash.mesh.query import DEFAULT_PER_PAGE
from meshdash.store import ordering

DEFAULT_NAMESPACE_SORT = "name"


@dataclass(frozen=True)
class NamespaceQuery:
    search: str = ""  # case-insensitive substring of the name
    sort: str = DEFAULT_NAMESPACE_SORT  # ascending "health": worst first (namespace_worst_first)
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def sort_values(namespaces: Sequence[Namespace], key: str) -> list:
    if key == "health":
        return [namespace_worst_first(n) for n in namespaces]
    values = [getattr(n, NAMESPACE_SORT_KEYS[key]) for n in namespaces]
    return [None if v is None or v != v else v for v in values]


def orders(namespaces: Sequence[Namespace]) -> dict[tuple[str, bool], list[int]]:
    """Indexes into ``namespaces`` (sorted by name) in display order, per sort key and
    direction; None last, ties by name."""
    by_name = list(range(len(namespaces)))
    return {
        (key, descending): ordering.order(
            namespaces, key, descending, by_name, sort_values(namespaces, key)
        )
        for key in NAMESPACE_SORT_KEYS
        for descending in (False, True)
    }
