"""One set of health rules, applied to every workload, edge and namespace meshdash shows.

A workload is judged on its application's HTTP (or gRPC) requests; one that serves no HTTP at
all (a database, a cache: opaque TCP) on its TCP connections. Linkerd's own traffic (probes,
scrapes) never counts.

States, worst first: critical, warning, not-meshed, no-traffic, healthy. ``HEALTH_ORDER`` gives
each its rank so that "worst first" is a plain numeric sort.
"""

from dataclasses import dataclass
from typing import NamedTuple

from meshdash.mesh.model import Edge, Workload

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
    # Fewer requests than this in the window: success rate and latency are not judged (one
    # failure in six requests says little). A count, not a rate, so every window agrees.
    min_requests: float = 20.0
    # TCP-only workloads: the share of connections closed with an error (errno).
    tcp_critical_close_errors: float = 0.05  # above this share: critical
    tcp_warning_close_errors: float = 0.01  # above this share: warning
    tcp_min_closes_per_second: float = 0.1  # fewer closes than this: the share is not judged


class Assessment(NamedTuple):
    """A health state, what it was judged on ("http", "tcp" or ""), and why, in words."""

    state: str
    judged_on: str
    reason: str


def _percent(share: float) -> str:
    text = f"{share * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.3g} ms"


def _count(value: float) -> str:
    return f"{value:.0f}" if value >= 1 or value == 0 else f"{value:.2g}"


def assess(
    rules: HealthRules,
    *,
    meshed_pods: int,
    rps: float,
    success_rate: float | None,
    latency_ms_p99: float | None,
    requests: float | None = None,
) -> tuple[str, str]:
    """(health state, reason) of something with these golden metrics. ``requests``: how many
    the window held (``rps`` times its length); None judges whatever had any."""
    if meshed_pods <= 0:
        return NOT_MESHED, "no meshed pods: Linkerd measures nothing"
    if rps <= 0 or success_rate is None:
        return NO_TRAFFIC, "no requests in the window"
    if requests is not None and requests < rules.min_requests:
        return NO_TRAFFIC, (
            f"{_count(requests)} requests in the window, fewer than "
            f"{_count(rules.min_requests)}: not judged"
        )
    if success_rate < rules.critical_success:
        return CRITICAL, (
            f"success {_percent(success_rate)} is below {_percent(rules.critical_success)}"
        )
    if success_rate < rules.warning_success:
        return WARNING, (
            f"success {_percent(success_rate)} is below {_percent(rules.warning_success)}"
        )
    if latency_ms_p99 is not None and latency_ms_p99 > rules.warning_p99_ms:
        return WARNING, f"p99 {_ms(latency_ms_p99)} is above {_ms(rules.warning_p99_ms)}"
    reason = f"success {_percent(success_rate)} (at least {_percent(rules.warning_success)})"
    if latency_ms_p99 is not None:
        reason += f", p99 {_ms(latency_ms_p99)} (at most {_ms(rules.warning_p99_ms)})"
    return HEALTHY, reason


def classify(
    rules: HealthRules,
    *,
    meshed_pods: int,
    rps: float,
    success_rate: float | None,
    latency_ms_p99: float | None,
    requests: float | None = None,
) -> str:
    """The health state of something with these golden metrics (``assess`` without why)."""
    return assess(
        rules,
        meshed_pods=meshed_pods,
        rps=rps,
        success_rate=success_rate,
        latency_ms_p99=latency_ms_p99,
        requests=requests,
    )[0]


def assess_tcp(
    rules: HealthRules,
    *,
    meshed_pods: int,
    open_connections: float,
    opened_per_second: float,
    closes_per_second: float,
    close_error_rate: float | None,
) -> tuple[str, str]:
    """(health state, reason) of a workload that serves TCP only, from its inbound
    connections."""
    if meshed_pods <= 0:
        return NOT_MESHED, "no meshed pods: Linkerd measures nothing"
    if open_connections <= 0 and opened_per_second <= 0 and closes_per_second <= 0:
        return NO_TRAFFIC, "no TCP connections in the window"
    if close_error_rate is None or closes_per_second < rules.tcp_min_closes_per_second:
        return HEALTHY, "too few connections closed to judge their errors"
    failed = f"{_percent(close_error_rate)} of closed connections failed"
    if close_error_rate > rules.tcp_critical_close_errors:
        return CRITICAL, f"{failed}, above {_percent(rules.tcp_critical_close_errors)}"
    if close_error_rate > rules.tcp_warning_close_errors:
        return WARNING, f"{failed}, above {_percent(rules.tcp_warning_close_errors)}"
    return HEALTHY, f"{failed} (at most {_percent(rules.tcp_warning_close_errors)})"


def classify_tcp(
    rules: HealthRules,
    *,
    meshed_pods: int,
    open_connections: float,
    opened_per_second: float,
    closes_per_second: float,
    close_error_rate: float | None,
) -> str:
    """The health state of a workload that serves TCP only (``assess_tcp`` without why)."""
    return assess_tcp(
        rules,
        meshed_pods=meshed_pods,
        open_connections=open_connections,
        opened_per_second=opened_per_second,
        closes_per_second=closes_per_second,
        close_error_rate=close_error_rate,
    )[0]


def _requests(rps: float, window_seconds: float | None) -> float | None:
    return None if window_seconds is None else rps * window_seconds


def assess_workload(
    rules: HealthRules,
    workload: Workload,
    *,
    serves_http: bool,
    window_seconds: float | None = None,
) -> Assessment:
    """How ``workload`` is judged. ``serves_http``: its proxies saw HTTP requests on the
    application's port over the window, the application's own or the kubelet's probes of it;
    such a workload is judged on its requests even when it had none. ``window_seconds``: the
    window's length, for the least number of requests judged."""
    tcp_active = (
        workload.tcp_open_connections > 0
        or workload.tcp_opened_per_second > 0
        or workload.tcp_closed_per_second > 0
    )
    if serves_http or workload.rps > 0 or not tcp_active:
        state, reason = assess(
            rules,
            meshed_pods=workload.meshed_pods,
            rps=workload.rps,
            success_rate=workload.success_rate,
            latency_ms_p99=workload.latency_ms_p99,
            requests=_requests(workload.rps, window_seconds),
        )
        return Assessment(state, "http" if state not in (NOT_MESHED, NO_TRAFFIC) else "", reason)
    state, reason = assess_tcp(
        rules,
        meshed_pods=workload.meshed_pods,
        open_connections=workload.tcp_open_connections,
        opened_per_second=workload.tcp_opened_per_second,
        closes_per_second=workload.tcp_closed_per_second,
        close_error_rate=workload.tcp_close_error_rate,
    )
    return Assessment(state, "tcp" if state != NOT_MESHED else "", reason)


def judge_workload(
    rules: HealthRules,
    workload: Workload,
    *,
    serves_http: bool,
    window_seconds: float | None = None,
) -> tuple[str, str]:
    """(health state, what it was judged on: "http", "tcp" or "") of ``workload``
    (``assess_workload`` without why)."""
    state, judged_on, _ = assess_workload(
        rules, workload, serves_http=serves_http, window_seconds=window_seconds
    )
    return state, judged_on


def assess_edge(
    rules: HealthRules, edge: Edge, *, window_seconds: float | None = None
) -> tuple[str, str]:
    """(health state, reason) of ``edge``, from the client's requests over it, by the rules
    workloads are judged by.

    An edge that carries TCP connections only is healthy: the client's proxy counts its
    connections, and nothing on the edge says whether they went well.
    """
    if edge.tcp_only:
        return HEALTHY, "TCP connections only: nothing tells how they went"
    rps = edge.rps or 0.0
    return assess(
        rules,
        meshed_pods=1,
        rps=rps,
        success_rate=edge.success_rate,
        latency_ms_p99=edge.latency_ms_p99,
        requests=_requests(rps, window_seconds),
    )


def judge_edge(rules: HealthRules, edge: Edge, *, window_seconds: float | None = None) -> str:
    """The health state of ``edge`` (``assess_edge`` without why)."""
    return assess_edge(rules, edge, window_seconds=window_seconds)[0]
