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


def identity_order(workloads: Sequence[Workload]) -> list[int]:
    """Indexes into ``workloads`` by namespace, kind and name: the tie-break of every order."""
    return sorted(range(len(workloads)), key=lambda i: workloads[i].key)


def order(
    workloads: Sequence[Workload],
    key: str,
    descending: bool,
    by_identity: list[int] | None = None,
) -> list[int]:
    """Indexes into ``workloads`` in display order for this sort key and direction."""
    if by_identity is None:
        by_identity = identity_order(workloads)
    values = [sort_value(w, key) for w in workloads]
    valued = [i for i in by_identity if values[i] is not None]
    missing = [i for i in by_identity if values[i] is None]
    # Python's sort is stable, also with reverse=True: ties keep the identity order.
    valued.sort(key=values.__getitem__, reverse=descending)
    return valued + missing
