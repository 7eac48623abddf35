"""Sort orders of the workload list, computed once per snapshot.

For each key in ``SORT_KEYS`` and each direction, every workload gets its position in that
order; the store keeps the positions as sorted-set scores so any page is a range read. Values
that are None (or NaN) come last in both directions, and ties go by namespace, kind and name,
ascending in both directions, so pages are stable.
"""

import math
from collections.abc import Sequence

from meshdash.mesh.health import HEALTH_ORDER
from meshdash.mesh.model import Workload
from meshdash.mesh.query import SORT_KEYS


def sort_value(workload: Workload, key: str):
    """The value a workload is sorted by for ``key``, or None when it has none."""
    if key == "health":
        return HEALTH_ORDER.get(workload.health)
    value = getattr(workload, SORT_KEYS[key])
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _identity(workload: Workload) -> tuple[str, str, str]:
    return (workload.namespace, workload.kind, workload.name)


def order(workloads: Sequence[Workload], key: str, descending: bool) -> list[int]:
    """Indexes into ``workloads`` in display order for this sort key and direction."""
    by_identity = sorted(range(len(workloads)), key=lambda i: _identity(workloads[i]))
    valued = [i for i in by_identity if sort_value(workloads[i], key) is not None]
    missing = [i for i in by_identity if sort_value(workloads[i], key) is None]
    # Python's sort is stable, also with reverse=True: ties keep the identity order.
    valued.sort(key=lambda i: sort_value(workloads[i], key), reverse=descending)
    return valued + missing


def ranks(workloads: Sequence[Workload], key: str, descending: bool) -> dict[int, int]:
    """Workload index -> position in the display order."""
    return {index: rank for rank, index in enumerate(order(workloads, key, descending))}
