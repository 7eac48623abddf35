"""Small known snapshots for the bookmark tests, written through the real store."""

import time

from meshdash.mesh.model import Edge, Snapshot, Workload


def payments_snapshot(*, success_rate: float = 0.97, taken_at: float | None = None) -> Snapshot:
    workloads = [
        Workload("payments", "deployment", "api", 2, 2, success_rate, 12.5, 3.0, 9.0, 20.0),
        Workload("payments", "deployment", "ledger", 1, 1, 1.0, 4.0, 2.0, 5.0, 8.0),
        Workload("shop", "deployment", "cart", 1, 1, 0.999, 30.0, 1.0, 2.0, 3.0),
    ]
    for workload in workloads:
        workload.health = "healthy"
    edges = [Edge("shop", "deployment", "cart", "payments", "deployment", "api", rps=7.0, tls=True)]
    return Snapshot(
        window="1m",
        taken_at=time.time() if taken_at is None else taken_at,
        workloads=workloads,
        edges=edges,
    )
