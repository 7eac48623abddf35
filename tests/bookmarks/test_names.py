"""Workload names that Kubernetes would never accept are refused wherever they come in, and a
bad one already stored breaks nobody's page."""

import pytest

from meshdash.bookmarks.models import Bookmark, Watch
from tests.accounts.people import make_bookmark

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def watch(client, namespace="shop", kind="deployment", name="cart", **extra):
    data = {"namespace": namespace, "kind": kind, "name": name, "next": "/bookmarks/"}
    return client.post("/bookmarks/watch/", data | extra)


@pytest.mark.parametrize(
    ("namespace", "kind", "name"),
    [
        ("shop", "deployment", "a/b"),
        ("Shop", "deployment", "cart"),
        ("shop", "deployment", "Cart"),
        ("shop", "deployment", "x" * 254),
        ("a" * 64, "deployment", "cart"),
        ("shop", "pod", "cart"),
        ("shop", "deployment", ""),
    ],
)
def test_it_refuses_to_watch_names_kubernetes_would_refuse(as_alice, namespace, kind, name):
    response = watch(as_alice, namespace, kind, name)
    assert response.status_code == 400
    assert not Watch.objects.exists()
    assert as_alice.get("/bookmarks/").status_code == 200


def test_it_refuses_a_bad_name_for_a_team_watch_too(as_alice, payments):
    assert watch(as_alice, name="a/b", team="payments").status_code == 400
    assert not Watch.objects.exists()


def test_it_still_watches_good_names(as_alice):
    assert watch(as_alice, name="cart-v2.blue").status_code == 302
    assert Watch.objects.get().name == "cart-v2.blue"


def test_it_shows_the_bookmarks_page_with_a_bad_watch_stored_before_names_were_checked(
    client, alice, bob, payments
):
    bad = Watch.objects.create(team=payments, namespace="shop", kind="deployment", name="a/b")
    Watch.objects.create(team=payments, namespace="shop", kind="deployment", name="cart")
    client.force_login(bob)
    page = client.get("/bookmarks/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "shop/deployment/a/b" in content
    assert 'href="/workloads/shop/deployment/cart/"' in content
    # The stop-watching button works for the bad row as well.
    assert f'action="/bookmarks/watch/{bad.pk}/delete/"' in content
    assert client.post(f"/bookmarks/watch/{bad.pk}/delete/").status_code == 302
    assert not Watch.objects.filter(pk=bad.pk).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/workloads/Shop/deployment/cart/",
        "/workloads/shop/pod/cart/",
        "/workloads/shop/deployment/ca_rt/",
        "/namespaces/Not_A_Namespace/",
    ],
)
def test_it_refuses_to_bookmark_a_workload_url_with_bad_names(as_alice, url):
    response = as_alice.post("/bookmarks/save/", {"title": "t", "url": url})
    assert response.status_code == 400
    assert not Bookmark.objects.exists()
    api = as_alice.post(
        "/api/v1/bookmarks", {"title": "t", "url": url}, content_type="application/json"
    )
    assert api.status_code == 400
    assert "name" in api.json()["error"] or "kind" in api.json()["error"]


def test_it_shows_the_bookmarks_page_with_a_bad_bookmark_stored_directly(client, alice):
    make_bookmark(alice, title="odd", path="/workloads/a/b/c/d/", query="")
    client.force_login(alice)
    assert client.get("/bookmarks/").status_code == 200
    assert client.get("/api/v1/bookmarks").status_code == 200


def test_it_refuses_bad_names_in_the_admin_too(alice):
    from django.core.exceptions import ValidationError

    for fields in (
        {"namespace": "shop", "kind": "deployment", "name": "a/b"},
        {"namespace": "Shop", "kind": "deployment", "name": "cart"},
        {"namespace": "shop", "kind": "pod", "name": "cart"},
    ):
        with pytest.raises(ValidationError):
            Watch(user=alice, **fields).full_clean()
    Watch(user=alice, namespace="shop", kind="deployment", name="cart").full_clean()
