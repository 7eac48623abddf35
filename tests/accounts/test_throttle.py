from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from meshdash.accounts.models import LoginFailure
from tests.accounts.people import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.MESHDASH_LOGIN_FAILURES_PER_USER = 3
    settings.MESHDASH_LOGIN_FAILURES_PER_ADDRESS = 5
    settings.MESHDASH_LOGIN_FAILURES_PER_USER_ANY_ADDRESS = 8
    settings.MESHDASH_LOGIN_BACKOFF_SECONDS = 60
    settings.MESHDASH_LOGIN_THROTTLE_SECONDS = 600


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def admin_sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password=PASSWORD)


def test_it_refuses_even_the_right_password_after_repeated_failures(client, alice):
    for _ in range(3):
        assert sign_in(client, "alice", "wrong").status_code == 200
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts. Try again in 1 minute." in response.content
    assert client.get("/bookmarks/").status_code == 302


def test_it_counts_user_names_case_insensitively(client, alice):
    for name in ("alice", "ALICE", "Alice"):
        sign_in(client, name, "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 429


def test_it_counts_failures_on_the_admin_login_too(client, root):
    for _ in range(3):
        assert admin_sign_in(client, "root", "wrong").status_code == 200
    assert LoginFailure.objects.filter(username="root").count() == 3
    assert sign_in(client, "root", PASSWORD).status_code == 429


def test_it_refuses_the_right_password_on_the_admin_login_once_throttled(client, root):
    for _ in range(3):
        sign_in(client, "root", "wrong")
    response = admin_sign_in(client, "root", PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed sign-in attempts. Try again in 1 minute." in response.content
    assert client.get("/admin/").status_code == 302
    assert LoginFailure.objects.count() == 3


def test_it_throttles_every_call_of_authenticate(alice):
    request = RequestFactory().post("/anywhere/", REMOTE_ADDR="10.0.0.1")
    for _ in range(3):
        assert authenticate(request, username="alice", password="wrong") is None
    assert authenticate(request, username="alice", password=PASSWORD) is None
    other = RequestFactory().post("/anywhere/", REMOTE_ADDR="10.0.0.2")
    assert authenticate(other, username="alice", password=PASSWORD) == alice


def test_it_does_not_lock_a_user_out_from_someone_elses_address(client, alice):
    for _ in range(10):
        sign_in(client, "alice", "wrong", address="203.0.113.66")
    assert sign_in(client, "alice", PASSWORD, address="203.0.113.66").status_code == 429
    assert sign_in(client, "alice", PASSWORD, address="10.0.0.2").status_code == 302


def test_it_throttles_a_user_failing_from_many_addresses_at_a_softer_ceiling(client, alice):
    for n in range(7):
        sign_in(client, "alice", "wrong", address=f"10.0.0.{n}")
    assert sign_in(client, "alice", "wrong", address="10.0.1.1").status_code == 200
    assert sign_in(client, "alice", PASSWORD, address="10.9.9.9").status_code == 429


def test_it_backs_off_longer_after_each_failure_past_the_limit(client, alice):
    def failures_then_age(seconds):
        LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=seconds))

    for _ in range(3):
        sign_in(client, "alice", "wrong")
    failures_then_age(61)  # the first wait, 60 s, is over
    assert sign_in(client, "alice", "wrong").status_code == 200
    failures_then_age(61)  # the second wait is 120 s
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert b"Try again in 1 minute." in response.content
    failures_then_age(121)
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_it_throttles_per_address_across_user_names(client, alice):
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong", address="192.0.2.7")
    assert sign_in(client, "alice", PASSWORD, address="192.0.2.7").status_code == 429
    assert sign_in(client, "alice", PASSWORD, address="192.0.2.8").status_code == 302


def test_it_forgets_failures_after_the_period(client, alice):
    for _ in range(3):
        sign_in(client, "alice", "wrong")
    LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=601))
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_it_clears_a_users_failures_on_success(client, alice):
    for _ in range(2):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="alice").exists()


def test_it_does_not_record_attempts_while_throttled(client, alice):
    for _ in range(10):
        sign_in(client, "alice", "wrong")
    assert LoginFailure.objects.count() == 3


def test_it_throttles_clients_behind_a_trusted_proxy_separately(client, alice, settings):
    settings.MESHDASH_FORWARDED_FOR_PROXIES = ["10.9.0.0/16"]
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="10.9.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.1, 10.9.0.1",
        )
    assert LoginFailure.objects.filter(address="198.51.100.1").count() == 5
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.9.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert response.status_code == 302


def test_it_ignores_forwarded_for_from_untrusted_clients(client, alice, settings):
    settings.MESHDASH_FORWARDED_FOR_PROXIES = ["10.9.0.0/16"]
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"203.0.113.5"}


def test_it_still_keeps_non_staff_out_of_the_admin(client, alice):
    response = admin_sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert b"staff account" in response.content
    assert client.get("/admin/").status_code == 302
