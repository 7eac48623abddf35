"""Weeks of history for a fresh demo: the demo mesh's pods as meshdash would have recorded them.

A demo starts with an empty history, so nothing that reads weeks of it (the memory-growth
check, the 7- and 30-day charts) has anything to show. ``seed_history`` writes the last
``days`` days of every proxied pod's points (proxy memory, CPU, leaf expiry, restarts) at the
history's coarse tiers, computed from the demo model (``DemoPod.proxy_memory``: a few pods'
proxies creep up), through the history's own write path (``meshdash.history.write``), as the
backfill from Prometheus would have. Run once by ``scripts/demo.py`` before the workers start
(``manage.py demo_history``); demo code only, never imported by the product.

The leaf certificates follow Linkerd's defaults: each lasts 24 h and is renewed at 70 % of
its life, so before the leaf it holds at the model's epoch a pod held leaves issued 16.8 h
apart, and after it those of ``DemoPod.leaf``: renewed, unless its rotation stalled (then
unchanged since).

Seeding again for the same mesh (workloads and seed) writes only what came after the last
seeding, so that restarting the demo fills the time it was stopped and never doubles points.
"""

import json
import time
from collections.abc import Iterator

from meshdash.demo.model import LEAF_LIFETIME_SECONDS, LEAF_RENEWAL_SECONDS, DemoMesh, DemoPod
from meshdash.history.models import State
from meshdash.history.write import append, series_ids, tiers
from meshdash.mesh.history import DAY, POD

STATE = "demo-history"
DEFAULT_DAYS = 14


def leaf_expiry(pod: DemoPod, t: float) -> float:
    """The not-after of the leaf the pod's proxy held at ``t``: the model's (``DemoPod.leaf``)
    from the issue of the leaf it holds at the epoch, and before that the ones renewed every
    ``LEAF_RENEWAL_SECONDS`` back."""
    issued = pod.cert_expiry - LEAF_LIFETIME_SECONDS
    if t >= issued:
        return pod.leaf(t)[1]
    renewals_back = -(-(issued - t) // LEAF_RENEWAL_SECONDS)  # ceil: the renewal before t
    return pod.cert_expiry - renewals_back * LEAF_RENEWAL_SECONDS


def pod_points(pod: DemoPod, start: int, end: int, step: int) -> Iterator[tuple[int, tuple]]:
    """``(t, (memory, cpu, leaf expiry, restarts))`` at each bucket of ``step`` in
    [start, end) that the pod lived through, its gauges as at the bucket's middle."""
    first = max(start, int(-(-pod.started_at // step)) * step)
    for t in range(first, end, step):
        middle = t + step / 2
        yield t, (pod.proxy_memory(middle), pod.cpu_rate, leaf_expiry(pod, middle), pod.restarts)


def seed_history(
    mesh: DemoMesh,
    days: float = DEFAULT_DAYS,
    now: float | None = None,
    *,
    coarsest_only: bool = False,
) -> int:
    """Write the last ``days`` days of the mesh's proxied pods' points into every tier but
    the finest (which the collections fill), each as far back as it keeps points, or into the
    coarsest alone (what the checks read: the benchmark's thousands of pods); the number of
    points written. Only what came after an earlier seeding of the same mesh."""
    now = time.time() if now is None else now
    mesh_id = {"workloads": len(mesh.workloads), "seed": mesh.seed}
    state = State.objects.filter(name=STATE).values_list("value", flat=True).first()
    before = json.loads(state) if state else {}
    seeded_until = before.get("until", 0) if before.get("mesh") == mesh_id else 0
    pods = [
        (w, pod)
        for w in mesh.all_workloads
        for pod in w.pods
        if pod.has_proxy and pod.exports_metrics
    ]
    ids = series_ids(
        [
            (POD.code, "", f"{pod.namespace}/{pod.name}", f"{w.namespace}/{w.kind}/{w.name}")
            for w, pod in pods
        ],
        int(now),
    )
    written = 0
    levels = tiers()
    for index in range(len(levels) - 1 if coarsest_only else 1, len(levels)):
        tier = levels[index]
        end = tier.bucket(now)  # the current bucket is the roll-ups' to make
        # From the bucket the last seeding left to the roll-ups (it was then current).
        start = max(tier.bucket(now - min(days * DAY, tier.keep)), tier.bucket(seeded_until))
        points = [
            (ids[POD.code, "", f"{pod.namespace}/{pod.name}"], POD.code, t, values)
            for _, pod in pods
            for t, values in pod_points(pod, start, end, tier.step)
        ]
        if points:
            append(index, tier, points)
        written += len(points)
    State.objects.update_or_create(
        name=STATE, defaults={"value": json.dumps({"mesh": mesh_id, "until": int(now)})}
    )
    return written
