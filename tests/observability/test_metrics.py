"""/metrics: who may read it, and what the workers' collections and the store make of it."""

import time

import pytest
from django.contrib.auth.models import User

from meshdash.mesh.model import Snapshot, Workload
from meshdash.observability import collection, metrics
from meshdash.observability.server import allowed, metrics_app
from meshdash.store import SnapshotStore, StoreUnavailable
from tests import servers
from tests.accounts.people import make_bookmark
from tests.observability.metrics_client import call, samples, scrape, value

pytestmark = pytest.mark.django_db


def environ(remote: str, authorization: str = "") -> dict:
    return {"REMOTE_ADDR": remote} | (
        {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    )


def test_it_answers_only_its_networks_by_default(settings):
    assert settings.MESHDASH_METRICS_NETWORKS == ["127.0.0.0/8", "::1"]
    assert settings.MESHDASH_METRICS_TOKEN == ""
    assert allowed(environ("127.0.0.1"))
    assert allowed(environ("::1"))
    assert not allowed(environ("10.244.1.7"))
    assert not allowed(environ("10.244.1.7", "Bearer "))


def test_it_answers_a_configured_network(settings):
    settings.MESHDASH_METRICS_NETWORKS = ["10.244.0.0/16"]
    assert allowed(environ("10.244.1.7"))
    assert not allowed(environ("127.0.0.1"))


def test_it_answers_the_bearer_token_from_anywhere(settings):
    settings.MESHDASH_METRICS_NETWORKS = []
    settings.MESHDASH_METRICS_TOKEN = "s3cret-token"
    assert allowed(environ("10.244.1.7", "Bearer s3cret-token"))
    assert allowed(environ("10.244.1.7", "bearer s3cret-token"))
    assert not allowed(environ("10.244.1.7", "Bearer wrong"))
    assert not allowed(environ("10.244.1.7", "Basic s3cret-token"))
    assert not allowed(environ("127.0.0.1"))


def test_it_refuses_strangers_and_other_paths(redis_client, settings):
    app = metrics_app()
    status, text = call(app, remote="10.1.2.3")
    assert status == "403 Forbidden"
    assert "meshdash" not in text
    assert call(app, path="/admin/")[0] == "404 Not Found"
    status, text = call(app, remote="10.1.2.3", headers={"Authorization": "Bearer x"})
    assert status == "403 Forbidden"
    settings.MESHDASH_METRICS_TOKEN = "x"
    assert call(app, remote="10.1.2.3", headers={"Authorization": "Bearer x"})[0] == "200 OK"


def test_it_exports_what_the_workers_recorded_of_their_collections(redis_client):
    now = time.time()
    collection.record(
        "1m",
        "ok",
        started_at=now - 3,
        finished_at=now - 1,
        promql_queries=9,
        kubernetes_requests=7,
        workloads=40,
    )
    collection.record(
        "1m",
        "partial",
        started_at=now - 0.5,
        finished_at=now,
        promql_queries=8,
        checks_seconds=0.125,
    )
    collection.record("1m", "skipped", started_at=now)
    collection.record(
        "10m",
        "failed",
        started_at=now - 30,
        finished_at=now - 5,
        reason="sources",
        errors={"collection": "golden metrics: connection refused; workload list: ..."},
    )
    found = scrape()
    assert value(found, "meshdash_store_up") == 1
    assert value(found, "meshdash_collections_total", window="1m", status="ok") == 1
    assert value(found, "meshdash_collections_total", window="1m", status="partial") == 1
    assert value(found, "meshdash_collections_total", window="1m", status="skipped") == 1
    assert value(found, "meshdash_collections_total", window="1m", status="failed") == 0
    assert value(found, "meshdash_collections_total", window="1h", status="ok") == 0
    assert value(found, "meshdash_collection_failures_total", window="10m", reason="sources") == 1
    assert value(found, "meshdash_collection_failures_total", window="1m", reason="store") == 0
    # Skipped runs collected nothing: not in the durations.
    name = "meshdash_collection_duration_seconds"
    assert value(found, f"{name}_count", window="1m") == 2
    assert value(found, f"{name}_sum", window="1m") == pytest.approx(2.5)
    assert value(found, f"{name}_bucket", window="1m", le="0.5") == 1
    assert value(found, f"{name}_bucket", window="1m", le="2.5") == 2
    assert value(found, f"{name}_bucket", window="1m", le="+Inf") == 2
    assert value(found, f"{name}_bucket", window="10m", le="20.0") == 0
    assert value(found, f"{name}_bucket", window="10m", le="30.0") == 1
    last = "meshdash_collection_last_success_timestamp_seconds"
    assert value(found, last, window="1m") == pytest.approx(now)
    assert value(found, last, window="10m") is None  # it never succeeded
    assert value(found, "meshdash_collection_promql_queries", window="1m") == 8
    assert value(found, "meshdash_collection_kubernetes_requests", window="1m") == 0
    assert value(found, "meshdash_collection_promql_queries", window="10m") == 0
    assert value(found, "meshdash_collection_checks_seconds", window="1m") == 0.125
    assert value(found, "meshdash_collection_checks_seconds", window="10m") is None
    # A run without checks (here a failure) takes the last run's figure away.
    collection.record("1m", "failed", started_at=now, finished_at=now + 1, reason="sources")
    assert value(scrape(), "meshdash_collection_checks_seconds", window="1m") is None


def test_it_refuses_a_status_or_reason_outside_the_bounded_sets(redis_client):
    with pytest.raises(ValueError, match="status"):
        collection.record("1m", "exploded", started_at=time.time())
    with pytest.raises(ValueError, match="reason"):
        collection.record("1m", "failed", started_at=time.time(), reason="connection refused")


def test_it_exports_the_snapshots_age_and_redis_memory(redis_client, settings):
    store = SnapshotStore.from_settings()
    workloads = [Workload(namespace="shop", kind="deployment", name=f"w{i}") for i in range(3)]
    store.write(Snapshot(window="10m", taken_at=time.time() - 42, workloads=workloads))
    found = scrape()
    assert value(found, "meshdash_snapshot_age_seconds", window="10m") == pytest.approx(42, abs=2)
    assert value(found, "meshdash_snapshot_workloads", window="10m") == 3
    assert value(found, "meshdash_snapshot_age_seconds", window="1m") is None
    assert value(found, "meshdash_redis_memory_used_bytes", redis="store") > 0
    assert value(found, "meshdash_redis_memory_max_bytes", redis="store") == 1024**3
    if settings.MESHDASH_CACHE_REDIS_URL != settings.REDIS_URL:
        assert value(found, "meshdash_redis_memory_max_bytes", redis="cache") == 64 * 1024**2


def test_a_scrape_says_the_store_is_down_instead_of_failing(redis_client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{servers.free_port()}/0"
    found = scrape()
    assert value(found, "meshdash_store_up") == 0
    assert value(found, "meshdash_snapshot_age_seconds", window="1m") is None


def test_it_counts_users_and_bookmarks_at_most_every_half_minute(
    redis_client, alice, bob, monkeypatch
):
    make_bookmark(alice)
    make_bookmark(alice, title="second")
    User.objects.create_user("gone", is_active=False)
    app = metrics_app()
    found = samples(call(app)[1])
    assert value(found, "meshdash_users") == 2
    assert value(found, "meshdash_bookmarks") == 2
    make_bookmark(bob)
    assert value(samples(call(app)[1]), "meshdash_bookmarks") == 2  # cached
    monkeypatch.setattr(metrics, "DATABASE_COUNTS_TTL_SECONDS", 0.0)
    assert value(samples(call(app)[1]), "meshdash_bookmarks") == 3


def test_it_times_requests_by_the_views_url_name_never_the_path(client, alice, redis_client):
    def count(view: str) -> float:
        found = scrape()
        return value(found, "meshdash_http_request_duration_seconds_count", view=view) or 0

    before = count("accounts:login")
    client.get("/accounts/login/")
    client.get("/accounts/login/?next=/workloads/")
    assert count("accounts:login") == before + 2
    client.force_login(alice)
    client.get("/workloads/shop/deployment/no-such-workload/")
    found = scrape()
    views = {
        dict(labels)["view"]
        for name, labels in found
        if name == "meshdash_http_request_duration_seconds_count"
    }
    assert not any("/" in view or "no-such-workload" in view for view in views), views
    assert value(found, "meshdash_http_responses_total", view="accounts:login", status="2xx") >= 2


def test_the_probes_are_not_timed_kubelets_calls_are_not_page_views(client, redis_client):
    def requests() -> float:
        return sum(
            v
            for (name, _), v in scrape().items()
            if name == "meshdash_http_request_duration_seconds_count"
        )

    before = requests()
    client.get("/healthz")
    client.get("/readyz")
    assert requests() == before


class Counting:
    """A source client's request counter, as PrometheusClient and KubernetesClient have."""

    def __init__(self, name: str, count: int):
        setattr(self, name, count)


@pytest.mark.parametrize(
    ("lost", "reason"),
    [
        (["inbound"], "prometheus"),
        (["kubernetes/pods", "kubernetes/deployments"], "kubernetes"),
        (["inbound", "kubernetes/cluster"], "sources"),
    ],
)
def test_a_run_that_lost_essentials_fails_for_the_source_that_lost_them(redis_client, lost, reason):
    run = collection.Run("1m")
    run.lost(lost)
    run.finish("failed", errors={"collection": "..."})
    run.record()
    assert value(scrape(), "meshdash_collection_failures_total", window="1m", reason=reason) == 1


def test_a_run_counts_only_the_requests_it_made_itself(redis_client):
    prometheus, kube = Counting("query_count", 100), Counting("request_count", 40)
    run = collection.Run("1h", SnapshotStore.from_settings())
    run.watch(prometheus, kube)
    prometheus.query_count += 9
    kube.request_count += 5
    run.finish("ok", workloads=12)
    run.record()
    found = scrape()
    assert value(found, "meshdash_collection_promql_queries", window="1h") == 9
    assert value(found, "meshdash_collection_kubernetes_requests", window="1h") == 5
    assert value(found, "meshdash_collections_total", window="1h", status="ok") == 1


@pytest.mark.parametrize(
    ("exc", "reason"),
    [(StoreUnavailable("the snapshot store (Redis) is full"), "store"), (KeyError("x"), "error")],
)
def test_a_run_that_crashed_fails_with_its_reason(redis_client, exc, reason):
    run = collection.Run("10m")
    run.crashed(exc)
    run.record()
    found = scrape()
    assert value(found, "meshdash_collection_failures_total", window="10m", reason=reason) == 1
    assert value(found, "meshdash_collections_total", window="10m", status="failed") == 1


def test_a_run_already_finished_keeps_its_outcome_when_the_failure_is_raised_on(redis_client):
    run = collection.Run("1m")
    run.lost(["inbound"])
    run.finish("failed")
    run.crashed(RuntimeError("raised for the task queue to retry"))
    run.record()
    found = scrape()
    assert value(found, "meshdash_collection_failures_total", window="1m", reason="prometheus") == 1
    assert value(found, "meshdash_collection_failures_total", window="1m", reason="error") == 0
