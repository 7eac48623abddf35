import pytest
from django.test import Client

from tests.accounts.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_redirects_pages_to_the_login_page(client):
    response = client.get("/bookmarks/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/bookmarks/%3Fx%3D1"


def test_it_answers_api_calls_with_401_json(client):
    response = client.get("/api/v1/bookmarks")
    assert response.status_code == 401
    assert response.json() == {"error": "authentication required"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_keeps_the_public_paths_open(client, settings):
    settings.MESHDASH_PUBLIC_PATHS = ["/bookmarks/"]
    assert client.get("/bookmarks/").status_code == 200


def test_it_signs_in_and_follows_next(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "next": "/bookmarks/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/bookmarks/"
    assert client.get("/bookmarks/").status_code == 200


def test_it_does_not_follow_next_off_site(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_renders_the_login_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_it_rejects_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert client.get("/bookmarks/").status_code == 302


def test_it_requires_csrf_on_the_login_form(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_it_signs_out_with_post_only(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/bookmarks/").status_code == 302


def test_it_requires_csrf_to_sign_out(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/bookmarks/").status_code == 200


def test_it_shows_the_user_menu_when_signed_in(client, alice):
    client.force_login(alice)
    response = client.get("/bookmarks/")
    assert b"alice" in response.content
    assert b'action="/accounts/logout/"' in response.content


class TestAnonymousRead:
    @pytest.fixture(autouse=True)
    def anonymous_read(self, settings):
        settings.MESHDASH_ANONYMOUS_READ = True

    def test_it_lets_anonymous_visitors_read(self, client):
        assert client.get("/bookmarks/").status_code == 200
        assert client.get("/api/v1/bookmarks").status_code == 200

    def test_it_refuses_anonymous_writes(self, client):
        response = client.post(
            "/api/v1/bookmarks", {"title": "x", "url": "/"}, content_type="application/json"
        )
        assert response.status_code == 401
        assert client.post("/bookmarks/save/", {"title": "x", "url": "/"}).status_code == 302

    def test_it_keeps_the_users_page_private(self, client):
        assert client.get("/accounts/me/").status_code == 302


def test_it_sends_htmx_requests_to_the_login_page_whole(client):
    response = client.get("/workloads/?ns=a", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=/workloads/%3Fns%3Da"
