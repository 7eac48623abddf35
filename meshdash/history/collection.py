"""What a collection asks of the history (``meshdash.collectors.run.collect_and_store``): the
overview with drops against the same hour yesterday, before the snapshot is stored; the
snapshot's points, after. Neither may fail a collection: the history's database being away
costs the drops and the points, not the snapshot."""

import logging

from django.conf import settings

from meshdash.history import read, write
from meshdash.mesh.model import Snapshot
from meshdash.mesh.overview import Overview, summarise

log = logging.getLogger(__name__)

BASELINE = "the same hour yesterday"
NOT_ENOUGH = "not enough history yet"
UNAVAILABLE = "history unavailable"


def overview(snapshot: Snapshot) -> Overview:
    """``snapshot``'s overview, its drops against the history's baseline."""
    minute = int(snapshot.taken_at // 60) * 60
    try:
        baseline, ready = read.drop_baselines(snapshot.taken_at)
        note = "" if ready else NOT_ENOUGH
    except Exception:
        log.exception("history: no baseline for the drops")
        baseline, note = {}, UNAVAILABLE
    return summarise(
        snapshot,
        baseline,
        minute,
        min_rps=settings.MESHDASH_HISTORY_DROP_MIN_RPS,
        baseline=BASELINE,
        note=note,
    )


def record(snapshot: Snapshot) -> int:
    """Add the snapshot's points; the number written (0 on failure, logged)."""
    try:
        return write.record(snapshot)
    except Exception:
        log.exception("history: the %s collection's points were not written", snapshot.window)
        return 0
