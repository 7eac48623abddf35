"""The on-call checks end to end: the demo mesh scraped by a private Prometheus, two weeks of its
history seeded (``manage.py demo_history``), one collection run by a real Celery worker, then the
findings read through ``/api/v1/findings`` (every page), ``/triage/`` and the overview.

The truth is the demo model's own (``meshdash.demo.model``: ``check_seed_pods``,
``kubernetes_check_seeds``, its versions, annotations, terminations and policies): for each
seeded mistake, the right check names exactly the seeded objects, with the right severity; and
every check fires on the demo but the few it cannot honestly exercise (``EXEMPT``).
"""

import html
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_lib
from celery import Celery

from meshdash.collectors.tasks import collect_window
from meshdash.demo import model as demo
from meshdash.mesh.checks import CHECKS, CRITICAL, INFO, WARNING
from meshdash.mesh.query import MAX_PER_PAGE
from tests import servers
from tests.test_settings import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WINDOW = "1m"
WINDOW_SECONDS = 60
DAY = 86400.0
HISTORY_DAYS = 8  # memory.growth reads the last 7

# Checks the demo cannot honestly make fire: a demo whose mesh still talks has a trust anchor
# years from expiry (an anchor about to expire takes every proxy with it) and an issuer signed
# by that anchor (one that is not breaks every new leaf, the stalled-rotation seed included).
EXEMPT = {
    "certificates.anchor": "the demo's trust anchor is valid for years: healthy, nothing to say",
    "certificates.issuer-chain": "the demo's issuer is signed by its anchor, as a working mesh's",
}


# --- One collection for the whole module, replayed into each test's clean Redis.


def manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr[-2000:]}"


def run_collection_on_worker(redis_url: str) -> str:
    # Our own Celery client on the private Redis: the project's app stays configured as it is.
    client = Celery("e2e-findings", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        return client.send_task(collect_window.name, args=(WINDOW,)).get(timeout=180)
    finally:
        client.close()


@pytest.fixture(scope="module")
def collected(redis_url, demo_mesh, demo_prometheus, tmp_path_factory) -> dict:
    """Every key the worker's collection left in Redis: (ms to live, DUMP)."""
    work = tmp_path_factory.mktemp("findings-worker")
    env = servers.worker_env(redis_url, demo_prometheus.url, demo_mesh.kubeconfig, work)

    def prepare() -> None:
        # The worker's own database, holding the weeks of history memory.growth reads.
        manage(env, "migrate", "--no-input", "--verbosity", "0")
        mesh_dir = str(demo_mesh.out_dir)
        manage(env, "demo_history", "--mesh-dir", mesh_dir, "--days", str(HISTORY_DAYS))

    store = redis_lib.Redis.from_url(redis_url)
    store.flushdb()
    # Seeded while Prometheus fills its first window.
    with ThreadPoolExecutor(1) as pool:
        prepared = pool.submit(prepare)
        demo_prometheus.wait_for_full_window(WINDOW_SECONDS, demo_mesh.scrape_seconds)
        prepared.result()
    log = work / "worker.log"
    worker = servers.start_celery_worker(env, log, f"findings-{os.getpid()}")
    try:
        status = run_collection_on_worker(redis_url)
    finally:
        servers.stop(worker)
    assert status == "ok", log.read_text()[-3000:]
    keys = {key: (store.pttl(key), store.dump(key)) for key in store.scan_iter()}
    store.flushdb()
    store.close()
    return keys


@pytest.fixture(scope="module")
def mesh(demo_mesh):
    return demo_mesh.model()


@pytest.fixture
def api(collected, redis_client, client, django_user_model):
    """A signed-in client over the worker's collection."""
    for key, (ttl, value) in collected.items():
        redis_client.restore(key, max(ttl, 0), value, replace=True)
    client.force_login(django_user_model.objects.create_user("on-call"))
    return client


def findings(client, **params) -> list[dict]:
    """Every active finding the API gives for ``params``, all pages read."""
    items, page = [], 1
    while True:
        response = client.get(
            "/api/v1/findings", {**params, "page": page, "per_page": MAX_PER_PAGE}
        )
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert body["checks_ran"] is True
        assert not body["muted"]
        items += body["items"]
        if page >= body["pages"]:
            assert len(items) == body["total"]
            return items
        page += 1


@pytest.fixture
def found(api) -> dict[str, list[dict]]:
    """check id -> its findings, from the API."""
    by_check: dict[str, list[dict]] = {}
    for item in findings(api):
        by_check.setdefault(item["check"], []).append(item)
    return by_check


def refs(item: dict) -> list[tuple[str, str, str]]:
    return [(r["namespace"], r["kind"], r["name"]) for r in item["subject"]]


def subjects(items: list[dict], severity: str | None = None) -> set[tuple[str, str, str]]:
    """The first resource each finding is about (the workload, namespace, webhook...)."""
    return {refs(i)[0] for i in items if severity is None or i["severity"] == severity}


def severities(items: list[dict]) -> dict[tuple[str, str, str], str]:
    return {refs(i)[0]: i["severity"] for i in items}


def owner(mesh, pod_key: tuple[str, str]) -> tuple[str, str, str]:
    return next(
        w.key for w in mesh.all_workloads for p in w.pods if (p.namespace, p.name) == pod_key
    )


def evidence_sources(items: list[dict]) -> set[str]:
    return {e["source"] for i in items for e in i["evidence"]}


# --- Every check, once each.


def test_every_check_fires_on_the_demo_but_the_exempt_ones(found):
    assert EXEMPT.keys() <= CHECKS.keys()
    fired = set(found)
    assert fired <= CHECKS.keys(), fired - CHECKS.keys()
    assert CHECKS.keys() - EXEMPT.keys() <= fired, (
        f"not found on the demo: {sorted(CHECKS.keys() - EXEMPT.keys() - fired)}"
    )
    # An exemption that fires is stale: the demo exercises it now.
    assert not fired & EXEMPT.keys(), sorted(fired & EXEMPT.keys())


def test_each_finding_is_known_by_its_check_and_subject(api):
    items = findings(api)
    keys = [(i["check"], tuple(refs(i))) for i in items]
    assert len(keys) == len(set(keys))
    assert items[0]["severity"] == CRITICAL  # grouped by check, the worst group first


# --- Certificates.


def test_the_issuer_expires_within_the_warning_window(found):
    (issuer,) = found["certificates.issuer"]
    assert issuer["severity"] == WARNING
    assert refs(issuer) == [(demo.LINKERD_NAMESPACE, "control-plane", "linkerd-identity-issuer")]
    assert issuer["summary"].startswith("Identity issuer expires in ")
    days = float(issuer["summary"].split("expires in ")[1].split(" d")[0])
    assert demo.ISSUER_DAYS_LEFT - 2 <= days <= demo.ISSUER_DAYS_LEFT


def test_the_stalled_rotation_and_its_leaf(found, mesh, api):
    (stalled,) = mesh.check_seed_pods()["stalled-rotation"]
    pod = next(p for w in mesh.all_workloads for p in w.pods if (p.namespace, p.name) == stalled)
    now = taken_at(api)
    expired = pod.cert_expiry <= now
    rotation = found["certificates.rotation"]
    assert subjects(rotation) == {owner(mesh, stalled)}
    assert rotation[0]["severity"] == (CRITICAL if expired else WARNING)
    labels = {e["label"] for e in rotation[0]["evidence"]}
    assert {"past its renewal point by", "refresh errors in the window"} <= labels
    # The shortest leaf across the mesh is that proxy's, stuck on its old certificate.
    (leaf,) = found["certificates.leaf"]
    assert refs(leaf) == [(stalled[0], "pod", stalled[1])]
    left = pod.cert_expiry - now
    assert leaf["severity"] == (CRITICAL if left <= 3600 else WARNING)


def test_the_pod_trusting_another_anchor(found, mesh):
    (pod,) = mesh.kubernetes_check_seeds()["trust-root"]
    trust = found["certificates.trust-root"]
    assert severities(trust) == {owner(mesh, pod): CRITICAL}
    assert f"pod {pod[0]}/{pod[1]}" in evidence_sources(trust)


# --- Proxy memory.


def test_proxy_memory_creeping_up_from_the_seeded_weeks(found, mesh, api):
    now = taken_at(api)
    growth = severities(found["memory.growth"])
    creeping = {w.key for w in mesh.workloads if any(p.memory_slope for p in w.pods)}
    # Workloads whose every running proxy creeps, with days of history, cannot be missed.
    all_creeping = {
        w.key
        for w in mesh.workloads
        if (pods := [p for p in w.pods if p.exports_metrics])
        and all(p.memory_slope and p.started_at < now - 2 * DAY for p in pods)
    }
    assert all_creeping
    assert all_creeping <= growth.keys() <= creeping
    # Critical when the first of its creeping pods reaches its limit within 14 days.
    for key, severity in growth.items():
        w = next(w for w in mesh.workloads if w.key == key)
        at = min(
            now + (p.memory_limit - p.proxy_memory(now)) / p.memory_slope
            for p in w.pods
            if p.memory_slope and p.exports_metrics
        )
        if abs(at - now - 14 * DAY) > DAY:  # not on the line, where the fit's rounding decides
            assert severity == (CRITICAL if at - now <= 14 * DAY else WARNING), key


def test_proxy_oomkills_told_apart_from_the_applications(found, mesh):
    proxy, app = set(), set()
    for w in mesh.all_workloads:
        for p in w.pods:
            if not p.has_proxy:
                continue
            if p.proxy_last_termination == "OOMKilled":
                proxy.add(w.key)
            elif p.app_last_termination == "OOMKilled":
                app.add(w.key)
    assert proxy and app
    oom = found["memory.oom"]
    assert subjects(oom, CRITICAL) == proxy
    assert subjects(oom, INFO) == app - proxy
    assert all("(not the proxy)" in i["summary"] for i in oom if i["severity"] == INFO)


def test_the_busy_proxy_on_the_default_limit_and_proxies_near_their_limit(found, mesh, api):
    busy = mesh.check_seed_pods()["busy-default-limit"]
    assert busy
    owners = {owner(mesh, pod) for pod in busy}
    assert severities(found["memory.limit"]) == dict.fromkeys(owners, WARNING)
    # Its proxies at 86 % of that limit already; any creeping proxy past 80 % of its own
    # (the demo's creep reaches the limit some day), away from the lines the check draws.
    now = taken_at(api)
    expected, unsure = {}, set()
    for w in mesh.workloads:
        for p in w.pods:
            if not p.exports_metrics:
                continue
            share = p.proxy_memory(now) / p.memory_limit
            if min(abs(share - 0.8), abs(share - 0.95)) < 0.01:
                unsure.add((p.namespace, "pod", p.name))
            elif share >= 0.8:
                expected[(p.namespace, "pod", p.name)] = CRITICAL if share >= 0.95 else WARNING
    shares = {refs(i)[0]: i["severity"] for i in found["memory.share"]}
    assert {k: v for k, v in shares.items() if k not in unsure} == expected
    assert {(ns, "pod", name) for ns, name in busy} <= expected.keys()
    for i in found["memory.share"]:
        assert refs(i)[1] == owner(mesh, refs(i)[0][::2])


# --- Injection.


def test_invalid_inject_values_on_namespaces_pod_templates_and_workloads(found, mesh):
    valid = ("enabled", "disabled", "ingress")
    expected = {
        ("", "namespace", ns.name)
        for ns in mesh.namespaces
        if ns.annotations.get(demo.INJECT, "enabled") not in valid
    }
    namespaces = set(expected)
    templates = {
        w.key for w in mesh.all_workloads if w.annotations.get(demo.INJECT, "enabled") not in valid
    }
    expected |= templates
    expected |= {
        w.key
        for w in mesh.all_workloads
        if w.object_annotations.get(demo.INJECT, "enabled") not in valid
    }
    assert ("", "namespace", "legacy-batch") in namespaces and templates
    annotation = found["injection.annotation"]
    assert severities(annotation) == dict.fromkeys(expected, WARNING)
    assert any("'true'" in i["summary"] for i in annotation)


def test_the_annotation_on_the_deployments_own_metadata(found, mesh):
    misplaced = mesh.kubernetes_check_seeds()["misplaced-inject"]
    assert misplaced
    assert severities(found["injection.misplaced"]) == dict.fromkeys(misplaced, WARNING)


def test_pods_without_a_proxy_where_injection_is_asked_for(found, mesh):
    enabled = {ns.name for ns in mesh.namespaces if ns.annotations.get(demo.INJECT) == "enabled"}
    stale = {owner(mesh, pod) for pod in mesh.kubernetes_check_seeds()["annotated-after-pods"]}
    assert stale
    failed, opted_out = set(), set()
    finished = {
        w.key for w in mesh.workloads if all(p.phase in ("Succeeded", "Failed") for p in w.pods)
    }
    for w in mesh.workloads:
        for p in w.pods:
            if p.has_proxy or p.phase in ("Succeeded", "Failed"):
                continue
            if w.annotations.get(demo.INJECT) == "disabled":
                opted_out.add(w.key)
            elif w.annotations.get(demo.INJECT) == "enabled" or w.namespace in enabled:
                failed.add(w.key)
    failed -= stale
    assert opted_out and finished
    missing = found["injection.missing-proxy"]
    assert subjects(missing) == stale | failed
    assert all(i["severity"] == WARNING for i in missing)
    for i in missing:
        said = "not restarted since namespace" in i["summary"]
        assert said == (refs(i)[0] in stale), i["summary"]
    # Deliberate opt-outs and finished Jobs are not mistakes; an invalid value is one.
    assert not subjects(missing) & (opted_out | finished)
    invalid = {owner(mesh, pod) for pod in mesh.check_seed_pods()["invalid-template-inject"]}
    assert invalid and invalid <= failed


def test_the_pod_stuck_in_init(found, mesh):
    (pod,) = mesh.pod_problems()["init"]
    (stuck,) = found["injection.stuck-init"]
    assert stuck["severity"] == WARNING
    assert refs(stuck) == [owner(mesh, pod), (pod[0], "pod", pod[1])]


def test_injection_skipped_and_webhook_denied_events(found, mesh):
    skipped = {e.workload for e in mesh.events if e.reason == "InjectionSkipped"}
    denied = mesh.kubernetes_check_seeds()["webhook-denied"]
    assert skipped and denied and not skipped & denied
    events = found["injection.events"]
    assert severities(events) == {
        **dict.fromkeys(skipped, WARNING),
        **dict.fromkeys(denied, CRITICAL),
    }
    for i in events:
        if i["severity"] == CRITICAL:
            assert "denies" in i["summary"]
            assert any("validation.gatekeeper.sh" in str(e["value"]) for e in i["evidence"])
    # The quota's FailedCreate is not a webhook's denial.
    quota = {e.workload for e in mesh.events if "exceeded quota" in e.message}
    assert quota and not quota & severities(events).keys()


# --- Webhooks.


def test_linkerds_webhooks(found, mesh):
    (ca,) = mesh.kubernetes_check_seeds()["linkerd-webhook-ca"]
    linkerd = found["webhooks.linkerd"]
    assert severities(linkerd) == {
        ("", "webhook", ca): WARNING,  # the policy validator's CA bundle within 60 days
        ("", "webhook", demo.LINKERD_INJECTOR_WEBHOOK): INFO,  # failurePolicy: Ignore
    }
    (expiring,) = [i for i in linkerd if i["severity"] == WARNING]
    hook = next(h for h in mesh.webhooks if h.configuration == ca)
    days = (hook.ca_not_after - time.time()) / DAY
    assert 0 < days < 60
    assert expiring["summary"].startswith(f"CA bundle of {ca} expires in ")


def test_the_webhooks_conflicting_with_linkerds(found, mesh):
    conflicting = mesh.kubernetes_check_seeds()["conflicting-webhooks"]
    assert {"gatekeeper-validating-webhook-configuration", "vault-agent-injector-cfg"} <= (
        conflicting
    )
    conflict = found["webhooks.conflict"]
    assert subjects(conflict) == {("", "webhook", name) for name in conflicting}
    by_name = {refs(i)[0][2]: i for i in conflict}
    gatekeeper = by_name["gatekeeper-validating-webhook-configuration"]
    assert gatekeeper["severity"] == WARNING and "fails closed" in gatekeeper["summary"]
    vault = by_name["vault-agent-injector-cfg"]
    assert "after Linkerd's injector" in vault["summary"] and vault["severity"] == WARNING
    # The namespaces it shares with Linkerd's injector are named.
    enabled = {ns.name for ns in mesh.namespaces if ns.annotations.get(demo.INJECT) == "enabled"}
    assert {r[2] for r in refs(gatekeeper)[1:]} <= enabled


# --- Versions.


def test_the_control_plane_upgraded_half_way(found, mesh):
    versions = {w.control_plane_component: w.pods[0].proxy_version for w in mesh.control_plane}
    assert len(set(versions.values())) == 2
    (mixed,) = found["versions.control-plane"]
    assert mixed["severity"] == WARNING
    assert set(refs(mixed)) == {
        (demo.LINKERD_NAMESPACE, "control-plane", name) for name in versions
    }
    assert {e["label"]: e["value"] for e in mixed["evidence"]} == versions


def test_proxies_older_and_newer_than_the_control_plane(found, mesh):
    older, newer = set(), set()
    for w in mesh.workloads:
        for p in w.pods:
            if p.exports_metrics and p.proxy_version == demo.OLD_PROXY_VERSION:
                older.add(w.key)
            if p.exports_metrics and p.proxy_version == demo.NEWER_PROXY_VERSION:
                newer.add(w.key)
    assert newer == {owner(mesh, pod) for pod in mesh.check_seed_pods()["newer-proxy"]}
    assert older and newer
    versions = found["versions.proxy"]
    assert severities(versions) == {
        **dict.fromkeys(older, WARNING),
        **dict.fromkeys(newer, CRITICAL),
    }
    for i in versions:
        assert ("newer than" in i["summary"]) == (i["severity"] == CRITICAL)


# --- Control plane and traffic policy.


def test_the_control_plane_components_health(found, mesh):
    expected = set()
    for w in mesh.control_plane:
        pods = [p for p in w.pods if p.phase not in ("Succeeded", "Failed")]
        name = w.control_plane_component
        if any(not p.ready for p in pods):
            expected.add((name, CRITICAL if not any(p.ready for p in pods) else WARNING, "ready"))
        if any("OOMKilled" in (p.app_last_termination, p.proxy_last_termination) for p in pods):
            expected.add((name, CRITICAL, "OOMKilled"))
        # Every container's restarts, the proxy's too, as kubectl counts them.
        if sum(p.restarts + p.proxy_restarts for p in pods) >= 3:
            expected.add((name, WARNING, "restarts"))
    assert expected
    got = set()
    for i in found["control-plane.components"]:
        what = next(w for w in ("ready", "OOMKilled", "restarts") if w in i["summary"])
        got.add((refs(i)[0][2], i["severity"], what))
    assert got == expected


def test_proxies_failing_to_reach_destination_and_identity(found, mesh):
    seeds = mesh.check_seed_pods()
    calls = [i for i in found["control-plane.calls"] if "cannot reach" in i["summary"]]
    assert severities(calls) == {
        (demo.LINKERD_NAMESPACE, "control-plane", "destination"): CRITICAL,
        (demo.LINKERD_NAMESPACE, "control-plane", "identity"): CRITICAL,
    }
    for i in calls:
        component = refs(i)[0][2]
        pods = seeds[f"failing-{component}"]
        assert pods and set(refs(i)[1:]) == {(ns, "pod", name) for ns, name in pods}
        assert {e["source"] for e in i["evidence"]} == {f"pod {ns}/{name}" for ns, name in pods}


def test_authorization_denials_by_workload(found, mesh):
    expected, unsure = {}, set()
    for w in mesh.workloads:
        denied = w.denied_rps + w.denied_connections_per_second
        if denied:
            share = denied / (denied + mesh.authz_allowed_rps(w))
            expected[w.key] = CRITICAL if share >= 0.5 else WARNING
            if abs(share - 0.5) < 0.02:  # measured rates decide, either is right
                unsure.add(w.key)
    assert len(expected) >= 2
    got = severities(found["policy.denials"])
    assert got.keys() == expected.keys()
    assert {k: v for k, v in got.items() if k not in unsure} == {
        k: v for k, v in expected.items() if k not in unsure
    }


# --- The API's filters.


def test_the_filters_narrow_the_findings(api):
    every = findings(api)
    critical = findings(api, severity=CRITICAL)
    assert critical and {i["severity"] for i in critical} == {CRITICAL}
    assert len(critical) == sum(i["severity"] == CRITICAL for i in every)

    versions = findings(api, check="versions.proxy")
    assert versions and {i["check"] for i in versions} == {"versions.proxy"}
    assert len(versions) == sum(i["check"] == "versions.proxy" for i in every)

    both = findings(api, check="versions.proxy", severity=CRITICAL)
    assert both and all(i["severity"] == CRITICAL for i in both)
    assert len(both) < len(versions)

    # A namespace: the findings about something in it, a namespace being in itself.
    legacy = findings(api, ns="legacy-batch")
    assert legacy
    for i in legacy:
        assert any((r[2] if r[1] == "namespace" else r[0]) == "legacy-batch" for r in refs(i)), i
    assert len(legacy) == sum(
        any((r[2] if r[1] == "namespace" else r[0]) == "legacy-batch" for r in refs(i))
        for i in every
    )
    assert {"injection.annotation", "injection.misplaced"} <= {i["check"] for i in legacy}
    assert api.get("/api/v1/findings", {"severity": "bogus"}).status_code == 400


# --- The pages.


def taken_at(client) -> float:
    response = client.get("/api/v1/findings", {"per_page": 1})
    return response.json()["snapshot"]["taken_at"]


def test_the_triage_page_shows_a_seeded_finding_escaped(api):
    (annotation,) = [
        i
        for i in findings(api, check="injection.annotation")
        if refs(i)[0] == ("", "namespace", "legacy-batch")
    ]
    response = api.get("/triage/", {"check": "injection.annotation"})
    assert response.status_code == 200
    page = response.content.decode()
    summary = annotation["summary"]
    assert "'" in summary  # the value, quoted: it must be escaped
    assert html.escape(summary) in page
    assert summary not in page


def test_the_overview_lists_a_critical_finding(api):
    critical = findings(api, severity=CRITICAL)
    response = api.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-severity="critical"' in page
    assert any(html.escape(i["summary"]) in page for i in critical)
