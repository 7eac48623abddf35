"""The Redis snapshot store: collections write whole versions, pages read one slice of one."""

from meshdash.store.namespaces import NAMESPACE_SORT_KEYS, NamespaceQuery
from meshdash.store.results import (
    Drop,
    HistoryPoint,
    Overview,
    SnapshotMeta,
    SparkPoint,
    StoreUnavailable,
    Totals,
    WorkloadDetail,
)
from meshdash.store.store import SnapshotStore

__all__ = [
    "NAMESPACE_SORT_KEYS",
    "Drop",
    "HistoryPoint",
    "NamespaceQuery",
    "Overview",
    "SnapshotMeta",
    "SnapshotStore",
    "SparkPoint",
    "StoreUnavailable",
    "Totals",
    "WorkloadDetail",
]
