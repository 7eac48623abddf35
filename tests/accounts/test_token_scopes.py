"""What a bearer token may do: the API only, reads only unless it has the write scope, until it
expires; and the admin can never hand a token to someone else."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from meshdash.accounts.models import READ, WRITE, ApiToken
from tests.accounts.people import PASSWORD

pytestmark = pytest.mark.django_db


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def staff(db):
    user = User.objects.create_user("stef", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_apitoken", "change_apitoken"])
    )
    return user


def test_it_never_opens_the_admin_with_a_token(root):
    _, secret = ApiToken.issue(root, scope=WRITE)
    client = Client(enforce_csrf_checks=True)
    assert client.get("/admin/", **bearer(secret)).status_code == 302
    response = client.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "pwned-pwned-1", "password2": "pwned-pwned-1"},
        **bearer(secret),
    )
    assert response.status_code in (302, 403)
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_it_never_mints_tokens_with_a_token(alice):
    _, secret = ApiToken.issue(alice, scope=WRITE)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/me/tokens/", {"name": "copy"}, **bearer(secret))
    assert response.status_code in (302, 403)
    assert ApiToken.objects.filter(user=alice).count() == 1
    assert client.get("/accounts/me/", **bearer(secret)).status_code == 302


def test_it_reads_with_a_read_only_token_but_refuses_writes(alice):
    token, secret = ApiToken.issue(alice)
    assert token.scope == READ
    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/v1/bookmarks", **bearer(secret)).status_code == 200
    response = client.post(
        "/api/v1/bookmarks",
        {"title": "errors", "url": "/bookmarks/"},
        content_type="application/json",
        **bearer(secret),
    )
    assert response.status_code == 403
    assert response.json() == {"error": "this token is read-only: create one with the write scope"}
    for method in (client.put, client.patch, client.delete):
        assert method("/api/v1/bookmarks/1", **bearer(secret)).status_code == 403


def test_it_writes_with_a_write_token(alice):
    _, secret = ApiToken.issue(alice, scope=WRITE)
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/bookmarks",
        {"title": "errors", "url": "/bookmarks/"},
        content_type="application/json",
        **bearer(secret),
    )
    assert response.status_code == 201


def test_it_refuses_an_expired_token(alice):
    token, secret = ApiToken.issue(alice, expires=timezone.now() + timedelta(days=1))
    assert Client().get("/api/v1/bookmarks", **bearer(secret)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/v1/bookmarks", **bearer(secret))
    assert response.status_code == 401
    assert response.json() == {"error": "token expired"}


def test_it_records_last_use_at_most_once_a_minute(alice):
    token, secret = ApiToken.issue(alice)
    client = Client()
    client.get("/api/v1/bookmarks", **bearer(secret))
    first = ApiToken.objects.get(pk=token.pk).last_used
    assert first is not None
    client.get("/api/v1/bookmarks", **bearer(secret))
    assert ApiToken.objects.get(pk=token.pk).last_used == first
    ApiToken.objects.filter(pk=token.pk).update(last_used=first - timedelta(seconds=61))
    client.get("/api/v1/bookmarks", **bearer(secret))
    assert ApiToken.objects.get(pk=token.pk).last_used > first - timedelta(seconds=61)


def test_it_creates_scoped_expiring_tokens_on_the_users_page(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/me/tokens/", {"name": "deploys", "write": "on", "expires_in_days": "30"}
    )
    assert response.status_code == 201
    token = ApiToken.objects.get(user=alice)
    assert token.scope == WRITE
    assert timedelta(days=29) < token.expires - timezone.now() <= timedelta(days=30)
    secret = re.search(rb'data-testid="new-token">([^<]+)<', response.content).group(1).decode()
    Client().get("/api/v1/bookmarks", **bearer(secret))
    page = client.get("/accounts/me/").content.decode()
    assert "read and write" in page
    assert f"{token.expires:%Y-%m-%d}" in page
    assert "never" not in page.split("<tbody>")[1].split("</tbody>")[0]


def test_it_refuses_a_bad_expiry_on_the_users_page(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/me/tokens/", {"expires_in_days": "0"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_it_creates_scoped_expiring_tokens_by_command(alice):
    out = StringIO()
    call_command("token", "create", "alice", "--write", "--expires-days", "7", stdout=out)
    token = ApiToken.objects.get(user=alice)
    assert token.scope == WRITE
    assert token.expires is not None


def test_it_never_moves_a_token_to_another_user_in_the_admin(client, staff, root):
    token, _ = ApiToken.issue(staff, "mine")
    client.force_login(staff)
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"user": root.pk, "name": "renamed"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.user == staff
    assert token.name == "renamed"
