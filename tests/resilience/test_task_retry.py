"""The Celery task over a failing collection: retried with exponential backoff, then given up;
once the source answers again, the task's next run recovers."""

import pytest
from celery import signals
from celery.utils.time import get_exponential_backoff_interval

from meshdash.collectors.collect import CollectionFailed
from meshdash.collectors.prometheus import collection_queries
from meshdash.collectors.run import run_collection
from meshdash.collectors.tasks import collect_window
from tests.resilience.conftest import WINDOW, assert_recovered, assert_serves_last_good, read_good

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture
def retries():
    """(retries so far, countdown) of every retry the task asks for."""
    seen = []

    def record(sender, request, reason, **kwargs):
        if sender.name == collect_window.name:
            seen.append((request.retries, reason.when))

    signals.task_retry.connect(record, weak=False)
    yield seen
    signals.task_retry.disconnect(record)


def test_it_retries_a_failed_collection_with_backoff(prometheus_proxy, retries, api):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)

    prometheus_proxy.status = 500
    asked_before = prometheus_proxy.requests
    # Run eagerly, in this process: each retry runs the collection again at once.
    result = collect_window.apply(args=(WINDOW,))
    assert result.state == "FAILURE"
    assert isinstance(result.result, CollectionFailed)
    assert "Prometheus answered an error" in str(result.result)

    policy = collect_window
    assert policy.max_retries == 5
    assert [done for done, _ in retries] == list(range(policy.max_retries))
    for done, countdown in retries:
        ceiling = get_exponential_backoff_interval(
            policy.retry_backoff, done, policy.retry_backoff_max, full_jitter=False
        )
        assert 0 <= countdown <= ceiling <= 120  # full jitter: anywhere up to the ceiling
    assert [get_exponential_backoff_interval(2, n, 120, full_jitter=False) for n in range(8)] == [
        2,
        4,
        8,
        16,
        32,
        64,
        120,
        120,
    ]
    # Every attempt ran the whole collection against Prometheus.
    queries = sum(map(len, collection_queries(WINDOW).values()))
    assert prometheus_proxy.requests - asked_before == queries * (1 + policy.max_retries)
    assert_serves_last_good(api, good, "inbound: Prometheus answered an error")

    prometheus_proxy.heal()
    assert collect_window.apply(args=(WINDOW,)).get() == "ok"
    assert_recovered(api, good)
