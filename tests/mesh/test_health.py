"""The health rules: HTTP workloads on their requests, TCP-only workloads on their connections."""

import pytest

from meshdash.mesh import health
from meshdash.mesh.health import (
    CRITICAL,
    HEALTHY,
    NO_TRAFFIC,
    NOT_MESHED,
    WARNING,
    HealthRules,
    classify_tcp,
    judge_workload,
)
from meshdash.mesh.model import Workload

RULES = HealthRules(
    tcp_critical_close_errors=0.05, tcp_warning_close_errors=0.01, tcp_min_closes_per_second=0.1
)


def _tcp(close_error_rate, closes_per_second=1.0, open_connections=3.0, meshed_pods=1):
    return classify_tcp(
        RULES,
        meshed_pods=meshed_pods,
        open_connections=open_connections,
        opened_per_second=closes_per_second,
        closes_per_second=closes_per_second,
        close_error_rate=close_error_rate,
    )


@pytest.mark.parametrize(
    ("share", "state"),
    [
        (0.0, HEALTHY),
        (0.01, HEALTHY),  # at the warning threshold: not above it
        (0.0101, WARNING),
        (0.05, WARNING),  # at the critical threshold
        (0.0501, CRITICAL),
        (1.0, CRITICAL),
    ],
)
def test_it_judges_tcp_close_errors_at_the_thresholds(share, state):
    assert _tcp(share) == state


def test_it_does_not_judge_the_share_of_too_few_closes():
    assert _tcp(1.0, closes_per_second=0.0999) == HEALTHY
    assert _tcp(1.0, closes_per_second=0.1) == CRITICAL
    # Long-lived connections that never close: traffic, nothing to judge.
    assert _tcp(None, closes_per_second=0.0) == HEALTHY


def test_it_calls_tcp_without_connections_no_traffic_and_without_proxy_not_meshed():
    assert _tcp(None, closes_per_second=0.0, open_connections=0.0) == NO_TRAFFIC
    assert _tcp(0.5, meshed_pods=0) == NOT_MESHED


def _workload(**fields) -> Workload:
    return Workload(namespace="shop", kind="deployment", name="w", meshed_pods=1, **fields)


def test_it_judges_a_workload_with_requests_on_them():
    busy = _workload(rps=5.0, success_rate=0.9, tcp_open_connections=4.0)
    assert judge_workload(RULES, busy, serves_http=True) == (CRITICAL, "http")


def test_it_judges_a_workload_serving_no_http_on_its_connections():
    cache = _workload(
        tcp_open_connections=4.0,
        tcp_opened_per_second=1.0,
        tcp_closed_per_second=1.0,
        tcp_close_errors_per_second=0.02,
        tcp_close_error_rate=0.02,
    )
    assert judge_workload(RULES, cache, serves_http=False) == (WARNING, "tcp")


def test_it_keeps_an_idle_http_workload_no_traffic_whatever_its_connections():
    # Probed over HTTP on its port: an HTTP server that nobody called, not a TCP one.
    idle = _workload(tcp_open_connections=1.0, tcp_opened_per_second=0.1)
    assert judge_workload(RULES, idle, serves_http=True) == (NO_TRAFFIC, "")
    silent = _workload()
    assert judge_workload(RULES, silent, serves_http=False) == (NO_TRAFFIC, "")
    unmeshed = _workload(tcp_open_connections=1.0)
    unmeshed.meshed_pods = 0
    assert judge_workload(RULES, unmeshed, serves_http=False) == (NOT_MESHED, "")


def test_it_states_the_order_of_the_health_states_as_they_rank():
    assert list(health.HEALTH_ORDER) == list(health.HEALTH_STATES)
    assert f"States, worst first: {', '.join(health.HEALTH_STATES)}." in health.__doc__
