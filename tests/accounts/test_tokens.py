import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from meshdash.accounts.models import WRITE, ApiToken

pytestmark = pytest.mark.django_db


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_it_creates_a_token_from_the_users_page_and_shows_it_once(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/accounts/me/")
    csrf = page.cookies["csrftoken"].value
    response = client.post("/accounts/me/tokens/", {"name": "alerts", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 201
    secret = re.search(rb'data-testid="new-token">([^<]+)<', response.content).group(1).decode()
    token = ApiToken.objects.get(user=alice)
    assert token.name == "alerts"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in client.get("/accounts/me/").content.decode()


def test_it_stores_only_the_hash(alice):
    token, secret = ApiToken.issue(alice, "ci")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in [str(v) for v in stored.values()]
    assert stored["digest"] == hashlib.sha256(secret.encode()).hexdigest()


def test_it_requires_csrf_to_create_a_token_with_a_session(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/accounts/me/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_it_authenticates_api_calls_with_a_bearer_token(alice):
    _, secret = ApiToken.issue(alice, scope=WRITE)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/bookmarks",
        {"title": "errors", "url": "/bookmarks/"},
        content_type="application/json",
        **bearer(secret),
    )
    assert response.status_code == 201
    assert response.json()["owner"] == "alice"
    assert ApiToken.objects.get(user=alice).last_used is not None


def test_it_answers_401_for_an_unknown_token(client):
    response = client.get("/api/v1/bookmarks", **bearer("mdt_nope"))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid or revoked token"}


def test_it_revokes_a_token_from_the_users_page(client, alice):
    token, secret = ApiToken.issue(alice)
    client.force_login(alice)
    response = client.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 401


def test_it_does_not_revoke_someone_elses_token(client, alice, bob):
    token, secret = ApiToken.issue(alice)
    client.force_login(bob)
    assert client.post(f"/accounts/me/tokens/{token.pk}/revoke/").status_code == 404
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 200


def test_it_refuses_tokens_of_inactive_users(alice):
    _, secret = ApiToken.issue(alice)
    alice.is_active = False
    alice.save()
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 401


def test_it_creates_and_revokes_tokens_by_command(alice):
    out = StringIO()
    call_command("token", "create", "alice", "--name", "deploy", stdout=out)
    secret = out.getvalue().strip()
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 200
    token = ApiToken.objects.get(user=alice)
    assert token.name == "deploy"

    listing = StringIO()
    call_command("token", "list", "alice", stdout=listing)
    assert token.hint in listing.getvalue()
    assert secret not in listing.getvalue()

    call_command("token", "revoke", str(token.pk), stdout=StringIO())
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 401


def test_it_revokes_every_token_of_a_user_by_command(alice, bob):
    ApiToken.issue(alice)
    ApiToken.issue(alice)
    ApiToken.issue(bob)
    call_command("token", "revoke", "--user", "alice", stdout=StringIO())
    assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["bob"]


def test_it_reports_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("token", "create", "nobody")
