import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from meshdash.accounts.teams import profile_of
from meshdash.bookmarks.models import Bookmark, Watch
from tests.accounts.people import make_bookmark

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def save(client, **fields):
    data = {"title": "Errors", "url": "/workloads/?sort=rps&ns=payments", "visibility": "private"}
    return client.post("/bookmarks/save/", data | fields)


def test_it_saves_a_view_with_a_normalised_url(as_alice, alice):
    response = save(as_alice, note="runbook step 3")
    assert response.status_code == 302
    bookmark = Bookmark.objects.get(owner=alice)
    assert (bookmark.path, bookmark.query) == ("/workloads/", "ns=payments&sort=rps")
    assert bookmark.note == "runbook step 3"


def test_it_shares_with_a_team_of_the_owner(as_alice, alice, payments):
    save(as_alice, visibility="team", team="payments")
    assert Bookmark.objects.get(owner=alice).team == payments


def test_it_refuses_to_share_with_a_team_the_owner_is_not_in(as_alice, search_team):
    response = save(as_alice, visibility="team", team="search")
    assert response.status_code == 400
    assert b"choose one of your teams" in response.content
    assert not Bookmark.objects.exists()


@pytest.mark.parametrize(
    "url", ["//evil.example/", "https://x.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_it_refuses_to_save_open_redirects(as_alice, url):
    response = save(as_alice, url=url)
    assert response.status_code == 400
    assert not Bookmark.objects.exists()


def test_it_prefills_the_save_form_from_the_page(as_alice):
    response = as_alice.get("/bookmarks/save/", {"url": "/workloads/?ns=a"})
    assert b'value="/workloads/?ns=a"' in response.content


def test_it_does_not_prefill_a_foreign_url(as_alice):
    response = as_alice.get("/bookmarks/save/", {"url": "//evil.example/"})
    assert b'<label>Page <input name="url" value="/" ' in response.content


def test_it_escapes_titles_and_notes(as_alice, alice, bob, payments):
    make_bookmark(alice, title=HOSTILE, note=HOSTILE, visibility="team", team=payments)
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        for url in ("/bookmarks/", "/accounts/me/"):
            content = client.get(url).content.decode()
            assert "<script>alert" not in content
        assert (
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
            in client.get("/bookmarks/").content.decode()
        )


def test_it_lists_what_the_user_may_see_with_the_right_controls(client, alice, bob, payments):
    mine = make_bookmark(bob, title="bobs")
    shared = make_bookmark(alice, title="alices", visibility="team", team=payments)
    client.force_login(bob)
    content = client.get("/bookmarks/").content.decode()
    assert f"/bookmarks/{mine.pk}/delete/" in content
    assert f"/bookmarks/{mine.pk}/edit/" in content
    assert f"/bookmarks/{shared.pk}/" in content
    assert f"/bookmarks/{shared.pk}/delete/" not in content
    assert f"/bookmarks/{shared.pk}/edit/" not in content


def test_it_lets_the_owner_rename_reshare_and_pin(as_alice, alice, payments):
    bookmark = make_bookmark(alice)
    response = as_alice.post(
        f"/bookmarks/{bookmark.pk}/edit/",
        {"title": "Renamed", "note": "n", "visibility": "team", "team": "payments", "pinned": "on"},
    )
    assert response.status_code == 302
    bookmark.refresh_from_db()
    assert (bookmark.title, bookmark.visibility, bookmark.team, bookmark.pinned) == (
        "Renamed",
        "team",
        payments,
        True,
    )


def test_it_forbids_teammates_to_change_or_delete(client, alice, bob, payments):
    bookmark = make_bookmark(alice, visibility="team", team=payments)
    client.force_login(bob)
    assert client.post(f"/bookmarks/{bookmark.pk}/edit/", {"title": "x"}).status_code == 403
    assert client.post(f"/bookmarks/{bookmark.pk}/delete/").status_code == 403
    assert client.post(f"/bookmarks/{bookmark.pk}/move/").status_code == 403
    bookmark.refresh_from_db()
    assert bookmark.title == "Payments by errors"


def test_it_lets_a_team_admin_delete_a_teammates_team_bookmark(client, alice, bob, payments):
    bookmark = make_bookmark(alice, visibility="team", team=payments)
    profile_of(payments).admins.add(bob)
    client.force_login(bob)
    assert client.post(f"/bookmarks/{bookmark.pk}/delete/").status_code == 302
    assert not Bookmark.objects.exists()


def test_it_does_not_let_a_team_admin_delete_a_private_or_public_bookmark(
    client, alice, bob, payments
):
    profile_of(payments).admins.add(bob)
    public = make_bookmark(alice, visibility="everyone")
    client.force_login(bob)
    assert client.post(f"/bookmarks/{public.pk}/delete/").status_code == 403


def test_it_reorders_within_pinned_and_unpinned(as_alice, alice):
    make_bookmark(alice, title="a", position=1)
    b = make_bookmark(alice, title="b", position=2)
    make_bookmark(alice, title="c", position=3, pinned=True)

    def order():
        return list(
            Bookmark.objects.filter(owner=alice).in_menu_order().values_list("title", flat=True)
        )

    as_alice.post(f"/bookmarks/{b.pk}/move/", {"direction": "up"})
    assert order() == ["c", "b", "a"]
    # A move never crosses from the unpinned into the pinned group.
    as_alice.post(f"/bookmarks/{b.pk}/move/", {"direction": "up"})
    assert order() == ["c", "b", "a"]
    as_alice.post(f"/bookmarks/{b.pk}/move/", {"direction": "down"})
    assert order() == ["c", "a", "b"]


def test_it_shows_the_menu_with_pinned_first_and_sections(client, alice, bob, carol, payments):
    make_bookmark(alice, title="plain", position=1)
    make_bookmark(alice, title="pinned", position=2, pinned=True)
    make_bookmark(bob, title="team-of-bob", visibility="team", team=payments)
    make_bookmark(carol, title="public-of-carol", visibility="everyone")
    make_bookmark(carol, title="hidden-of-carol")
    client.force_login(alice)
    content = client.get("/bookmarks/").content.decode()
    menu = content[content.index('data-menu="bookmarks"') :]
    assert menu.index("pinned") < menu.index("plain")
    assert menu.index("Mine") < menu.index("pinned") < menu.index("My teams")
    assert menu.index("My teams") < menu.index("team-of-bob") < menu.index("Everyone")
    assert menu.index("Everyone") < menu.index("public-of-carol")
    assert "hidden-of-carol" not in content


def test_it_watches_and_unwatches_workloads(as_alice, alice, payments):
    response = as_alice.post(
        "/bookmarks/watch/",
        {"namespace": "shop", "kind": "deployment", "name": "cart", "next": "/workloads/?ns=shop"},
    )
    assert response["Location"] == "/workloads/?ns=shop"
    as_alice.post(
        "/bookmarks/watch/",
        {"namespace": "shop", "kind": "deployment", "name": "web", "team": "payments"},
    )
    assert Watch.objects.filter(user=alice).count() == 1
    assert Watch.objects.filter(team=payments).count() == 1
    watch = Watch.objects.get(user=alice)
    as_alice.post(f"/bookmarks/watch/{watch.pk}/delete/", {"next": "//evil.example"})
    assert not Watch.objects.filter(user=alice).exists()


def test_it_refuses_a_watch_for_a_team_one_is_not_in(as_alice, search_team):
    response = as_alice.post(
        "/bookmarks/watch/",
        {"namespace": "shop", "kind": "deployment", "name": "cart", "team": "search"},
    )
    assert response.status_code == 400
    assert not Watch.objects.exists()


FORMS = [
    ("/bookmarks/save/", {"title": "t", "url": "/bookmarks/"}),
    ("/bookmarks/{pk}/edit/", {"title": "t"}),
    ("/bookmarks/{pk}/delete/", {}),
    ("/bookmarks/{pk}/move/", {"direction": "up"}),
    ("/bookmarks/watch/", {"namespace": "a", "kind": "deployment", "name": "b"}),
    ("/bookmarks/watch/{watch}/delete/", {}),
    ("/accounts/me/tokens/", {"name": "x"}),
    ("/accounts/me/tokens/1/revoke/", {}),
    ("/accounts/logout/", {}),
]


@pytest.mark.parametrize("url, data", FORMS)
def test_it_enforces_csrf_on_every_form(alice, url, data):
    bookmark = make_bookmark(alice)
    watch = Watch.objects.create(user=alice, namespace="a", kind="deployment", name="z")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    before = (Bookmark.objects.count(), Watch.objects.count())
    response = client.post(url.format(pk=bookmark.pk, watch=watch.pk), data)
    assert response.status_code == 403
    assert (Bookmark.objects.count(), Watch.objects.count()) == before


def test_it_accepts_forms_with_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/bookmarks/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    response = client.post(
        "/bookmarks/save/",
        {"title": "t", "url": "/bookmarks/", "csrfmiddlewaretoken": token.decode()},
    )
    assert response.status_code == 302
    assert Bookmark.objects.count() == 1


def test_it_keeps_a_deleted_users_name_out_of_menus(client, alice, bob, payments):
    make_bookmark(alice, title="by-alice", visibility="team", team=payments)
    User.objects.get(username="alice").delete()
    client.force_login(bob)
    assert "by-alice" not in client.get("/bookmarks/").content.decode()
