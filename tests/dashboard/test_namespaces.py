import re

import pytest
from django.conf import settings

from meshdash.mesh.model import Namespace
from meshdash.store import SnapshotStore
from tests.dashboard.known import known_snapshot

pytestmark = pytest.mark.django_db

NS_ROW_RE = re.compile(r'<tr data-namespace="([^"]+)">')


def namespace_rows(response) -> list[str]:
    return NS_ROW_RE.findall(response.content.decode())


@pytest.fixture
def crowded(redis_client):
    """The known mesh with 300 more namespaces, ns-042 the only one with critical workloads."""
    snapshot = known_snapshot()
    snapshot.namespaces += [
        Namespace(
            f"ns-{i:03d}",
            "enabled",
            workloads=i,
            rps=1e6 + i,
            health_counts={"critical": 3 if i == 42 else 0},
        )
        for i in range(300)
    ]
    SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60).write(
        snapshot
    )
    return snapshot


def test_it_shows_a_bounded_overview_of_many_namespaces(client, crowded):
    body = client.get("/").content.decode()
    panel = body.split('id="ns-h"')[1].split("</section>")[0]
    shown = NS_ROW_RE.findall(panel)
    assert len(shown) == 10
    # worst health first, then the busiest
    assert shown[:3] == ["ns-042", "ns-299", "ns-298"]
    assert '<a href="/namespaces/" data-all-namespaces>All 303 namespaces</a>' in panel


def test_it_pages_the_namespaces_list(client, crowded):
    first = client.get("/namespaces/")
    assert namespace_rows(first)[:3] == ["legacy", "ns-000", "ns-001"]
    assert len(namespace_rows(first)) == 50
    body = first.content.decode()
    assert "1–50 of <b data-total>303</b> namespaces" in body
    assert 'href="?page=2"' in body and 'rel="next"' in body
    last = client.get("/namespaces/?page=7")
    assert namespace_rows(last) == ["ns-299", "payments", "shop"]
    assert namespace_rows(client.get("/namespaces/?page=99")) == ["ns-299", "payments", "shop"]


def test_it_sorts_and_searches_namespaces_in_the_url(client, crowded):
    busiest = client.get("/namespaces/?sort=workloads&dir=desc&per_page=25")
    assert namespace_rows(busiest)[:2] == ["ns-299", "ns-298"]
    assert len(namespace_rows(busiest)) == 25
    body = busiest.content.decode()
    # the column header flips the direction and keeps the other parameters
    assert 'href="?per_page=25&amp;sort=workloads&amp;dir=asc"' in body
    found = client.get("/namespaces/?q=ns-04&sort=name")
    assert namespace_rows(found) == [f"ns-{i:03d}" for i in range(40, 50)]
    partial = client.get("/namespaces/?q=ns-04", headers={"HX-Request": "true"})
    assert "<h1>" not in partial.content.decode()
    assert len(namespace_rows(partial)) == 10


@pytest.mark.parametrize(
    "query", ["sort=nope", "dir=up", "page=0", "per_page=100000", "q=%2A", "page=x"]
)
def test_it_refuses_bad_namespace_list_input(client, crowded, query):
    assert client.get(f"/namespaces/?{query}").status_code == 400
    assert client.get(f"/api/v1/namespaces?{query}").status_code == 400


def test_it_pages_the_namespaces_api(client, crowded):
    data = client.get("/api/v1/namespaces?per_page=25&page=2&sort=rps&dir=desc").json()
    assert (data["total"], data["page"], data["per_page"], data["pages"]) == (303, 2, 25, 13)
    assert [ns["name"] for ns in data["items"]][:2] == ["ns-274", "ns-273"]
    assert set(data["items"][0]) >= {"name", "workloads", "health_counts", "inject_annotation"}


def test_it_offers_a_bounded_namespace_picker_with_the_selected_first(client, crowded):
    body = client.get("/workloads/?ns=ns-250").content.decode()
    picker = body.split('class="ns-options"')[1].split("</div>")[0]
    offered = re.findall(r'name="ns" value="([^"]+)"', picker)
    assert len(offered) == 40
    assert offered[0] == "ns-250"
    assert "checked> ns-250" in picker
    assert "263 more:" in picker and 'type="text" name="ns"' in picker


def test_it_filters_by_a_namespace_typed_beside_the_picker(client, crowded):
    response = client.get("/workloads/?ns=&ns=shop")
    assert response.status_code == 200
    assert re.findall(r'name="ns" value="shop"[^>]*checked', response.content.decode())
