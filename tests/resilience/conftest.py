"""Fixtures for the fault scenarios: the demo mesh and its Prometheus as the sources, fault
proxies in front of them, and the JSON API read as a signed-in user."""

import html
import json
import re
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from tests.resilience.faults import FaultProxy

WINDOW = "1m"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("oncall")  # no password: hashing is slow


@pytest.fixture
def api(client, user):
    client.force_login(user)
    return client


def wait_for_traffic(prometheus_url: str, timeout: float = 60.0) -> None:
    """Until Prometheus has scraped the demo mesh twice, so that a 1m collection has numbers."""
    promql = 'sum(increase(response_total{direction="inbound"}[1m])) > 0'
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(url, timeout=10) as answer:
            if json.load(answer)["data"]["result"]:
                return
        assert time.monotonic() < deadline, "Prometheus holds no traffic of the demo mesh"
        time.sleep(0.5)


@pytest.fixture
def sources(settings, redis_client, demo_mesh, demo_prometheus):
    """Collections read the demo mesh's Prometheus and Kubernetes stand-in and write to the
    private Redis. Their deadline is roomy: a loaded machine slows the good runs' queries
    several times over, and the runs meant to miss a deadline set a short one of their own."""
    wait_for_traffic(demo_prometheus.url)
    settings.PROMETHEUS_URL = demo_prometheus.url
    settings.KUBECONFIG = str(demo_mesh.kubeconfig)
    settings.KUBE_CONTEXT = ""
    settings.MESHDASH_COLLECT_DEADLINE_SECONDS = 30
    return settings


@pytest.fixture
def prometheus_proxy(sources, demo_prometheus):
    """A fault proxy in front of the demo mesh's Prometheus, which collections now read."""
    proxy = FaultProxy(demo_prometheus.url)
    sources.PROMETHEUS_URL = proxy.url
    yield proxy
    proxy.stop()


@pytest.fixture
def kube_proxy(sources, demo_mesh, tmp_path):
    """A fault proxy in front of the Kubernetes API stand-in, with a kubeconfig pointing at it."""
    config = yaml.safe_load(demo_mesh.kubeconfig.read_text())
    proxy = FaultProxy(config["clusters"][0]["cluster"]["server"])
    config["clusters"][0]["cluster"]["server"] = proxy.url
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    sources.KUBECONFIG = str(kubeconfig)
    yield proxy
    proxy.stop()


def read_workloads(client, window: str = WINDOW) -> tuple[dict[str, dict], dict]:
    """Every workload ``/api/v1/workloads`` lists, keyed "namespace/kind/name", and the
    snapshot block, without its age (which moves on by itself)."""
    items, page = {}, 1
    while True:
        query = {"window": window, "page": page, "per_page": 200}
        response = client.get("/api/v1/workloads", query)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        for item in body["items"]:
            items[f"{item['namespace']}/{item['kind']}/{item['name']}"] = item
        if page >= body["pages"]:
            assert len(items) == body["total"]
            snapshot = dict(body["snapshot"])
            del snapshot["age_seconds"]
            return items, snapshot
        page += 1


def banner(client) -> str:
    """The text of the stale or partial data banner on the workload list ("" without one)."""
    response = client.get("/workloads/")
    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(r'<div class="banner stale"[^>]*>(.*?)</div>', page, re.S)
    if found is None:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split())


def read_good(client) -> tuple[dict[str, dict], dict]:
    """The API after a good collection: fresh, complete, with traffic numbers."""
    items, snapshot = read_workloads(client)
    assert items
    assert snapshot["stale"] is False and snapshot["errors"] == {}, snapshot
    assert snapshot["failure_reason"] == ""
    assert sum(item["rps"] for item in items.values()) > 0
    assert any(item["success_rate"] is not None for item in items.values())
    assert banner(client) == ""
    return items, snapshot


def assert_serves_last_good(client, good: tuple[dict, dict], *reason_parts: str) -> None:
    """The API answers the last good snapshot, unchanged, marked stale with the reason."""
    items, snapshot = read_workloads(client)
    good_items, good_snapshot = good
    assert items == good_items
    assert snapshot["taken_at"] == good_snapshot["taken_at"]
    assert snapshot["collect_seconds"] == good_snapshot["collect_seconds"]
    assert snapshot["errors"] == {}
    assert snapshot["stale"] is True
    shown = banner(client)
    assert shown.startswith("Stale data: the last collection failed"), shown
    for part in reason_parts:
        assert part in snapshot["failure_reason"], snapshot
        assert part in shown


def assert_partial(
    client, good: tuple[dict, dict], parts: set[str], reasons: tuple[str, ...]
) -> dict[str, dict]:
    """The API answers a fresh snapshot without ``parts``, each missing for one of ``reasons``,
    marked as partial and not as failed; its workloads."""
    items, snapshot = read_workloads(client)
    assert snapshot["taken_at"] > good[1]["taken_at"]
    assert set(snapshot["errors"]) == parts, snapshot
    assert all(why in reasons for why in snapshot["errors"].values()), snapshot
    assert snapshot["stale"] is True and snapshot["failure_reason"] == ""
    shown = banner(client)
    assert shown.startswith("Partial data:") and "failed" not in shown, shown
    for part, why in snapshot["errors"].items():
        assert part in shown and why in shown
    return items


def assert_recovered(client, good: tuple[dict, dict]) -> tuple[dict, dict]:
    """A fresh snapshot after the fault, not stale, listing the same workloads."""
    items, snapshot = read_good(client)
    assert snapshot["taken_at"] > good[1]["taken_at"]
    assert items.keys() == good[0].keys()
    return items, snapshot
