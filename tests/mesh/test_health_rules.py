"""Each health rule at its threshold: exactly at it, the nearest float above and the nearest
below, for the rules judged on requests and those judged on TCP connections."""

import dataclasses
import math

import pytest

from meshdash.mesh.health import (
    CRITICAL,
    HEALTHY,
    NO_TRAFFIC,
    NOT_MESHED,
    WARNING,
    HealthRules,
    assess,
    assess_edge,
    assess_workload,
    classify,
    classify_tcp,
    judge_workload,
)
from meshdash.mesh.model import Edge, Workload

RULES = HealthRules()


def above(value: float) -> float:
    return math.nextafter(value, math.inf)


def below(value: float) -> float:
    return math.nextafter(value, -math.inf)


def http(rps=10.0, success_rate=1.0, latency_ms_p99=10.0, meshed_pods=1) -> str:
    return classify(
        RULES,
        meshed_pods=meshed_pods,
        rps=rps,
        success_rate=success_rate,
        latency_ms_p99=latency_ms_p99,
    )


def tcp(close_error_rate=0.0, closes_per_second=1.0, open_connections=2.0, meshed_pods=1) -> str:
    return classify_tcp(
        RULES,
        meshed_pods=meshed_pods,
        open_connections=open_connections,
        opened_per_second=closes_per_second,
        closes_per_second=closes_per_second,
        close_error_rate=close_error_rate,
    )


def test_it_uses_the_documented_thresholds():
    assert dataclasses.asdict(RULES) == {
        "critical_success": 0.95,
        "warning_success": 0.99,
        "warning_p99_ms": 1000.0,
        "min_requests": 20.0,
        "tcp_critical_close_errors": 0.05,
        "tcp_warning_close_errors": 0.01,
        "tcp_min_closes_per_second": 0.1,
    }


@pytest.mark.parametrize(
    ("success_rate", "state"),
    [
        (below(RULES.critical_success), CRITICAL),
        (RULES.critical_success, WARNING),  # critical only below it
        (above(RULES.critical_success), WARNING),
        (below(RULES.warning_success), WARNING),
        (RULES.warning_success, HEALTHY),  # a warning only below it
        (above(RULES.warning_success), HEALTHY),
    ],
)
def test_it_judges_the_success_rate_at_its_thresholds(success_rate, state):
    assert http(success_rate=success_rate) == state


@pytest.mark.parametrize(
    ("p99", "state"),
    [
        (below(RULES.warning_p99_ms), HEALTHY),
        (RULES.warning_p99_ms, HEALTHY),  # a warning only above it
        (above(RULES.warning_p99_ms), WARNING),
    ],
)
def test_it_judges_the_p99_latency_at_its_threshold(p99, state):
    assert http(latency_ms_p99=p99) == state


def test_it_leaves_a_missing_latency_unjudged():
    assert http(latency_ms_p99=None) == HEALTHY


@pytest.mark.parametrize(
    ("requests", "state"),
    [
        (below(RULES.min_requests), NO_TRAFFIC),
        (RULES.min_requests, CRITICAL),  # judged from this many requests up
        (above(RULES.min_requests), CRITICAL),
    ],
)
def test_it_judges_requests_only_from_the_least_number_in_the_window(requests, state):
    assert (
        classify(
            RULES,
            meshed_pods=1,
            rps=requests / 60,
            success_rate=0.0,
            latency_ms_p99=10.0,
            requests=requests,
        )
        == state
    )


def test_it_does_not_call_one_failure_in_six_requests_critical():
    six = Workload("shop", "deployment", "web", meshed_pods=1, total_pods=1)
    six.rps, six.success_rate = 6 / 60, 5 / 6
    state, judged_on, reason = assess_workload(RULES, six, serves_http=True, window_seconds=60)
    assert (state, judged_on) == (NO_TRAFFIC, "")
    assert reason == "6 requests in the window, fewer than 20: not judged"
    # The same rate over ten minutes is enough requests to judge.
    assert assess_workload(RULES, six, serves_http=True, window_seconds=600).state == CRITICAL


def test_it_judges_edges_by_the_same_floor():
    edge = Edge("shop", "deployment", "web", "shop", "deployment", "api", rps=0.1)
    edge.success_rate = 0.5
    assert assess_edge(RULES, edge, window_seconds=60) == (
        NO_TRAFFIC,
        "6 requests in the window, fewer than 20: not judged",
    )
    assert assess_edge(RULES, edge, window_seconds=600)[0] == CRITICAL


@pytest.mark.parametrize(
    ("success_rate", "p99", "state", "reason"),
    [
        (0.931, 10.0, CRITICAL, "success 93.1 % is below 95 %"),
        (0.987, 10.0, WARNING, "success 98.7 % is below 99 %"),
        (1.0, 1200.0, WARNING, "p99 1200 ms is above 1000 ms"),
        (0.999, 120.0, HEALTHY, "success 99.9 % (at least 99 %), p99 120 ms (at most 1000 ms)"),
    ],
)
def test_it_says_why(success_rate, p99, state, reason):
    assert assess(
        RULES, meshed_pods=1, rps=10.0, success_rate=success_rate, latency_ms_p99=p99
    ) == (state, reason)


def test_it_says_why_on_tcp():
    assert assess_workload(RULES, tcp_workload(0.2), serves_http=False).reason == (
        "20 % of closed connections failed, above 5 %"
    )


def test_it_calls_requests_without_a_success_rate_no_traffic_and_unmeshed_not_meshed():
    assert http(success_rate=None) == NO_TRAFFIC
    assert http(meshed_pods=0, success_rate=0.0) == NOT_MESHED


@pytest.mark.parametrize(
    ("share", "state"),
    [
        (below(RULES.tcp_warning_close_errors), HEALTHY),
        (RULES.tcp_warning_close_errors, HEALTHY),  # a warning only above it
        (above(RULES.tcp_warning_close_errors), WARNING),
        (below(RULES.tcp_critical_close_errors), WARNING),
        (RULES.tcp_critical_close_errors, WARNING),  # critical only above it
        (above(RULES.tcp_critical_close_errors), CRITICAL),
    ],
)
def test_it_judges_the_share_of_connections_closed_with_an_error_at_its_thresholds(share, state):
    assert tcp(close_error_rate=share) == state


@pytest.mark.parametrize(
    ("closes", "state"),
    [
        (below(RULES.tcp_min_closes_per_second), HEALTHY),  # too few closes to judge a share
        (RULES.tcp_min_closes_per_second, CRITICAL),  # judged from this rate up
        (above(RULES.tcp_min_closes_per_second), CRITICAL),
    ],
)
def test_it_judges_close_errors_only_from_the_least_rate_of_closes(closes, state):
    assert tcp(close_error_rate=1.0, closes_per_second=closes) == state


def test_it_calls_tcp_without_a_share_healthy_idle_no_traffic_and_unmeshed_not_meshed():
    assert tcp(close_error_rate=None) == HEALTHY
    assert tcp(closes_per_second=0.0, open_connections=0.0) == NO_TRAFFIC
    assert tcp(meshed_pods=0, close_error_rate=1.0) == NOT_MESHED


def tcp_workload(close_error_rate: float, closes_per_second: float = 1.0) -> Workload:
    return Workload(
        namespace="data",
        kind="statefulset",
        name="postgres",
        meshed_pods=1,
        tcp_open_connections=2.0,
        tcp_opened_per_second=closes_per_second,
        tcp_closed_per_second=closes_per_second,
        tcp_close_errors_per_second=close_error_rate * closes_per_second,
        tcp_close_error_rate=close_error_rate,
    )


@pytest.mark.parametrize(
    ("share", "state"),
    [
        (RULES.tcp_warning_close_errors, HEALTHY),
        (above(RULES.tcp_warning_close_errors), WARNING),
        (RULES.tcp_critical_close_errors, WARNING),
        (above(RULES.tcp_critical_close_errors), CRITICAL),
    ],
)
def test_it_judges_a_workload_serving_no_http_on_its_connections_at_the_thresholds(share, state):
    assert judge_workload(RULES, tcp_workload(share), serves_http=False) == (state, "tcp")


def test_it_judges_a_tcp_workload_with_too_few_closes_healthy_on_its_connections():
    quiet = tcp_workload(1.0, closes_per_second=below(RULES.tcp_min_closes_per_second))
    assert judge_workload(RULES, quiet, serves_http=False) == (HEALTHY, "tcp")


def test_it_judges_a_workload_with_http_on_its_requests_whatever_its_connections():
    busy = tcp_workload(1.0)
    busy.rps, busy.success_rate = RULES.min_requests / 60, RULES.warning_success
    assert judge_workload(RULES, busy, serves_http=True) == (HEALTHY, "http")
    busy.success_rate = below(RULES.critical_success)
    assert judge_workload(RULES, busy, serves_http=True) == (CRITICAL, "http")
