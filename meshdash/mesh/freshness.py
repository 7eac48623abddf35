"""Whether a window's snapshot may be shown as current: the rule behind the stale banner.

A collection that fails says so, but a stopped worker, a stopped beat or a Prometheus that
hangs without answering fail nothing: the snapshot just grows old. So age alone makes a
snapshot stale once it is older than a few of its window's refresh intervals.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Staleness:
    stale: bool
    reason: str  # "" when fresh


FRESH = Staleness(False, "")


def judge_staleness(
    age_seconds: float,
    refresh_seconds: float,
    stale_after_intervals: float,
    failure_reason: str | None = None,
) -> Staleness:
    """Stale when the last collection failed since the snapshot was taken (``failure_reason``),
    or when the snapshot is older than ``stale_after_intervals`` refresh intervals: at exactly
    that age it is still fresh."""
    too_old = age_seconds > refresh_seconds * stale_after_intervals
    if failure_reason:
        if too_old:
            return Staleness(
                True,
                f"no successful collection for {exact_duration(age_seconds)}; "
                f"the last one failed: {failure_reason}",
            )
        return Staleness(True, f"the last collection failed: {failure_reason}")
    if too_old:
        return Staleness(True, f"no collection for {exact_duration(age_seconds)}")
    return FRESH


def exact_duration(seconds: float) -> str:
    """Whole seconds, minutes and hours: "42 s", "2 min 9 s", "1 h 0 min 5 s"."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
