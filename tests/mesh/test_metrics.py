"""The golden-metric arithmetic, checked against Prometheus's documented histogram_quantile
behaviour (and, in tests/collectors, against a real Prometheus)."""

import math

import pytest

from meshdash.mesh import metrics

INF = math.inf


def test_it_gives_the_success_rate_as_a_fraction():
    assert metrics.success_rate(9, 1) == 0.9
    assert metrics.success_rate(0, 4) == 0.0


def test_it_gives_no_success_rate_without_traffic():
    assert metrics.success_rate(0, 0) is None


def test_it_turns_a_count_over_a_window_into_a_rate():
    assert metrics.per_second(600, 60) == 10
    with pytest.raises(ValueError):
        metrics.per_second(1, 0)


def test_it_interpolates_linearly_inside_the_bucket():
    # 100 observations: 50 up to 10 ms, 40 more up to 20 ms, 10 more up to 30 ms.
    buckets = [(10, 50), (20, 90), (30, 100), (INF, 100)]
    assert metrics.histogram_quantile(0.5, buckets) == 10
    # rank 70 lies 20/40 of the way through (10, 20].
    assert metrics.histogram_quantile(0.7, buckets) == 15
    assert metrics.histogram_quantile(0.95, buckets) == pytest.approx(25)


def test_it_takes_zero_as_the_lower_bound_of_the_first_bucket():
    assert metrics.histogram_quantile(0.5, [(4, 10), (INF, 10)]) == 2


def test_it_answers_the_first_bound_when_it_is_not_positive():
    assert metrics.histogram_quantile(0.5, [(-1, 10), (INF, 10)]) == -1


def test_it_answers_the_highest_finite_bound_for_the_inf_bucket():
    # The 99th percentile falls among observations above 50 ms: Prometheus answers 50.
    assert metrics.histogram_quantile(0.99, [(10, 50), (50, 90), (INF, 100)]) == 50


def test_it_answers_none_without_an_inf_bucket():
    assert metrics.histogram_quantile(0.5, [(10, 5), (20, 10)]) is None


def test_it_answers_none_with_fewer_than_two_buckets():
    assert metrics.histogram_quantile(0.5, [(INF, 10)]) is None
    assert metrics.histogram_quantile(0.5, []) is None


def test_it_answers_none_without_observations():
    assert metrics.histogram_quantile(0.5, [(10, 0), (INF, 0)]) is None


def test_it_answers_infinities_outside_zero_to_one_and_none_for_nan():
    buckets = [(10, 5), (INF, 5)]
    assert metrics.histogram_quantile(-0.1, buckets) == -INF
    assert metrics.histogram_quantile(1.5, buckets) == INF
    assert metrics.histogram_quantile(math.nan, buckets) is None


def test_it_sorts_buckets_and_adds_duplicate_bounds():
    shuffled = [(INF, 50), (20, 40), (10, 10), (20, 0)]
    assert metrics.histogram_quantile(0.5, shuffled) == metrics.histogram_quantile(
        0.5, [(10, 10), (20, 40), (INF, 50)]
    )
    # Duplicates add up, as series of one bucket from two label sets do.
    assert metrics.histogram_quantile(0.5, [(10, 3), (10, 2), (INF, 10), (INF, 10)]) == 10


def test_it_raises_counts_that_go_down_to_the_running_maximum():
    # A bucket scraped a moment before its neighbour reads lower; Prometheus treats it as 40.
    broken = [(10, 40), (20, 30), (30, 50), (INF, 50)]
    fixed = [(10, 40), (20, 40), (30, 50), (INF, 50)]
    assert metrics.histogram_quantile(0.9, broken) == metrics.histogram_quantile(0.9, fixed)
    assert metrics.histogram_quantile(0.9, broken) == 25


def test_it_answers_the_upper_bound_of_the_bucket_where_the_rank_lands_exactly():
    assert metrics.histogram_quantile(0.5, [(1, 0), (2, 5), (3, 10), (INF, 10)]) == 2


def test_it_parses_bucket_bounds():
    assert metrics.parse_le("+Inf") == INF
    assert metrics.parse_le("1000") == 1000
    for bad in ("", "NaN", "ten"):
        with pytest.raises(ValueError):
            metrics.parse_le(bad)


def test_it_parses_a_linkerd_identity():
    identity = metrics.parse_identity("web.shop.serviceaccount.identity.linkerd.cluster.local")
    assert identity == metrics.Identity("web", "shop", "linkerd", "cluster.local")


def test_it_rejects_what_is_not_a_linkerd_identity():
    for text in (
        "",
        "web.shop",
        "web.shop.svc.cluster.local",
        "..serviceaccount.identity.x.y",
        "web.shop.serviceaccount.identity",
    ):
        assert metrics.parse_identity(text) is None


def test_it_gives_several_quantiles_as_one_at_a_time():
    buckets = [(INF, 100), (30, 100), (10, 50), (20, 90), (10, 0)]
    qs = (0.5, 0.7, 0.95, 0.99, 1.0, -1, math.nan)
    expected = [metrics.histogram_quantile(q, buckets) for q in qs]
    assert metrics.histogram_quantiles(qs, buckets) == expected
    assert expected[:3] == [10, 15, pytest.approx(25)] and expected[-1] is None
    assert metrics.histogram_quantiles((0.5, 1.5), [(10, 0), (INF, 0)]) == [None, INF]


def test_it_classifies_grpc_route_statuses_with_linkerds_default_failure_codes():
    failures = {"UNKNOWN", "DEADLINE_EXCEEDED", "PERMISSION_DENIED", "INTERNAL", "UNAVAILABLE"}
    for name in failures | {"DATA_LOSS"}:
        assert not metrics.grpc_route_succeeded(name, "")
    for code in ("2", "4", "7", "13", "14", "15"):
        assert not metrics.grpc_route_succeeded(code, "")
    for name in ("OK", "NOT_FOUND", "CANCELLED", "INVALID_ARGUMENT", "UNAUTHENTICATED", "5", "0"):
        assert metrics.grpc_route_succeeded(name, "")
    assert not metrics.grpc_route_succeeded("OK", "RESPONSE_STREAM_TIMEOUT")


def test_it_classifies_http_route_statuses():
    assert metrics.http_route_succeeded("200", "")
    assert metrics.http_route_succeeded("404", "")
    assert not metrics.http_route_succeeded("503", "")
    assert not metrics.http_route_succeeded("", "FAIL_FAST")


def test_it_normalises_proxy_versions_for_comparison():
    assert metrics.normalise_version("v2.294.0") == "2.294.0"
    assert metrics.normalise_version(" 2.294.0 ") == "2.294.0"
    assert metrics.normalise_version("edge-25.4.4") == "edge-25.4.4"
    assert metrics.normalise_version("v") == "v"
    assert metrics.versions_comparable("v2.294.0", "2.300.0")
    assert metrics.versions_comparable("stable-2.14.10", "edge-25.4.4")
    assert not metrics.versions_comparable("edge-25.4.4", "2.294.0")
    assert not metrics.versions_comparable("", "2.294.0")
