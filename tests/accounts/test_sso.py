import pytest
from django.contrib.auth.models import Group, User

from meshdash.accounts.checks import check_proxy_lists

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sso(settings):
    settings.MESHDASH_SSO_HEADER = "X-Forwarded-User"
    settings.MESHDASH_SSO_GROUPS_HEADER = "X-Forwarded-Groups"
    settings.MESHDASH_SSO_TRUSTED_PROXIES = ["10.1.0.0/16", "192.0.2.10"]


def test_it_signs_in_a_new_user_from_a_trusted_proxy(client):
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert b"dora" in response.content
    dora = User.objects.get(username="dora")
    assert not dora.has_usable_password()


def test_it_accepts_a_single_trusted_address(client):
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 200


def test_it_ignores_the_header_from_anyone_else(client):
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.2.0.1")
    assert response.status_code == 302
    assert not User.objects.filter(username="dora").exists()


def test_it_ignores_the_header_when_sso_is_off(client, settings):
    settings.MESHDASH_SSO_HEADER = ""
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_it_cannot_be_used_to_take_over_an_existing_session_from_outside(client, alice):
    client.force_login(alice)
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="carol", REMOTE_ADDR="10.2.0.1")
    assert b"alice" in response.content
    assert not User.objects.filter(username="carol").exists()


def test_it_takes_teams_from_the_groups_header(client, payments):
    client.get(
        "/accounts/me/",
        HTTP_X_FORWARDED_USER="dora",
        HTTP_X_FORWARDED_GROUPS="payments, sre ,payments",
        REMOTE_ADDR="10.1.2.3",
    )
    dora = User.objects.get(username="dora")
    assert sorted(dora.groups.values_list("name", flat=True)) == ["payments", "sre"]
    assert Group.objects.filter(name="sre").exists()

    client.get(
        "/accounts/me/",
        HTTP_X_FORWARDED_USER="dora",
        HTTP_X_FORWARDED_GROUPS="sre",
        REMOTE_ADDR="10.1.2.3",
    )
    assert list(dora.groups.values_list("name", flat=True)) == ["sre"]


def test_it_switches_user_when_the_proxy_says_so(client):
    client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="eve", REMOTE_ADDR="10.1.2.3")
    assert b"eve" in response.content


def test_it_signs_out_when_the_proxy_stops_vouching(client):
    client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert client.get("/accounts/me/", REMOTE_ADDR="10.1.2.3").status_code == 302


def test_it_refuses_inactive_users(client):
    User.objects.create_user("dora", is_active=False)
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_it_reports_a_bad_proxy_entry_at_start(settings):
    settings.MESHDASH_SSO_TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.local"]
    errors = check_proxy_lists(None)
    assert [e.id for e in errors] == ["accounts.E001"]
    assert "'proxy.local'" in errors[0].msg


def test_it_reports_a_header_without_trusted_proxies(settings):
    settings.MESHDASH_SSO_TRUSTED_PROXIES = []
    assert [e.id for e in check_proxy_lists(None)] == ["accounts.E002"]


def test_it_reports_nothing_when_configured(settings):
    assert check_proxy_lists(None) == []


def test_it_never_signs_in_a_local_account_by_header(client, alice):
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="alice", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    assert client.get("/bookmarks/", REMOTE_ADDR="10.1.2.3").status_code == 302


def test_it_never_signs_in_the_local_superuser_by_header(client):
    User.objects.create_superuser("root", password="local password")
    for name in ("root", "Root", "ＲＯＯＴ"):
        response = client.get("/admin/", HTTP_X_FORWARDED_USER=name, REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 302
    assert list(User.objects.values_list("username", flat=True)) == ["root"]


def test_it_normalises_names_before_looking_them_up(client):
    for name in ("Dora", "dora", "ＤＯＲＡ", " dora "):
        response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER=name, REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 200, name
    assert list(User.objects.values_list("username", flat=True)) == ["dora"]


def test_it_refuses_staff_accounts_unless_allowed(client, settings):
    client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    User.objects.filter(username="dora").update(is_staff=True)
    client.logout()
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302

    settings.MESHDASH_SSO_ALLOW_STAFF = True
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200


def test_it_signs_out_an_sso_user_who_became_staff(client):
    client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    User.objects.filter(username="dora").update(is_staff=True)
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_it_refuses_an_sso_user_once_given_a_password(client):
    client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    dora = User.objects.get(username="dora")
    dora.set_password("now a local account")
    dora.save()
    client.logout()
    response = client.get("/accounts/me/", HTTP_X_FORWARDED_USER="dora", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
