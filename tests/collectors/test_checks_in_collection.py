"""The on-call checks inside each collection: findings stored with the snapshot, ``since``
kept from one collection to the next, a check that raises costing only its own findings, the
week of history read once per interval, thresholds from settings."""

import subprocess
import sys
import time

import pytest

from meshdash.collectors.collect import collect
from meshdash.collectors.prometheus import PrometheusClient
from meshdash.collectors.run import CHECKS_PART, collect_and_store
from meshdash.demo import history as demo_history
from meshdash.demo import model as demo
from meshdash.demo.runner import load_mesh
from meshdash.history import collection as history
from meshdash.history import read
from meshdash.mesh.checks import CHECKS, WARNING, CheckInputs, CheckThresholds
from meshdash.mesh.health import HealthRules
from tests.collectors.conftest import kube_client, wait_for_full_window
from tests.test_settings import ROOT

pytestmark = pytest.mark.django_db


def by_check(findings) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in findings:
        found.setdefault(f.check, []).append(f)
    return found


def test_each_collection_stores_its_findings_and_keeps_their_since(store, sources):
    assert collect_and_store("1m", store).status == "ok"
    first = store.findings("1m")
    assert first, "the stand-in's cluster has findings (old proxies, bad annotations...)"
    taken = store.meta("1m").taken_at
    assert all(f.since == pytest.approx(taken) for f in first)
    time.sleep(1.1)
    assert collect_and_store("1m", store).status == "ok"
    second = store.findings("1m")
    assert store.meta("1m").taken_at > taken
    since = {f.key: f.since for f in first}
    again = [f for f in second if f.key in since]
    assert again, "the same cluster gives the same findings"
    assert all(f.since == since[f.key] for f in again)
    # Each window's snapshot has its own.
    assert collect_and_store("10m", store).status == "ok"
    assert store.findings("10m") is not None


def test_a_check_that_raises_costs_its_own_findings_only(store, sources, monkeypatch, caplog):
    assert collect_and_store("1m", store).status == "ok"
    version = store.current_version("1m")
    clear = by_check(store.findings("1m"))

    def broken(ctx):
        raise KeyError("no such field")

    broken_id = next(iter(CHECKS))
    monkeypatch.setitem(CHECKS, broken_id, broken)
    outcome = collect_and_store("1m", store)
    assert outcome.status == "partial"
    assert store.current_version("1m") != version  # the snapshot is stored all the same
    assert broken_id in outcome.errors[CHECKS_PART] and "KeyError" in outcome.errors[CHECKS_PART]
    assert CHECKS_PART in store.meta("1m").errors
    found = by_check(store.findings("1m"))
    (failure,) = found[broken_id]
    assert failure.severity == WARNING and "could not run this check" in failure.summary
    assert "KeyError" in failure.evidence[0].value
    # Every other check's findings are there, keeping their since.
    for check_id, findings in clear.items():
        if check_id != broken_id:
            assert [f.key for f in found[check_id]] == [f.key for f in findings]
            assert [f.since for f in found[check_id]] == [f.since for f in findings]
    assert f"on-call check {broken_id} raised" in caplog.text

    monkeypatch.undo()
    assert collect_and_store("1m", store).status == "ok"
    assert broken_id not in by_check(store.findings("1m")) or broken_id in clear


def test_the_thresholds_come_from_settings(store, sources, settings):
    assert collect_and_store("1m", store).status == "ok"
    default = by_check(store.findings("1m"))
    assert "injection.stuck-init" in default  # the stand-in's pod in Init:0/1 for months
    settings.MESHDASH_CHECK_THRESHOLDS = CheckThresholds(stuck_init_minutes=1e9)
    assert collect_and_store("1m", store).status == "ok"
    lenient = by_check(store.findings("1m"))
    assert lenient.keys() == default.keys() - {"injection.stuck-init"}


def test_the_checks_time_is_in_the_runs_figures(store, sources, redis_client):
    outcome = collect_and_store("1m", store)
    assert 0 < outcome.checks_seconds < outcome.seconds
    last = redis_client.hgetall("test:obs:last:1m")
    assert float(last[b"checks_seconds"]) == pytest.approx(outcome.checks_seconds)


def test_the_week_of_history_is_read_once_per_interval(store, sources, settings, monkeypatch):
    settings.MESHDASH_CHECKS_HISTORY_MINUTES = 10
    calls = []
    real = read.recent_pods

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(read, "recent_pods", counted)
    history.forget_check_history()
    for _ in range(3):
        assert collect_and_store("1m", store).status == "ok"
    assert len(calls) == 1
    assert calls[0]["max_pods"] == settings.MESHDASH_CHECKS_HISTORY_MAX_PODS
    settings.MESHDASH_CHECKS_HISTORY_MINUTES = 0
    assert collect_and_store("1m", store).status == "ok"
    assert len(calls) == 2


# --- Against the demo mesh served for real, its history seeded from the model.


@pytest.mark.e2e
def test_the_demo_meshs_collection_finds_its_seeded_mistakes(
    store, demo_mesh, demo_prometheus, settings
):
    wait_for_full_window(demo_prometheus, demo_mesh.scrape_seconds)
    mesh = load_mesh(demo_mesh.out_dir)
    assert demo_history.seed_history(mesh, days=14) > 0
    history.forget_check_history()
    outcome = collect_and_store(
        "1m",
        store,
        prometheus=PrometheusClient(demo_prometheus.url),
        kube=kube_client(demo_mesh.kubeconfig),
    )
    assert outcome.status in ("ok", "partial"), outcome.errors
    assert CHECKS_PART not in outcome.errors
    found = by_check(store.findings("1m"))
    assert outcome.findings == sum(len(f) for f in found.values())

    # The issuer expires within the warning window.
    (issuer,) = found["certificates.issuer"]
    assert issuer.severity == WARNING
    assert issuer.subject[0].name == "linkerd-identity-issuer"
    # The namespace annotated inject "true".
    annotated = {
        ns.name for ns in mesh.namespaces if ns.annotations.get("linkerd.io/inject") == "true"
    }
    assert annotated
    assert annotated <= {r.name for f in found["injection.annotation"] for r in f.subject}
    # Proxies older than the control plane.
    old = {
        (w.namespace, w.name)
        for w in mesh.workloads
        if any(p.proxy_version == demo.OLD_PROXY_VERSION and p.exports_metrics for p in w.pods)
    }
    assert old
    assert old <= {(r.namespace, r.name) for f in found["versions.proxy"] for r in f.subject}
    # Proxy memory creeping up, from the seeded weeks: on workloads whose proxies creep only,
    # and on every one whose proxies all creep with days of history.
    grown = {(f.subject[0].namespace, f.subject[0].name) for f in found["memory.growth"]}
    creeping = {
        (w.namespace, w.name) for w in mesh.workloads if any(p.memory_slope for p in w.pods)
    }
    days_ago = time.time() - 2 * 86400
    all_creeping = {
        (w.namespace, w.name)
        for w in mesh.workloads
        if (pods := [p for p in w.pods if p.exports_metrics])
        and all(p.memory_slope and p.started_at < days_ago for p in pods)
    }
    assert all_creeping
    assert all_creeping <= grown <= creeping


# --- Settings.


def settings_of(**environ) -> subprocess.CompletedProcess:
    """The real settings loaded in a fresh interpreter with ``environ`` added."""
    import os

    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.MESHDASH_CHECK_THRESHOLDS.issuer_warning_days,"
            " settings.MESHDASH_CHECK_THRESHOLDS.max_findings_per_check)",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "meshdash.settings", **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_threshold_stops_start_up_naming_its_variable():
    for bad in ("soon", "-3"):
        refused = settings_of(MESHDASH_CHECK_ISSUER_WARNING_DAYS=bad)
        assert refused.returncode != 0, bad
        assert "ImproperlyConfigured" in refused.stderr
        assert "MESHDASH_CHECK_ISSUER_WARNING_DAYS" in refused.stderr
    refused = settings_of(MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK="2.5")
    assert refused.returncode != 0 and "MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK" in refused.stderr
    good = settings_of(
        MESHDASH_CHECK_ISSUER_WARNING_DAYS="90", MESHDASH_CHECK_MAX_FINDINGS_PER_CHECK="7"
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.split() == ["90.0", "7"]


def test_collect_fills_the_check_inputs_from_both_sources(backfilled_prometheus, kube):
    url, at = backfilled_prometheus
    inputs = CheckInputs()
    snapshot = collect(
        "1m", prometheus=PrometheusClient(url), kube=kube, now=at, rules=HealthRules()
    )
    assert snapshot.pods
    filled = collect(
        "1m",
        prometheus=PrometheusClient(url),
        kube=kube,
        now=at,
        rules=HealthRules(),
        check_inputs=inputs,
    )
    assert [p.name for p in filled.pods] == [p.name for p in snapshot.pods]
    # The cluster's part: the stand-in's issuer is not signed by its anchor; its trust roots
    # and namespaces were read.
    assert inputs.issuer_signed_by_anchor is False
    assert len(inputs.control_plane_trust_root_sha256) == 64
    assert set(inputs.namespace_labels) == {ns.name for ns in filled.namespaces}
    # Prometheus's part: this Prometheus has no refresh counters, no identity gauge, no
    # control-plane clients: "not collected", nothing guessed.
    assert inputs.proxy_identity == [] and inputs.identity_issuer_ttl_seconds is None
