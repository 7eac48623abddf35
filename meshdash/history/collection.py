"""What a collection asks of the history (``meshdash.collectors.run.collect_and_store``): the
overview with drops against the same hour yesterday and the on-call checks' long history, before
the snapshot is stored; the snapshot's points, after. None may fail a collection: the history's
database being away costs the drops, the trends and the points, not the snapshot."""

import logging
import math
import time
from array import array
from collections.abc import Iterable, Sequence

from django.conf import settings

from meshdash.history import read, write
from meshdash.mesh.checks import CheckHistory, PodHistory
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


# The checks' trends look back a week: enough points for a weekly slope, and what an on-call
# engineer compares against.
CHECK_HISTORY_DAYS = 7
# The checks' history per process, rebuilt at most every MESHDASH_CHECKS_HISTORY_MINUTES: the
# 1m window collects every 10 s and must not read a week of every pod's points each time (the
# coarsest tier it reads gains one point an hour).
_check_history: dict[str, tuple[float, CheckHistory]] = {}


class Pairs(Sequence):
    """``(t, value)`` pairs kept as two arrays of doubles (NaN for a value not known): a week
    of hourly points for 10,000 pods is 1.7 million pairs, about 180 MB as tuples of floats
    and 27 MB as this, for as long as the process caches them."""

    __slots__ = ("_t", "_v")

    def __init__(self, times: Iterable[float], values: Iterable[float | None]):
        self._t = array("d", times)
        self._v = array("d", [math.nan if v is None else v for v in values])

    def __len__(self) -> int:
        return len(self._t)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value = self._v[index]
        return (self._t[index], None if math.isnan(value) else value)

    def __iter__(self):
        for t, value in zip(self._t, self._v, strict=True):
            yield (t, None if value != value else value)  # NaN: not known


def renewals(points: Iterable[tuple[float, float | None]]) -> list[tuple[float, float]]:
    """``changes`` of points already oldest first: the first value and each that differs from
    the one kept before it (an unchanged leaf, most points, costs one comparison)."""
    kept: list[tuple[float, float]] = []
    last = None
    for t, value in points:
        if value is None or value == last:
            continue
        if last is not None and math.isclose(last, value, abs_tol=0.5):
            continue
        kept.append((t, value))
        last = value
    return kept


def pod_history(series: read.PodSeries) -> PodHistory:
    """A pod's history as the checks read it: every memory point, and of its leaf's expiry
    only the first point and each renewal (``changes``: all the rotation check reads)."""
    owner = series.owner
    points = series.points
    return PodHistory(
        series.namespace,
        series.pod,
        owner.kind if owner else "",
        owner.name if owner else "",
        memory=Pairs([p[0] for p in points], [p[1] for p in points]),
        cert_expiry=tuple(renewals((p[0], p[3]) for p in points)),
    )


def check_history(now: float | None = None) -> CheckHistory | None:
    """The pods' proxy memory and leaf expiry over the last week (the coarsest tier), for the
    memory-growth and rotation checks; built at most every MESHDASH_CHECKS_HISTORY_MINUTES per
    process, for at most MESHDASH_CHECKS_HISTORY_MAX_PODS pods. None when the history cannot be
    read (logged): those checks then find nothing from it rather than fail the collection."""
    max_age = settings.MESHDASH_CHECKS_HISTORY_MINUTES * 60
    cached = _check_history.get("pods")
    if cached is not None and time.monotonic() - cached[0] < max_age:
        return cached[1]
    try:
        found = read.recent_pods(
            CHECK_HISTORY_DAYS, max_pods=settings.MESHDASH_CHECKS_HISTORY_MAX_PODS, now=now
        )
        history = CheckHistory([pod_history(series) for series in found])
        for pod in history.pods:
            pod.memory_trend  # noqa: B018 (fitted now, with the rebuild, not by a collection)
    except Exception:
        log.exception("history: no long history for the on-call checks")
        return cached[1] if cached is not None else None
    _check_history["pods"] = (time.monotonic(), history)
    return history


def forget_check_history() -> None:
    """Drop the cached checks' history: the next collection reads it afresh."""
    _check_history.clear()
