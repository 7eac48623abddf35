"""run_collection and the collect command: lock, deadline and the snapshot store in Redis."""

import pytest
from django.core.management import call_command

from meshdash.collectors.collect import CollectionFailed
from meshdash.collectors.prometheus import WINDOW_QUERIES
from meshdash.collectors.run import collect_and_store, run_collection
from meshdash.store import SnapshotStore
from tests import servers


def test_it_writes_a_snapshot(store, sources):
    assert run_collection("1m", store) == "ok"
    meta = store.meta("1m")
    assert meta is not None
    assert store.current_version("1m")


def test_it_skips_when_another_run_holds_the_lock(store, sources):
    token = store.try_lock("1m", 30)
    assert run_collection("1m", store) == "skipped"
    store.release_lock("1m", token)
    assert run_collection("1m", store) == "ok"


def test_it_reports_partial_collections(store, sources):
    sources.faults["/apis/apps/v1/statefulsets"] = 500
    assert run_collection("1m", store) == "partial"


def test_it_records_a_failure_and_keeps_the_previous_snapshot(store, sources, settings):
    assert run_collection("1m", store) == "ok"
    version = store.current_version("1m")
    prometheus_url = settings.PROMETHEUS_URL
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{servers.free_port()}"
    sources.faults["*"] = 500
    assert run_collection("1m", store) == "failed"
    assert store.current_version("1m") == version
    reason, _ = store.last_failure("1m")
    assert "HTTP 500" in reason
    with pytest.raises(CollectionFailed):
        run_collection("1m", store, raise_on_failure=True)
    # Recovery is automatic once the sources answer again.
    sources.faults.clear()
    # Prometheus still down: a snapshot without golden metrics does not replace one with them.
    assert run_collection("1m", store) == "failed"
    assert store.current_version("1m") == version
    settings.PROMETHEUS_URL = prometheus_url
    assert run_collection("1m", store) == "ok"
    assert store.current_version("1m") != version
    assert store.last_failure("1m") is None


def test_the_command_collects_once_and_prints_the_outcome(redis_client, sources, settings, capsys):
    settings.MESHDASH_REDIS_PREFIX = "command-test"
    call_command("collect", "--once", "--window", "1m")
    out = capsys.readouterr().out
    assert "1m: ok in" in out and f"{len(WINDOW_QUERIES) + 1} queries" in out
    assert SnapshotStore(redis_client, "command-test").current_version("1m")


def test_it_raises_a_failure_once_recorded_when_asked(store, sources, settings):
    assert run_collection("1m", store) == "ok"
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{servers.free_port()}"
    # The cluster answers, the golden metrics do not: the current snapshot has them, so it stays.
    with pytest.raises(CollectionFailed, match="^inbound: "):
        collect_and_store("1m", store, raise_on_failure=True)
    reason, _ = store.last_failure("1m")
    assert reason.startswith("inbound: ")
    assert run_collection("1m", store) == "failed"  # the lock was released


def test_it_refuses_an_unknown_window_and_releases_its_lock(store, sources):
    with pytest.raises(ValueError, match="unknown window"):
        collect_and_store("5m", store)
    token = store.try_lock("5m", 30)
    assert token is not None
    store.release_lock("5m", token)
