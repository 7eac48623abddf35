"""Short human-readable durations for a dashboard: "42 s", "3 min", "5 h", "12 d"."""


def short_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    value = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if value < 90:
        return f"{sign}{value:.0f} s"
    if value < 90 * 60:
        return f"{sign}{value / 60:.0f} min"
    if value < 48 * 3600:
        return f"{sign}{value / 3600:.0f} h"
    return f"{sign}{value / 86400:.0f} d"


def days_left(not_after: float | None, now: float) -> float | None:
    """Days until ``not_after`` (unix seconds); negative once it has passed."""
    if not_after is None:
        return None
    return (not_after - now) / 86400
