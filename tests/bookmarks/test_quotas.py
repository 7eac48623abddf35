"""What one user can create is bounded, lists come in pages, and sharing with everyone is for
staff and team admins."""

import pytest
from django.contrib.auth.models import User

from meshdash.accounts.teams import profile_of
from meshdash.bookmarks.models import Bookmark, FrozenView, Watch
from meshdash.store import SnapshotStore
from tests.accounts.people import make_bookmark
from tests.bookmarks.snapshots import payments_snapshot

pytestmark = pytest.mark.django_db

API = "/api/v1/bookmarks"


@pytest.fixture(autouse=True)
def quotas(settings):
    settings.MESHDASH_BOOKMARKS_PER_USER = 3
    settings.MESHDASH_FROZEN_VIEWS_PER_USER = 1
    settings.MESHDASH_WATCHES_PER_USER = 2
    settings.MESHDASH_BOOKMARKS_PAGE_SIZE = 2


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def api_post(client, **fields):
    body = {"title": "t", "url": "/workloads/"} | fields
    return client.post(API, body, content_type="application/json")


def test_it_refuses_bookmarks_past_the_quota_in_the_page_and_the_api(as_alice, alice):
    for n in range(3):
        make_bookmark(alice, title=f"b{n}")
    response = as_alice.post("/bookmarks/save/", {"title": "one more", "url": "/workloads/"})
    assert response.status_code == 400
    assert b"You have 3 bookmarks, the most one may keep: delete some first." in response.content
    api = api_post(as_alice)
    assert api.status_code == 409
    assert api.json() == {
        "error": "You have 3 bookmarks, the most one may keep: delete some first."
    }
    assert Bookmark.objects.count() == 3


def test_it_counts_the_quota_per_user(client, alice, bob):
    for n in range(3):
        make_bookmark(alice, title=f"b{n}")
    client.force_login(bob)
    assert api_post(client).status_code == 201


def test_it_refuses_frozen_views_past_their_quota(as_alice, alice, redis_client):
    SnapshotStore(redis_client).write(payments_snapshot())
    assert api_post(as_alice, freeze=True).status_code == 201
    response = api_post(as_alice, freeze=True)
    assert response.status_code == 409
    assert "1 frozen views" in response.json()["error"]
    assert FrozenView.objects.count() == 1 and Bookmark.objects.count() == 1
    page = as_alice.post(
        "/bookmarks/save/", {"title": "again", "url": "/workloads/", "freeze": "on"}
    )
    assert page.status_code == 400
    assert b"frozen views" in page.content
    # A live bookmark is still within the bookmark quota.
    assert api_post(as_alice).status_code == 201


def test_it_refuses_watches_past_the_quota(as_alice, alice, payments):
    for name in ("a", "b"):
        Watch.objects.create(user=alice, namespace="shop", kind="deployment", name=name)
    data = {"namespace": "shop", "kind": "deployment", "name": "c"}
    response = as_alice.post("/bookmarks/watch/", data)
    assert response.status_code == 400
    assert b"2 watched workloads" in response.content
    assert Watch.objects.filter(user=alice).count() == 2
    # Watching again what is already watched is no new watch.
    assert as_alice.post("/bookmarks/watch/", data | {"name": "a"}).status_code == 302
    # A team's watches have their own quota.
    assert as_alice.post("/bookmarks/watch/", data | {"team": "payments"}).status_code == 302


def test_it_pages_the_bookmarks_page(as_alice, alice):
    for n in range(5):
        make_bookmark(alice, title=f"bookmark {n}", position=n)

    def table(page):
        return page.content.decode().split("<tbody>")[1].split("</tbody>")[0]

    page = as_alice.get("/bookmarks/")
    first = table(page)
    assert "bookmark 0" in first and "bookmark 1" in first and "bookmark 2" not in first
    assert "page 1 of 3" in page.content.decode()
    assert 'href="?page=2"' in page.content.decode()
    last = table(as_alice.get("/bookmarks/?page=3"))
    assert "bookmark 4" in last and "bookmark 0" not in last
    assert as_alice.get("/bookmarks/?page=zz").status_code == 200


def test_it_pages_the_api(as_alice, alice):
    for n in range(5):
        make_bookmark(alice, title=f"bookmark {n}", position=n)
    body = as_alice.get(API).json()
    assert [i["title"] for i in body["items"]] == ["bookmark 0", "bookmark 1"]
    assert (body["page"], body["pages"], body["per_page"], body["total"]) == (1, 3, 2, 5)
    body = as_alice.get(f"{API}?page=2&per_page=4").json()
    assert [i["title"] for i in body["items"]] == ["bookmark 4"]
    assert body["pages"] == 2
    for query in ("page=0", "page=x", "per_page=201", "per_page=-1"):
        response = as_alice.get(f"{API}?{query}")
        assert response.status_code == 400, query
        assert "error" in response.json()


def test_it_lets_only_staff_and_team_admins_share_with_everyone(client, alice, bob, payments):
    client.force_login(alice)
    response = api_post(client, visibility="everyone")
    assert response.status_code == 400
    assert "only staff and team admins can share with everyone" in response.json()["error"]
    page = client.post(
        "/bookmarks/save/", {"title": "t", "url": "/workloads/", "visibility": "everyone"}
    )
    assert page.status_code == 400
    assert not Bookmark.objects.exists()
    # Teams and private bookmarks are for everybody.
    assert api_post(client, visibility="team", team="payments").status_code == 201

    profile_of(payments).admins.add(bob)
    client.force_login(bob)
    assert api_post(client, visibility="everyone").status_code == 201
    staff = User.objects.create_user("stef", is_staff=True)
    client.force_login(staff)
    assert api_post(client, visibility="everyone").status_code == 201


def test_it_lets_everybody_share_with_everyone_when_the_setting_says_so(as_alice, settings):
    settings.MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE = True
    assert api_post(as_alice, visibility="everyone").status_code == 201


def test_it_keeps_an_existing_everyone_bookmark_editable(as_alice, alice):
    bookmark = make_bookmark(alice, visibility="everyone")
    response = as_alice.patch(
        f"{API}/{bookmark.pk}", {"title": "renamed"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["visibility"] == "everyone"


def test_it_hides_the_everyone_choice_from_those_who_may_not_use_it(as_alice):
    page = as_alice.get("/bookmarks/save/?url=/workloads/").content.decode()
    assert 'value="everyone"' not in page
