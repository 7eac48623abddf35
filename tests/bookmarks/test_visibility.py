import pytest
from django.contrib.auth.models import AnonymousUser, Group

from meshdash.bookmarks.models import Bookmark
from tests.accounts.people import make_bookmark

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(alice, bob, carol, payments):
    return {
        "private": make_bookmark(alice, title="private"),
        "team": make_bookmark(alice, title="team", visibility="team", team=payments),
        "everyone": make_bookmark(alice, title="everyone", visibility="everyone"),
        "carols": make_bookmark(carol, title="carols"),
    }


def titles(user):
    return sorted(Bookmark.objects.visible_to(user).values_list("title", flat=True))


def test_it_shows_owners_everything_of_theirs(shelf, alice):
    assert titles(alice) == ["everyone", "private", "team"]


def test_it_shows_teammates_team_and_everyone_bookmarks(shelf, bob):
    assert titles(bob) == ["everyone", "team"]


def test_it_shows_strangers_only_everyone_bookmarks(shelf, carol):
    assert titles(carol) == ["carols", "everyone"]


def test_it_shows_anonymous_visitors_nothing_by_default(shelf):
    assert titles(AnonymousUser()) == []


def test_it_shows_anonymous_readers_everyone_bookmarks(shelf, settings):
    settings.MESHDASH_ANONYMOUS_READ = True
    assert titles(AnonymousUser()) == ["everyone"]


def test_it_hides_a_team_bookmark_from_members_who_left(shelf, bob, payments):
    bob.groups.remove(payments)
    assert titles(bob) == ["everyone"]


def test_it_leaves_no_visible_bookmark_when_a_team_is_deleted(shelf, alice, bob, payments):
    payments.delete()
    assert titles(bob) == ["everyone"]
    team = Bookmark.objects.get(title="team")
    assert team.team is None
    # The owner keeps it, shared with nobody.
    assert titles(alice) == ["everyone", "private", "team"]


def test_it_does_not_reshare_with_a_new_team_of_the_same_name(shelf, carol, payments):
    payments.delete()
    carol.groups.add(Group.objects.create(name="payments"))
    assert titles(carol) == ["carols", "everyone"]


def test_it_deletes_a_deleted_users_bookmarks(shelf, alice, bob):
    alice.delete()
    assert titles(bob) == []
    assert not Bookmark.objects.exclude(title="carols").exists()


def test_it_answers_404_in_the_page_and_the_api_for_a_bookmark_one_may_not_see(
    client, shelf, carol
):
    client.force_login(carol)
    for name in ("private", "team"):
        pk = shelf[name].pk
        assert client.get(f"/bookmarks/{pk}/").status_code == 404
        assert client.get(f"/api/v1/bookmarks/{pk}").status_code == 404
        assert client.post(f"/bookmarks/{pk}/delete/").status_code == 404
        assert client.post(f"/bookmarks/{pk}/edit/", {"title": "x"}).status_code == 404
        assert client.delete(f"/api/v1/bookmarks/{pk}").status_code == 404
    assert Bookmark.objects.count() == 4


def test_it_opens_a_visible_bookmark_at_its_url(client, shelf, bob):
    client.force_login(bob)
    response = client.get(f"/bookmarks/{shelf['team'].pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/workloads/?ns=payments"


def test_it_hides_owners_names_from_anonymous_readers(client, shelf, settings):
    settings.MESHDASH_ANONYMOUS_READ = True
    items = client.get("/api/v1/bookmarks").json()["items"]
    assert [(i["title"], i["owner"]) for i in items] == [("everyone", None)]
    page = client.get("/bookmarks/").content.decode()
    assert "everyone" in page and "alice" not in page
    assert "alice" not in client.get(f"/api/v1/bookmarks/{shelf['everyone'].pk}").content.decode()
