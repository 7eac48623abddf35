"""The pods page, mesh-wide: each filter finds the one bad replica; sort, pages, JSON and CSV
agree with the page."""

import csv
import io
import re

import pytest

from tests.dashboard.browsing import HOSTILE, write_browsing

pytestmark = pytest.mark.django_db

ROW_RE = re.compile(r'<tr data-pod="([^"]+)"')


@pytest.fixture
def mesh(redis_client):
    return write_browsing(redis_client)


def pods_on(client, url) -> list[str]:
    return ROW_RE.findall(client.get(url).content.decode())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("problem=oomkilled", ["payments/api-oom-2"]),
        ("problem=init", ["payments/api-init-3"]),
        ("problem=crashloop", ["shop/web-crash-1"]),
        ("node=node-b", ["shop/web-crash-1"]),
        ("proxy_version=stable-2.13.4", ["shop/web-crash-1"]),
        ("label=team=payments&q=oom", ["payments/api-oom-2"]),
        ("ns=payments&problem=not-ready", ["payments/api-init-3"]),
    ],
)
def test_each_filter_finds_the_bad_replica(client, mesh, query, expected):
    assert pods_on(client, f"/pods/?{query}") == expected
    data = client.get(f"/api/v1/pods?{query}").json()
    assert [f"{p['namespace']}/{p['name']}" for p in data["items"]] == expected


def test_it_shows_each_containers_last_termination_and_the_proxys_memory(client, mesh):
    body = client.get("/pods/?q=oom").content.decode()
    assert '<span class="term bad" data-term="proxy">proxy: OOMKilled</span>' in body
    assert "63.0 MiB / 64.0 MiB (98 %)" in body and 'class="warn"' in body
    body = client.get("/pods/?problem=crashloop").content.decode()
    assert 'data-term="app">web: Error</span>' in body
    assert 'data-problems="crashloop not-ready"' in body


def test_leaf_certificates_say_expired_never_a_negative_time(client, mesh):
    body = client.get("/pods/?ns=shop").content.decode()
    assert ">expired<" in body and "-6 min" not in body
    healthy = client.get("/pods/?q=healthy").content.decode()
    assert 'data-leaf="healthy"' in healthy and "20 h of 24 h" in healthy


def test_the_workload_is_the_rows_link_and_names_are_escaped(client, mesh):
    body = client.get("/pods/?ns=shop").content.decode()
    assert '<a href="/workloads/shop/deployment/web/" data-open>web</a>' in body
    assert HOSTILE not in body and "&lt;script&gt;" in body


def test_it_sorts_both_ways_and_keeps_filters_in_links(client, mesh):
    ascending = pods_on(client, "/pods/?sort=restarts&dir=asc")
    descending = pods_on(client, "/pods/?sort=restarts&dir=desc")
    assert descending[0] == "shop/web-crash-1" and ascending[-1] == "shop/web-crash-1"
    body = client.get("/pods/?problem=oomkilled&sort=restarts&dir=desc").content.decode()
    assert 'href="/pods.csv?problem=oomkilled&amp;sort=restarts&amp;dir=desc"' in body
    assert 'href="?problem=oomkilled&amp;sort=name&amp;dir=asc"' in body


def test_it_pages(client, mesh):
    first = pods_on(client, "/pods/?per_page=25")
    assert len(first) == 6
    assert pods_on(client, "/pods/?per_page=25&page=9") == first  # clamped to the last


def test_the_partial_is_the_table_region_only(client, mesh):
    body = client.get("/pods/?problem=init", headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<section id="pods"') and "<h1>" not in body
    assert 'hx-get="/pods/?problem=init"' in body


def test_the_csv_has_every_matching_pod_with_its_problems(client, mesh):
    response = client.get("/pods.csv?ns=payments")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["name"] for r in rows] == ["api-healthy-1", "api-init-3", "api-oom-2"]
    oom = next(r for r in rows if r["name"] == "api-oom-2")
    assert oom["proxy_last_termination"] == "OOMKilled" and oom["proxy_restarts"] == "3"
