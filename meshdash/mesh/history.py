"""The arithmetic of meshdash's own history, free of Django and of any store.

History keeps points per workload, per pod and per mesh at a few resolutions ("tiers"): by
default a point a minute for 6 hours, every 5 minutes for 48 hours and every hour for 30 days.
Each coarser point is made from the finer points of its bucket by ``aggregate``:

- rates (RPS, proxy CPU) and gauges (TCP connections, proxy memory) are averaged over the points
  present, so a bucket with a gap is the rate over the time that was seen, not diluted by it;
- ratios (success rates) are weighted by requests (a point's RPS: every point of one tier spans
  the same time), so a quiet minute at 50 % weighs what its few requests weigh;
- latency quantiles are the maximum of the finer quantiles. meshdash keeps no buckets (26 a
  point would cost 26 times the space) and a quantile cannot be averaged; but the q-quantile of
  several parts together is never above the largest of their q-quantiles (above that value each
  part has at most a share 1 - q of its requests, so all of them together do too). The maximum
  is thus an upper bound that never hides a slow spell, which is what a p99 chart is read for;
- certificate expiry and restart counts are states: the last point of the bucket.

Points are tuples ``(t, value, value, ...)`` in the field order of their scope, ``t`` the start
of their bucket in unix seconds, None for a value not known.
"""

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Chart ranges offered in URLs (``?range=``), name -> seconds.
RANGES: dict[str, int] = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 24 * 3600,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
DEFAULT_RANGE = "24h"

DAY = 86400
WEEK = 7 * DAY


@dataclass(frozen=True)
class Tier:
    """One resolution of the history: a point every ``step`` seconds, kept ``keep`` seconds,
    stored in chunks of ``chunk`` seconds (a multiple of ``step``)."""

    name: str
    step: int
    keep: int
    chunk: int

    @property
    def slots(self) -> int:
        return self.chunk // self.step

    def bucket(self, t: float) -> int:
        return int(t // self.step) * self.step

    def chunk_start(self, t: float) -> int:
        return int(t // self.chunk) * self.chunk


def tiers_from(spec: Sequence[tuple[int, int]]) -> tuple[Tier, ...]:
    """Tiers from ``(step, keep)`` pairs, finest first; ValueError unless each step divides the
    next (a coarse bucket must be made of whole finer ones) and each keeps longer."""
    tiers = []
    for step, keep in spec:
        if step <= 0 or keep < step:
            raise ValueError(f"a tier needs 0 < step <= keep, not {step}, {keep}")
        if tiers and (step % tiers[-1].step or keep <= tiers[-1].keep):
            raise ValueError("each tier's step must be a multiple of the finer one's, kept longer")
        # Chunks of about 60-100 points: small to rewrite, few rows per series.
        chunk = step * max(1, min(keep // step, {60: 60, 300: 72}.get(step, 24)))
        tiers.append(Tier(_step_name(step), step, keep, chunk))
    return tuple(tiers)


def _step_name(step: int) -> str:
    if step % 3600 == 0:
        return f"{step // 3600}h"
    if step % 60 == 0:
        return f"{step // 60}m"
    return f"{step}s"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY}


def parse_duration(text: str) -> int:
    """``90s``, ``5m``, ``6h``, ``30d`` in seconds; ValueError otherwise."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit():
        raise ValueError(f"not a duration like 5m, 6h or 30d: {text!r}")
    return int(text[:-1]) * _UNITS[text[-1]]


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """Tiers from ``step:keep`` pairs separated by commas, e.g. ``1m:6h,5m:48h,1h:30d``."""
    pairs = []
    for part in text.split(","):
        step, sep, keep = part.partition(":")
        if not sep:
            raise ValueError(f"a tier is step:keep, e.g. 5m:48h, not {part!r}")
        pairs.append((parse_duration(step), parse_duration(keep)))
    return tiers_from(pairs)


DEFAULT_TIERS_TEXT = "1m:6h,5m:48h,1h:30d"
DEFAULT_TIERS = parse_tiers(DEFAULT_TIERS_TEXT)


def range_bounds(name: str, now: float | None = None) -> tuple[int, int]:
    """``(start, end)`` of the range called ``name`` ending now; KeyError for an unknown name."""
    end = int(time.time() if now is None else now)
    return end - RANGES[name], end


def tier_index(tiers: Sequence[Tier], start: float, now: float) -> int:
    """The finest tier that still keeps points as old as ``start``; the coarsest otherwise."""
    for index, tier in enumerate(tiers):
        if now - start <= tier.keep:
            return index
    return len(tiers) - 1


# --- Scopes: what a point holds, and how its fields aggregate.

WEIGHTED, MEAN, MAX, LAST = "weighted", "mean", "max", "last"


@dataclass(frozen=True)
class Scope:
    code: str  # as stored
    fields: tuple[str, ...]
    rules: tuple[str, ...]  # how each field aggregates: WEIGHTED (by ``weight``), MEAN, MAX, LAST
    weight: str = "rps"


WORKLOAD = Scope(
    "w",
    ("success_rate", "rps", "p50", "p95", "p99", "tcp_connections"),
    (WEIGHTED, MEAN, MAX, MAX, MAX, MEAN),
)
POD = Scope(
    "p",
    ("memory_bytes", "cpu_cores", "cert_expiry", "restarts"),
    (MEAN, MEAN, LAST, LAST),
)
MESH = Scope(
    "m",
    ("workloads", "meshed_pods", "total_pods", "rps", "success_rate", "critical", "warning"),
    (LAST, LAST, LAST, MEAN, WEIGHTED, MAX, MAX),
)
SCOPES = {scope.code: scope for scope in (WORKLOAD, POD, MESH)}


def aggregate(scope: Scope, t: int, points: Sequence[tuple]) -> tuple | None:
    """One point at ``t`` from ``points`` (oldest first) of one bucket; None without any."""
    if not points:
        return None
    weight_at = scope.fields.index(scope.weight) + 1 if scope.weight in scope.fields else None
    values: list[float | None] = []
    for i, rule in enumerate(scope.rules, start=1):
        present = [p[i] for p in points if p[i] is not None]
        if not present:
            values.append(None)
        elif rule == MEAN:
            values.append(sum(present) / len(present))
        elif rule == MAX:
            values.append(max(present))
        elif rule == LAST:
            values.append(present[-1])
        else:
            pairs = [(p[i], p[weight_at] or 0.0) for p in points if p[i] is not None]
            total = sum(w for _, w in pairs)
            values.append(sum(v * w for v, w in pairs) / total if total > 0 else None)
    return (t, *values)


def roll_up(scope: Scope, step: int, points: Iterable[tuple]) -> list[tuple]:
    """``points`` (any order) as points of ``step``-second buckets, oldest first."""
    buckets: dict[int, list[tuple]] = {}
    for point in sorted(points, key=lambda p: p[0]):
        buckets.setdefault(int(point[0] // step) * step, []).append(point)
    return [aggregate(scope, t, group) for t, group in sorted(buckets.items())]


# --- Baselines and trends.


def around(points: Iterable[tuple], at: float, half_width: float) -> list[tuple]:
    """The points whose bucket starts within ``half_width`` seconds of ``at``, oldest first."""
    return sorted((p for p in points if abs(p[0] - at) <= half_width), key=lambda p: p[0])


def growth_per_week(points: Iterable[tuple[float, float | None]]) -> float | None:
    """The least-squares slope of ``(t, value)`` points, per week; None with fewer than two
    values or all at one time."""
    pairs = [(t, v) for t, v in points if v is not None]
    if len(pairs) < 2:
        return None
    mean_t = sum(t for t, _ in pairs) / len(pairs)
    mean_v = sum(v for _, v in pairs) / len(pairs)
    spread = sum((t - mean_t) ** 2 for t, _ in pairs)
    if spread == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in pairs) / spread
    return slope * WEEK


def workload_growth_per_week(
    pods: Iterable[Sequence[tuple[float, float | None]]], min_points: int = 24
) -> float | None:
    """A workload's proxy-memory growth per week: the median of its pods' own slopes, over the
    pods with at least ``min_points`` values. Per pod, because a rollout replaces the pods and
    their memory starts over: the slope of a sum across pods would read each rollout as a fall;
    the median, because one leaking pod should not be averaged away nor decide it alone."""
    slopes = []
    for points in pods:
        values = [(t, v) for t, v in points if v is not None]
        if len(values) >= min_points:
            slope = growth_per_week(values)
            if slope is not None:
                slopes.append(slope)
    return statistics.median(slopes) if slopes else None


def changes(points: Iterable[tuple[float, float | None]]) -> list[tuple[float, float]]:
    """``(t, value)`` at the first point and wherever the value differs from the one before:
    a leaf certificate's expiry history is the list of its renewals."""
    found: list[tuple[float, float]] = []
    for t, value in sorted(points, key=lambda p: p[0]):
        if value is None or (found and math.isclose(found[-1][1], value, abs_tol=0.5)):
            continue
        found.append((t, value))
    return found
