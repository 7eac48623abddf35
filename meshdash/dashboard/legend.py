"""The health thresholds in words, for the legend beside every list: the rules the collector
judged this snapshot by (it stores them with the snapshot), never rules of the web process."""

import dataclasses

from meshdash.lib.templatetags.meshdash import ms
from meshdash.mesh.health import CRITICAL, HEALTHY, NO_TRAFFIC, NOT_MESHED, WARNING, HealthRules

_FIELDS = {f.name for f in dataclasses.fields(HealthRules)}


def rules_of(stored: dict | None) -> HealthRules:
    """The rules a snapshot was judged by; the defaults for fields it does not carry (a
    snapshot written before it stored them)."""
    return HealthRules(**{k: float(v) for k, v in (stored or {}).items() if k in _FIELDS})


def percent(share: float) -> str:
    """A threshold as people write it: "99 %", "99.5 %"."""
    return f"{share * 100:.2f}".rstrip("0").rstrip(".") + " %"


def _count(value: float) -> str:
    return f"{value:g}"


def health_legend(stored: dict | None) -> list[tuple[str, str]]:
    """(state, when a workload is in it) in the order of the states, worst first."""
    r = rules_of(stored)
    return [
        (
            CRITICAL,
            f"success below {percent(r.critical_success)}; TCP only: more than "
            f"{percent(r.tcp_critical_close_errors)} of closed connections failed",
        ),
        (
            WARNING,
            f"success below {percent(r.warning_success)} or p99 above {ms(r.warning_p99_ms)}; "
            f"TCP only: more than {percent(r.tcp_warning_close_errors)} failed",
        ),
        (NOT_MESHED, "no pod has a Linkerd proxy: nothing is measured"),
        (
            NO_TRAFFIC,
            f"fewer than {_count(r.min_requests)} requests in the window: not judged",
        ),
        (HEALTHY, "none of the above"),
    ]
