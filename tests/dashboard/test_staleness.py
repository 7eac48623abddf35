"""A snapshot that no collection replaced for too long is shown as stale, on the pages and in
the API, although no collection failed (a stopped worker, a stopped beat, a hung Prometheus)."""

import re
import time

import pytest
from django.conf import settings as django_settings

from meshdash.store import SnapshotStore
from tests.dashboard.known import known_snapshot, write_known

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/workloads/",
    "/namespaces/",
    "/namespaces/shop/",
    "/workloads/shop/deployment/frontend/",
]
APIS = ["/api/v1/workloads", "/api/v1/namespaces", "/api/v1/workloads/shop/deployment/frontend"]


def write_taken_ago(redis_client, seconds: float, window: str = "1m") -> None:
    store = SnapshotStore(redis_client, django_settings.MESHDASH_REDIS_PREFIX)
    store.write(known_snapshot(window, taken_at=time.time() - seconds))


@pytest.fixture
def old_snapshot(redis_client, settings):
    """The 1m snapshot, taken 129 s ago, with a 10 s refresh interval and a multiple of 3."""
    settings.MESHDASH_WINDOWS = {**settings.MESHDASH_WINDOWS, "1m": 10}
    settings.MESHDASH_STALE_AFTER_INTERVALS = 3
    write_taken_ago(redis_client, 129)


def age_span(page: str) -> str:
    found = re.search(r'<span class="(age[^"]*)">', page)
    assert found, page[:2000]
    return found[1]


@pytest.mark.parametrize("url", APIS)
def test_the_api_says_an_old_snapshot_is_stale_and_why(client, old_snapshot, url):
    snapshot = client.get(url).json()["snapshot"]
    assert snapshot["stale"] is True
    assert 129 <= snapshot["age_seconds"] < 140
    assert re.fullmatch(r"no collection for 2 min (9|1[0-9]) s", snapshot["reason"]), snapshot
    assert snapshot["failure_reason"] == "" and snapshot["errors"] == {}


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_show_the_banner_and_a_red_age(client, old_snapshot, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    banner = re.search(r'<div class="banner stale"[^>]*>(.*?)</div>', page, re.S)
    assert banner, url
    text = " ".join(re.sub(r"<[^>]+>", " ", banner[1]).split())
    assert text.startswith("Stale data: no collection for 2 min "), text
    assert age_span(page) == "age stale"


def test_the_table_swap_carries_the_banner_too(client, old_snapshot):
    page = client.get("/workloads/", headers={"HX-Request": "true"}).content.decode()
    assert page.lstrip().startswith('<section id="workloads"')  # the table alone
    assert "Stale data: no collection for 2 min" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert age_span(page) == "age stale"


def test_a_recent_snapshot_is_fresh(client, redis_client, settings):
    settings.MESHDASH_WINDOWS = {**settings.MESHDASH_WINDOWS, "1m": 10}
    write_known(redis_client, minutes=1)
    snapshot = client.get("/api/v1/workloads").json()["snapshot"]
    assert (snapshot["stale"], snapshot["reason"]) == (False, "")
    page = client.get("/workloads/").content.decode()
    assert 'class="banner stale"' not in page
    assert age_span(page) == "age"


def test_the_multiple_is_a_setting(client, old_snapshot, settings):
    settings.MESHDASH_STALE_AFTER_INTERVALS = 20  # 200 s
    snapshot = client.get("/api/v1/workloads").json()["snapshot"]
    assert (snapshot["stale"], snapshot["reason"]) == (False, "")


def test_each_window_is_judged_by_its_own_interval(client, redis_client, settings):
    settings.MESHDASH_WINDOWS = {"1m": 10, "10m": 60, "1h": 300}
    write_taken_ago(redis_client, 129, window="10m")
    snapshot = client.get("/api/v1/workloads?window=10m").json()["snapshot"]
    assert (snapshot["stale"], snapshot["reason"]) == (False, "")  # 129 s < 3 x 60 s
