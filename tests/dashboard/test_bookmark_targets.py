"""Bookmarks checked as their pages check their URLs, and bookmarks whose target has gone."""

import pytest

from meshdash.bookmarks.menu import menu
from meshdash.bookmarks.models import Bookmark
from meshdash.bookmarks.templatetags import bookmarks_tags
from meshdash.bookmarks.urlcheck import UnsafeUrl, normalise_internal_url
from meshdash.dashboard.freezing import NotAView, bookmark_target, check_url, gone_paths
from tests.accounts.people import make_bookmark
from tests.dashboard.browsing import write_browsing

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh(redis_client):
    return write_browsing(redis_client)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/workloads/?sort=bogus", "unknown sort 'bogus'"),
        ("/?window=zz", "unknown window"),
        ("/namespaces/?sort=p99", "unknown sort"),
        ("/pods/?problem=haunted", "unknown problem"),
        ("/services/?health=purple", "unknown health"),
        ("/mtls/?sort=p50", "unknown sort"),
        ("/workloads/shop/deployment/web/?window=2d", "unknown window"),
        ("/workloads/?label=nokey", "label must be key=value"),
    ],
)
def test_a_url_its_page_refuses_is_refused_at_save(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        normalise_internal_url(url)
    path, _, query = url.partition("?")
    with pytest.raises(NotAView):
        check_url(path, query)


@pytest.mark.parametrize(
    "url",
    [
        "/workloads/?sort=rps&dir=desc",
        "/pods/?problem=oomkilled&node=node-a",
        "/mtls/?list=unmeshed",
        "/services/?health=warning",
        "/workloads/?label=team=payments",
        "/authorization/",
    ],
)
def test_a_url_its_page_accepts_is_kept(url):
    assert normalise_internal_url(url)[0] == url.partition("?")[0]


def test_saving_a_bogus_sort_says_why_and_saves_nothing(client, user):
    response = client.post(
        "/bookmarks/save/", {"title": "x", "url": "/workloads/?sort=bogus", "visibility": "private"}
    )
    assert response.status_code == 400 and b"unknown sort" in response.content
    assert not Bookmark.objects.exists()


def test_gone_paths_names_workloads_and_namespaces_the_snapshot_lacks(mesh):
    paths = {
        "/workloads/payments/deployment/api/",
        "/workloads/payments/deployment/vanished/",
        "/namespaces/shop/",
        "/namespaces/gone-ns/",
        "/workloads/",
    }
    assert gone_paths(paths) == {"/workloads/payments/deployment/vanished/", "/namespaces/gone-ns/"}


def test_gone_paths_knows_nothing_without_a_snapshot(redis_client):
    assert gone_paths({"/workloads/payments/deployment/vanished/"}) == set()


def test_the_menu_marks_a_gone_bookmark_and_leads_to_the_list(client, user, mesh):
    gone = make_bookmark(
        user, title="Old one", path="/workloads/payments/deployment/vanished/", query=""
    )
    kept = make_bookmark(
        user, title="Live one", path="/workloads/payments/deployment/api/", query=""
    )
    body = client.get("/workloads/").content.decode()
    assert f'href="/bookmarks/#bookmark-{gone.pk}" data-gone' in body
    assert f'href="/bookmarks/{kept.pk}/"' in body


def test_a_gone_bookmark_stays_editable(client, user, mesh):
    gone = make_bookmark(
        user, title="Old one", path="/workloads/payments/deployment/vanished/", query="sort=bogus"
    )
    response = client.post(f"/bookmarks/{gone.pk}/edit/", {"title": "Renamed"})
    assert response.status_code == 302
    gone.refresh_from_db()
    assert gone.title == "Renamed"


@pytest.mark.parametrize("url", ["/pods/", "/services/", "/mtls/", "/authorization/"])
def test_only_workload_pages_and_lists_can_be_frozen(url, mesh):
    from meshdash.dashboard.freezing import view_for_url

    with pytest.raises(NotAView, match="only workload lists and workload pages"):
        view_for_url(url, "")


def test_a_bookmarks_target_is_what_its_page_shows():
    assert bookmark_target("/workloads/payments/deployment/api/") == (
        "workload", "payments", "deployment", "api",
    )  # fmt: skip
    assert bookmark_target("/namespaces/shop/") == ("namespace", "shop")
    assert bookmark_target("/workloads/caf%C3%A9/deployment/x/")[1] == "café"
    for path in ("/workloads/", "/", "/pods/", "/no-such-page/"):
        assert bookmark_target(path) is None


def test_the_cached_menu_carries_each_items_target(user):
    make_bookmark(user, title="A workload", path="/workloads/payments/deployment/api/", query="")
    make_bookmark(user, title="A list", path="/workloads/", query="ns=payments")
    items = {item["title"]: item for item in menu(user)["sections"][0]["items"]}
    assert items["A workload"]["target"] == ("workload", "payments", "deployment", "api")
    assert items["A list"]["target"] is None


def test_a_menu_cached_before_targets_were_kept_still_marks_the_gone(user, mesh, monkeypatch):
    make_bookmark(user, title="Old one", path="/workloads/payments/deployment/vanished/", query="")
    built = menu(user)
    for item in built["sections"][0]["items"]:
        del item["target"]
    monkeypatch.setattr(bookmarks_tags, "menu", lambda user: built)
    [item] = bookmarks_tags.bookmark_menu(user)["sections"][0]["items"]
    assert item["gone"] is True
