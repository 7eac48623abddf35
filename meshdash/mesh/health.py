"""One set of health rules, applied to every workload, edge and namespace meshdash shows.

States, worst first: critical, warning, no-traffic, not-meshed, healthy. ``HEALTH_ORDER`` gives
each its rank so that "worst first" is a plain numeric sort.
"""

from dataclasses import dataclass

CRITICAL = "critical"
WARNING = "warning"
NO_TRAFFIC = "no-traffic"
NOT_MESHED = "not-meshed"
HEALTHY = "healthy"

HEALTH_STATES: tuple[str, ...] = (CRITICAL, WARNING, NOT_MESHED, NO_TRAFFIC, HEALTHY)
HEALTH_ORDER: dict[str, int] = {state: rank for rank, state in enumerate(HEALTH_STATES)}


@dataclass(frozen=True)
class HealthRules:
    critical_success: float = 0.95  # below this success rate: critical
    warning_success: float = 0.99  # below this: warning
    warning_p99_ms: float = 1000.0  # p99 above this: warning
    min_rps: float = 0.1  # below this request rate, success rate and latency are not judged


def classify(
    rules: HealthRules,
    *,
    meshed_pods: int,
    rps: float,
    success_rate: float | None,
    latency_ms_p99: float | None,
) -> str:
    """The health state of something with these golden metrics."""
    if meshed_pods <= 0:
        return NOT_MESHED
    if rps < rules.min_rps or success_rate is None:
        return NO_TRAFFIC
    if success_rate < rules.critical_success:
        return CRITICAL
    if success_rate < rules.warning_success:
        return WARNING
    if latency_ms_p99 is not None and latency_ms_p99 > rules.warning_p99_ms:
        return WARNING
    return HEALTHY
