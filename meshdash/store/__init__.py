"""The Redis snapshot store: collections write whole versions, pages read one slice of one."""

from meshdash.mesh.columns import NAMESPACE_SORT_KEYS
from meshdash.store.namespaces import NamespaceQuery
from meshdash.store.results import (
    HistoryPoint,
    SnapshotMeta,
    SparkPoint,
    StoreUnavailable,
    WorkloadDetail,
)
from meshdash.store.store import SnapshotStore

__all__ = [
    "NAMESPACE_SORT_KEYS",
    "HistoryPoint",
    "NamespaceQuery",
    "SnapshotMeta",
    "SnapshotStore",
    "SparkPoint",
    "StoreUnavailable",
    "WorkloadDetail",
]
