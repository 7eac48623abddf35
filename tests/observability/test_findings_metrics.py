"""/metrics: the on-call checks' active findings of the default window's current snapshot, as
stored in a real Redis store, for Alertmanager to page on."""

import time

import pytest
from django.core.cache import cache
from django.db import DatabaseError

from meshdash.mesh.checks import CHECKS, CRITICAL, INFO, SEVERITIES, WARNING, Finding, Ref
from meshdash.mesh.model import Snapshot
from meshdash.observability import metrics
from meshdash.store import SnapshotStore
from meshdash.triage import mutes
from meshdash.triage.models import Mute
from tests.observability.metrics_client import scrape, value

pytestmark = pytest.mark.django_db

HOSTILE = 'x"} 1\n# HELP evil\\ <script>'


@pytest.fixture(autouse=True)
def no_cached_mutes():
    cache.delete(mutes.CACHE_KEY)
    yield
    cache.delete(mutes.CACHE_KEY)


def write(settings, findings):
    store = SnapshotStore.from_settings()
    snapshot = Snapshot(window=settings.MESHDASH_DEFAULT_WINDOW, taken_at=time.time())
    store.write(snapshot, findings=findings)


def series(found, name="meshdash_finding") -> dict[tuple, float]:
    return {labels: v for (sample, labels), v in found.items() if sample == name}


def labels(check, severity, namespace, workload) -> tuple:
    return tuple(
        sorted(
            {
                "check": check,
                "severity": severity,
                "namespace": namespace,
                "workload": workload,
            }.items()
        )
    )


FINDINGS = [
    Finding("certificates.issuer", CRITICAL, (Ref("linkerd", "control-plane", "issuer"),), "s"),
    Finding(
        "memory.share",
        WARNING,
        (Ref("shop", "pod", "web-1"), Ref("shop", "deployment", "web")),
        "s",
    ),
    Finding("injection.annotation", WARNING, (Ref("", "namespace", "payments"),), "s"),
    Finding("webhooks.conflict", INFO, (Ref("", "webhook", "gatekeeper"),), "s", more=4),
]


def test_one_series_per_active_finding_and_a_count_by_check_and_severity(redis_client, settings):
    write(settings, FINDINGS)
    found = scrape()
    assert value(found, "meshdash_findings_checked", window=settings.MESHDASH_DEFAULT_WINDOW) == 1
    assert series(found) == {
        labels("certificates.issuer", CRITICAL, "linkerd", "control-plane/issuer"): 1,
        labels("memory.share", WARNING, "shop", "pod/web-1"): 1,
        labels("injection.annotation", WARNING, "payments", ""): 1,
        labels("webhooks.conflict", INFO, "", "webhook/gatekeeper"): 1,
    }
    counts = series(found, "meshdash_findings")
    # every check and severity has its series, 0 included: alerts never see it vanish
    assert len(counts) == len(CHECKS) * len(SEVERITIES)
    assert value(found, "meshdash_findings", check="memory.share", severity=WARNING) == 1
    assert value(found, "meshdash_findings", check="webhooks.conflict", severity=INFO) == 5
    assert value(found, "meshdash_findings", check="memory.share", severity=CRITICAL) == 0


def test_muted_findings_are_not_exported(redis_client, settings, alice):
    write(settings, FINDINGS)
    Mute.objects.create(check_id="memory.share", namespace="shop", who=alice, why="known leak")
    found = scrape()
    assert labels("memory.share", WARNING, "shop", "pod/web-1") not in series(found)
    assert value(found, "meshdash_findings", check="memory.share", severity=WARNING) == 0
    assert len(series(found)) == len(FINDINGS) - 1


def test_unreadable_mutes_count_every_finding(redis_client, settings, monkeypatch, alice):
    write(settings, FINDINGS)
    Mute.objects.create(check_id="memory.share", namespace="shop", who=alice, why="known leak")
    assert len(series(scrape())) == len(FINDINGS) - 1

    def broken(now=None):
        raise DatabaseError("the database is down")

    monkeypatch.setattr(mutes, "active_mutes", broken)
    assert len(series(scrape())) == len(FINDINGS)


def test_checks_not_run_is_not_the_same_as_none_found(redis_client, settings):
    window = settings.MESHDASH_DEFAULT_WINDOW
    found = scrape()  # no snapshot at all
    assert value(found, "meshdash_findings_checked", window=window) == 0
    assert series(found, "meshdash_findings") == {}
    write(settings, None)  # a collection that did not run the checks
    found = scrape()
    assert value(found, "meshdash_findings_checked", window=window) == 0
    assert series(found) == {} and series(found, "meshdash_findings") == {}
    write(settings, [])  # the checks ran and found nothing
    found = scrape()
    assert value(found, "meshdash_findings_checked", window=window) == 1
    assert series(found) == {}
    assert set(series(found, "meshdash_findings").values()) == {0}


def test_series_are_capped_worst_first_and_the_counts_keep_everything(redis_client, settings):
    many = [
        Finding("memory.share", WARNING, (Ref("shop", "pod", f"web-{i:04d}"),), "s", order=i)
        for i in range(metrics.MAX_FINDING_SERIES + 100)
    ]
    critical = Finding("memory.oom", CRITICAL, (Ref("shop", "pod", "oom-1"),), "s")
    write(settings, many + [critical])  # stored out of order: the cap still keeps the worst
    found = scrape()
    kept = series(found)
    assert len(kept) == metrics.MAX_FINDING_SERIES
    assert labels("memory.oom", CRITICAL, "shop", "pod/oom-1") in kept
    assert value(found, "meshdash_findings", check="memory.share", severity=WARNING) == len(many)


def test_hostile_label_values_are_escaped_and_bounded(redis_client, settings):
    long_name = "n" * 400
    write(
        settings,
        [
            Finding("webhooks.conflict", WARNING, (Ref("", "webhook", HOSTILE),), "s"),
            Finding("memory.share", WARNING, (Ref(HOSTILE, "deployment", long_name),), "s"),
        ],
    )
    found = scrape()  # the parser reads every series back: the exposition stayed well formed
    kept = series(found)
    assert labels("webhooks.conflict", WARNING, "", f"webhook/{HOSTILE}") in kept
    bounded = labels("memory.share", WARNING, HOSTILE, f"deployment/{long_name}"[:253])
    assert bounded in kept
    assert not any(name.startswith("evil") for name, _ in found)
