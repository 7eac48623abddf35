"""The overview's "Needs attention" and control-plane panels, and a workload's page, read the
on-call checks' findings stored with the snapshot (real Redis store): muted ones left out,
bounded, every resource a link, the rest on /triage/."""

import html
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from meshdash.dashboard import attention
from meshdash.mesh.checks import CRITICAL, INFO, WARNING, Ref
from meshdash.store import SnapshotStore
from meshdash.triage.models import Mute
from meshdash.triage.mutes import CACHE_KEY
from tests.dashboard.checked import finding, hostile_finding, write_checked
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR, write_known

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_cached_mutes():
    """Mutes are cached (triage.mutes.CACHE_KEY); a test's rolled-back rows must not outlive it."""
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


ROW_RE = re.compile(r'<tr data-check="([^"]+)" data-severity="([^"]+)">')


def panel(body: str, heading_id: str) -> str:
    return body.split(f'id="{heading_id}"')[1].split("</section>")[0]


def shown(part: str) -> list[tuple[str, str]]:
    return ROW_RE.findall(part)


def overview(client, url="/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_needs_attention_lists_the_checks_critical_and_warning_findings_worst_first(
    client, redis_client
):
    info = finding("memory.oom", INFO, summary="the application's container was OOMKilled")
    _, stored = write_checked(redis_client, [info])
    body = overview(client)
    part = panel(body, "attention-h")
    expected = [(f.check, f.severity) for f in stored if f.severity in (CRITICAL, WARNING)]
    assert shown(part) == expected
    assert expected[0] == ("certificates.issuer", "critical")
    assert "the application&#x27;s container" not in part  # info is not "needs attention"
    assert "Identity issuer expires in 5 d" in part
    # counts by severity, and each subject is a link keeping to meshdash's pages
    assert '<span class="badge h-critical" data-count="critical">1 critical</span>' in part
    assert f'data-count="warning">{len(expected) - 1} warning<' in part
    assert '<a href="/workloads/shop/deployment/cart/">shop/cart</a>' in part
    assert '<a href="/namespaces/payments/">payments</a>' in part
    assert f'<a href="{attention.triage_href()}" data-triage-link>' in part


def test_the_control_plane_panel_shows_its_own_findings_and_plain_facts(client, redis_client):
    snapshot, _ = write_checked(redis_client)
    part = panel(overview(client), "cp-h")
    assert shown(part) == [("certificates.issuer", "critical"), ("versions.proxy", "warning")]
    assert "injection." not in part  # injection mistakes are in "Needs attention"
    # the certificates' dates and the versions the proxies run are facts, not judgements
    assert "Trust anchor" in part and "Identity issuer" in part and "days left" not in part
    assert "stable-2.13.4 · 20 proxies" in part and "stable-2.14.10 · 100 proxies" in part
    assert part.index("stable-2.14.10") < part.index("stable-2.13.4")  # most proxies first
    assert "different version than the control plane" not in part
    assert snapshot.control_plane.issuer_not_after


def test_checks_not_run_is_not_the_same_as_none_found(client, redis_client):
    write_known(redis_client)  # a collection that did not run the checks: findings None
    body = overview(client)
    for heading in ("attention-h", "cp-h"):
        part = panel(body, heading)
        assert 'data-findings="not-run"' in part and "did not run" in part
        assert 'data-findings="none"' not in part
    write_checked(redis_client, checks=False)  # the checks ran and found nothing: []
    body = overview(client)
    for heading in ("attention-h", "cp-h"):
        part = panel(body, heading)
        assert 'data-findings="none"' in part and "did not run" not in part
        assert shown(part) == []
    assert "No critical or warning findings." in panel(body, "attention-h")


def test_muted_findings_are_left_out_and_counted(client, redis_client, user):
    write_checked(redis_client)
    Mute.objects.create(check_id="injection.annotation", namespace="payments", who=user, why="x")
    Mute.objects.create(check_id="versions.proxy", namespace="shop", who=user, why="later")
    body = overview(client)
    part = panel(body, "attention-h")
    checks = [check for check, _ in shown(part)]
    assert "versions.proxy" not in checks
    assert checks.count("injection.annotation") == 1  # shop/frontend's, not payments'
    assert '<a href="/namespaces/payments/">payments</a>' not in part
    assert "· 2 muted" in part
    cp = panel(body, "cp-h")
    assert shown(cp) == [("certificates.issuer", "critical")]
    assert "· 1 muted" in cp


def test_the_panels_are_bounded_and_count_what_they_leave_out(client, redis_client):
    many = [
        finding("memory.share", WARNING, (Ref("shop", "pod", f"p-{i:02d}"),), order=i)
        for i in range(30)
    ]
    # The collector cut 40 more of one check (Finding.more): counted, not shown.
    many.append(finding("policy.denials", CRITICAL, more=40))
    write_checked(redis_client, many, checks=False)
    part = panel(overview(client), "attention-h")
    rows = shown(part)
    assert len(rows) == attention.ATTENTION_LIMIT
    assert rows[0] == ("policy.denials", "critical")
    assert 'data-count="critical">41 critical<' in part
    assert 'data-count="warning">30 warning<' in part
    assert "61 more on the triage page" in part
    assert "and 40 more like it" in part


def test_hostile_names_in_findings_are_escaped(client, redis_client):
    write_checked(redis_client, [hostile_finding()])
    body = overview(client)
    assert HOSTILE not in body and HOSTILE_ATTR not in body
    part = panel(body, "attention-h")
    assert html.escape(f"webhook {HOSTILE} denies pods") in part
    assert html.escape(HOSTILE) in part and html.escape(HOSTILE_ATTR) in part


def test_the_triage_links_carry_its_filters_and_the_window():
    assert attention.triage_href() == "/triage/"
    assert attention.triage_href(None, ns="shop", severity="") == "/triage/?ns=shop"
    kept = QueryDict("window=10m", mutable=True)
    assert attention.triage_href(kept, check="memory.share") == (
        "/triage/?window=10m&check=memory.share"
    )
    assert kept.urlencode() == "window=10m"  # the page's own parameters are left alone


def test_a_subject_no_url_can_hold_is_text_not_a_link():
    slashed = attention.ref_link(Ref("shop", "deployment", "a/b"))
    assert (slashed.text, slashed.href) == ("shop/a/b", "")
    hostile = attention.ref_link(Ref("", "namespace", HOSTILE_ATTR))
    assert (hostile.text, hostile.href) == (HOSTILE_ATTR, "")
    pod = attention.ref_link(Ref("shop", "pod", HOSTILE))
    assert pod.href == ""
    webhook = attention.ref_link(Ref("", "webhook", "istio-sidecar-injector"))
    assert (webhook.text, webhook.href) == ("webhook istio-sidecar-injector", "")
    pod = attention.ref_link(Ref("shop", "pod", "web-1"))
    assert (pod.text, pod.href) == ("pod shop/web-1", "/pods/?ns=shop&q=web-1")
    namespace = attention.ref_link(Ref("", "namespace", "shop"))
    assert (namespace.text, namespace.href) == ("shop", "/namespaces/shop/")


def test_the_overview_reads_the_findings_once_of_the_version_it_shows(
    client, redis_client, monkeypatch, settings
):
    write_checked(redis_client)
    calls = []
    original = SnapshotStore.findings

    def spy(self, window, *, version=None):
        calls.append((window, version))
        return original(self, window, version=version)

    monkeypatch.setattr(SnapshotStore, "findings", spy)
    body = overview(client)
    current = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX).current_version("1m")
    assert calls == [("1m", current)]
    assert shown(panel(body, "attention-h"))


def test_the_window_is_kept_in_every_finding_link(client, redis_client):
    write_checked(redis_client, window="10m")
    part = panel(overview(client, "/?window=10m"), "attention-h")
    assert '<a href="/workloads/shop/deployment/cart/?window=10m">shop/cart</a>' in part
    assert f'href="{attention.triage_href()}?window=10m" data-triage-link' in part


# --- a workload's page


def detail(client, url="/workloads/shop/deployment/frontend/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return panel(response.content.decode(), "findings-h")


def test_a_workload_page_shows_its_own_and_its_pods_findings_first(client, redis_client):
    pod_only = finding(
        "certificates.leaf", CRITICAL, (Ref("shop", "pod", "frontend-7d9f-abcde"),), "leaf"
    )
    other_pod = finding("certificates.leaf", CRITICAL, (Ref("shop", "pod", "cart-5c6d-klmno"),))
    info = finding("memory.oom", INFO, (Ref("shop", "deployment", "frontend"),), "app oom")
    write_checked(redis_client, [pod_only, other_pod, info])
    response = client.get("/workloads/shop/deployment/frontend/")
    body = response.content.decode()
    assert body.index('id="findings-h"') < body.index('data-stat="success"')  # at the top
    part = panel(body, "findings-h")
    assert shown(part) == [
        ("certificates.leaf", "critical"),
        ("injection.annotation", "warning"),
        ("injection.missing-proxy", "warning"),
        ("injection.stuck-init", "warning"),
        ("memory.oom", "info"),
    ]
    assert "cart-5c6d" not in part and "payments" not in part  # others' and namespaces'
    assert HOSTILE_ATTR not in part and html.escape(HOSTILE_ATTR) in part
    assert attention.triage_href(None, ns="shop") in part


def test_a_workload_page_is_bounded_and_says_how_many_more(client, redis_client):
    mine = [
        finding("memory.share", WARNING, (Ref("shop", "deployment", "cart"),), order=i)
        for i in range(8)
    ]
    write_checked(redis_client, mine, checks=False)
    part = detail(client, "/workloads/shop/deployment/cart/")
    assert len(shown(part)) == attention.WORKLOAD_LIMIT
    assert "3 more on the triage page" in part
    assert 'data-count="warning">8 warning<' in part


def test_a_workload_page_says_when_the_checks_did_not_run_or_found_nothing(client, redis_client):
    write_known(redis_client)
    assert 'data-findings="not-run"' in detail(client)
    write_checked(redis_client, checks=False)
    part = detail(client)
    assert 'data-findings="none"' in part and shown(part) == []


def test_a_workload_page_leaves_out_its_muted_findings(client, redis_client, user):
    write_checked(redis_client)
    Mute.objects.create(
        check_id="injection.stuck-init",
        namespace="shop",
        kind="deployment",
        name="frontend",
        who=user,
        why="CNI being replaced",
        expires=None,
    )
    part = detail(client)
    assert "injection.stuck-init" not in [check for check, _ in shown(part)]
    assert "· 1 muted" in part


def test_findings_counts_include_the_collectors_cut_ones():
    found = attention.Findings(
        True, [finding(severity=CRITICAL, more=2), finding(severity=INFO)], []
    )
    assert found.counts() == {CRITICAL: 3, INFO: 1}
    assert found.counts((WARNING,)) == {}


@pytest.mark.parametrize("url", ["/", "/workloads/shop/deployment/frontend/"])
def test_a_warmed_page_reads_the_mutes_from_the_cache_not_the_database(
    client, redis_client, user, url
):
    write_checked(redis_client)
    Mute.objects.create(check_id="versions.proxy", namespace="shop", who=user, why="later")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).content.decode()
    assert not [q["sql"] for q in queries if "triage_mute" in q["sql"]]
    assert "versions.proxy" not in [check for check, _ in shown(body)]
