"""A signed-in page runs no SQL in the steady state: the session, the user, their teams' scope
and the bookmarks menu come from the cache (meshdash.accounts.cache), which every change that
could alter them makes stale. A password change or a deactivation still signs the session out."""

import html
import re

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meshdash.accounts import sessions
from meshdash.accounts.cache import GENERATION_KEY
from meshdash.accounts.models import TeamProfile
from meshdash.bookmarks.models import EVERYONE, TEAM, Bookmark, Watch
from tests.accounts.people import PASSWORD, make_bookmark

pytestmark = pytest.mark.django_db

PAGES = [
    "/workloads/",
    "/workloads/?sort=rps&dir=desc&health=critical",
    "/workloads/?q=api",
    "/namespaces/",
    "/",
    "/no-such-page/",
]


@pytest.fixture
def signed_in(alice, bob, payments, known):
    make_bookmark(alice, title="Alice's own")
    make_bookmark(bob, title="Payments shared", visibility=TEAM, team=payments)
    make_bookmark(bob, title="For all", visibility=EVERYONE)
    Watch.objects.create(user=alice, namespace="payments", kind="deployment", name="api")
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    return client


def menu_titles(client, path="/workloads/") -> list[str]:
    """The titles in the page's bookmarks menu, in menu order."""
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    menu = page.partition('data-menu="bookmarks"')[2].partition('data-menu="save"')[0]
    return [
        html.unescape(title)
        for title in re.findall(r'<a href="/bookmarks/\d+/"[^>]*>([^<]*)</a>', menu)
    ]


def team_options(client) -> list[str]:
    page = client.get("/workloads/").content.decode()
    form = (
        page.partition('data-menu="save"')[2].partition('name="team"')[2].partition("</select>")[0]
    )
    return re.findall(r'<option value="([^"]*)"', form)


@pytest.mark.parametrize("path", PAGES)
def test_it_runs_no_query_on_a_warmed_signed_in_page(signed_in, path, django_assert_num_queries):
    signed_in.get(path)
    with django_assert_num_queries(0):
        response = signed_in.get(path)
    assert response.status_code in (200, 404)
    assert response.wsgi_request.user.username == "alice"


def test_the_htmx_partial_runs_no_query_either(signed_in, django_assert_num_queries):
    signed_in.get("/workloads/?sort=name", headers={"HX-Request": "true"})
    with django_assert_num_queries(0):
        response = signed_in.get("/workloads/?sort=name", headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_a_password_change_signs_the_session_out(signed_in, alice):
    assert signed_in.get("/workloads/").status_code == 200
    alice.set_password("another password entirely")
    alice.save()
    response = signed_in.get("/workloads/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_deactivation_signs_the_session_out(signed_in, alice):
    assert signed_in.get("/workloads/").status_code == 200
    alice.is_active = False
    alice.save()
    assert signed_in.get("/workloads/").status_code == 302


def test_a_deleted_user_is_signed_out(signed_in, alice):
    assert signed_in.get("/workloads/").status_code == 200
    alice.delete()
    assert signed_in.get("/workloads/").status_code == 302


def test_the_menu_follows_bookmarks_being_created_edited_and_deleted(signed_in, alice):
    assert "Alice's own" in menu_titles(signed_in)
    created = signed_in.post(
        "/bookmarks/save/", {"title": "New one", "url": "/workloads/", "visibility": "private"}
    )
    assert created.status_code == 302
    assert "New one" in menu_titles(signed_in)
    bookmark = Bookmark.objects.get(title="New one")
    bookmark.title = "Renamed"
    bookmark.save()
    assert "Renamed" in menu_titles(signed_in)
    assert signed_in.post(f"/bookmarks/{bookmark.pk}/delete/").status_code == 302
    assert "Renamed" not in menu_titles(signed_in)


def test_the_menu_follows_a_reorder(signed_in, alice):
    second = make_bookmark(alice, title="Second", position=5)
    mine = [t for t in menu_titles(signed_in) if t in ("Alice's own", "Second")]
    assert mine == ["Alice's own", "Second"]
    assert signed_in.post(f"/bookmarks/{second.pk}/move/", {"direction": "up"}).status_code == 302
    mine = [t for t in menu_titles(signed_in) if t in ("Alice's own", "Second")]
    assert mine == ["Second", "Alice's own"]


def test_the_menu_follows_a_share_by_someone_else(signed_in, bob):
    private = make_bookmark(bob, title="Bob's private")
    assert "Bob's private" not in menu_titles(signed_in)
    private.visibility = EVERYONE
    private.save()
    assert "Bob's private" in menu_titles(signed_in)


def test_the_menu_and_team_scope_follow_team_membership(signed_in, alice, search_team):
    assert "Payments shared" in menu_titles(signed_in)
    dave = search_team.user_set.create(username="dave")
    make_bookmark(dave, title="Search's", visibility=TEAM, team=search_team)
    assert "Search's" not in menu_titles(signed_in)
    alice.groups.set([search_team])
    titles = menu_titles(signed_in)
    assert "Search's" in titles and "Payments shared" not in titles
    assert team_options(signed_in) == ["search"]


def test_a_team_profile_change_reaches_the_cached_scope(signed_in, alice):
    from meshdash.accounts.teams import team_scope

    assert team_scope(alice) == ({"payments"}, {"payments"})
    profile = TeamProfile.objects.get()
    profile.namespaces = ["payments", "billing"]
    profile.save()
    assert team_scope(alice) == ({"payments", "billing"}, {"payments"})


def test_a_new_watch_reaches_the_overview(signed_in, alice):
    signed_in.get("/")
    Watch.objects.create(user=alice, namespace="payments", kind="deployment", name="web")
    page = signed_in.get("/").content.decode()
    assert 'data-watched="payments/deployment/web"' in page
    assert 'data-watched="payments/deployment/api"' in page


@pytest.fixture
def redis_cache(settings, cache_redis_url, redis_client):
    """The cache as meshdash runs it: Django's Redis cache on the cache Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "meshdash.lib.cache.ForgivingRedisCache",
            "LOCATION": cache_redis_url,
            "KEY_PREFIX": "meshdash:c",
        }
    }


def test_it_runs_no_query_with_the_redis_cache(redis_cache, signed_in, django_assert_num_queries):
    signed_in.get("/workloads/")
    with django_assert_num_queries(0):
        assert signed_in.get("/workloads/").status_code == 200


def test_pages_are_served_from_the_database_while_the_cache_redis_is_away(
    settings, signed_in, alice
):
    from meshdash.lib.processes import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "meshdash.lib.cache.ForgivingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = signed_in.get("/workloads/")
    assert response.status_code == 200
    assert response.wsgi_request.user == alice
    assert "Alice's own" in menu_titles(signed_in)


def recorded_cache_reads(monkeypatch) -> list[list[str]]:
    """The keys of every read of the default cache from now on, a list a round trip (the
    tests' cache answers get_many by a get a key: those are part of one read)."""
    backend = caches["default"]
    reads = []
    inside_many = []
    get, get_many = backend.get, backend.get_many

    def recording_get(key, *args, **kwargs):
        if not inside_many:
            reads.append([key])
        return get(key, *args, **kwargs)

    def recording_get_many(keys, *args, **kwargs):
        reads.append(list(keys))
        inside_many.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside_many.pop()

    monkeypatch.setattr(backend, "get", recording_get)
    monkeypatch.setattr(backend, "get_many", recording_get_many)
    return reads


@pytest.mark.parametrize("path", PAGES)
def test_the_session_and_the_users_entries_are_one_cache_read(signed_in, monkeypatch, path):
    signed_in.get(path)  # the process now knows the session's user
    reads = recorded_cache_reads(monkeypatch)
    response = signed_in.get(path)
    assert response.wsgi_request.user.username == "alice"
    ours = [
        keys for keys in reads if any("session" in k or k.startswith("accounts:") for k in keys)
    ]
    assert len(ours) == 1, reads
    session_key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    user_id = response.wsgi_request.user.pk
    assert ours[0] == [
        f"django.contrib.sessions.cached_db{session_key}",
        GENERATION_KEY,
        f"accounts:user:{user_id}",
    ]


def test_a_session_the_process_has_not_seen_reads_the_user_after_it(alice, monkeypatch):
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    sessions._users_by_session.clear()
    reads = recorded_cache_reads(monkeypatch)
    response = client.get("/no-such-page/")
    assert response.wsgi_request.user.username == "alice"
    ours = [
        keys for keys in reads if any("session" in k or k.startswith("accounts:") for k in keys)
    ]
    assert [len(keys) for keys in ours] == [1, 2]  # the session; the generation and the user


def test_a_session_signed_out_is_not_read_as_its_user(signed_in, monkeypatch):
    signed_in.get("/workloads/")
    signed_in.post("/accounts/logout/")
    response = signed_in.get("/workloads/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_workloads_watch_button_runs_no_query_of_its_own(signed_in, alice, payments):
    path = "/workloads/payments/statefulset/ledger/"
    alice.groups.add(payments)
    watch = Watch.objects.create(
        user=alice, namespace="payments", kind="statefulset", name="ledger"
    )
    signed_in.get(path)
    with CaptureQueriesContext(connection) as queries:
        page = signed_in.get(path).content.decode()
    # The page reads its charts from the durable history in SQL; nothing else.
    assert all("history_" in query["sql"] for query in queries), queries
    assert f'action="{reverse("bookmarks:unwatch", args=[watch.pk])}"' in page
    assert "Watching" in page
    watch.delete()  # signalled: the button changes on the next page
    page = signed_in.get(path).content.decode()
    assert "Watching" not in page
    assert 'value="payments"' in page  # Watch for the team
