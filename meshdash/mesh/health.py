"""One set of health rules, applied to every workload, edge and namespace meshdash shows.

A workload is judged on its application's HTTP (or gRPC) requests; one that serves no HTTP at
all (a database, a cache: opaque TCP) on its TCP connections. Linkerd's own traffic (probes,
scrapes) never counts.

States, worst first: critical, warning, not-meshed, no-traffic, healthy. ``HEALTH_ORDER`` gives
each its rank so that "worst first" is a plain numeric sort.
"""

from dataclasses import dataclass

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
    min_rps: float = 0.1  # below this request rate, success rate and latency are not judged
    # TCP-only workloads: the share of connections closed with an error (errno).
    tcp_critical_close_errors: float = 0.05  # above this share: critical
    tcp_warning_close_errors: float = 0.01  # above this share: warning
    tcp_min_closes_per_second: float = 0.1  # fewer closes than this: the share is not judged


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


def classify_tcp(
    rules: HealthRules,
    *,
    meshed_pods: int,
    open_connections: float,
    opened_per_second: float,
    closes_per_second: float,
    close_error_rate: float | None,
) -> str:
    """The health state of a workload that serves TCP only, from its inbound connections."""
    if meshed_pods <= 0:
        return NOT_MESHED
    if open_connections <= 0 and opened_per_second <= 0 and closes_per_second <= 0:
        return NO_TRAFFIC
    if close_error_rate is None or closes_per_second < rules.tcp_min_closes_per_second:
        return HEALTHY
    if close_error_rate > rules.tcp_critical_close_errors:
        return CRITICAL
    if close_error_rate > rules.tcp_warning_close_errors:
        return WARNING
    return HEALTHY


def judge_workload(rules: HealthRules, workload: Workload, *, serves_http: bool) -> tuple[str, str]:
    """(health state, what it was judged on: "http", "tcp" or "") of ``workload``.

    ``serves_http``: its proxies saw HTTP requests on the application's port over the window,
    the application's own or the kubelet's probes of it; such a workload is judged on its
    requests even when it had none.
    """
    tcp_active = (
        workload.tcp_open_connections > 0
        or workload.tcp_opened_per_second > 0
        or workload.tcp_closed_per_second > 0
    )
    if serves_http or workload.rps > 0 or not tcp_active:
        state = classify(
            rules,
            meshed_pods=workload.meshed_pods,
            rps=workload.rps,
            success_rate=workload.success_rate,
            latency_ms_p99=workload.latency_ms_p99,
        )
        return state, "http" if state not in (NOT_MESHED, NO_TRAFFIC) else ""
    state = classify_tcp(
        rules,
        meshed_pods=workload.meshed_pods,
        open_connections=workload.tcp_open_connections,
        opened_per_second=workload.tcp_opened_per_second,
        closes_per_second=workload.tcp_closed_per_second,
        close_error_rate=workload.tcp_close_error_rate,
    )
    return state, "tcp" if state != NOT_MESHED else ""


def judge_edge(rules: HealthRules, edge: Edge) -> str:
    """The health state of ``edge``, from the client's requests over it.

    An edge that carries TCP connections only is healthy: the client's proxy counts its
    connections, and nothing on the edge says whether they went well.
    """
    if edge.tcp_only:
        return HEALTHY
    return classify(
        rules,
        meshed_pods=1,
        rps=edge.rps or 0.0,
        success_rate=edge.success_rate,
        latency_ms_p99=edge.latency_ms_p99,
    )
