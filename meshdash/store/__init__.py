"""The Redis snapshot store: collections write whole versions, pages read one slice of one."""

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
    "Drop",
    "HistoryPoint",
    "Overview",
    "SnapshotMeta",
    "SnapshotStore",
    "SparkPoint",
    "StoreUnavailable",
    "Totals",
    "WorkloadDetail",
]
