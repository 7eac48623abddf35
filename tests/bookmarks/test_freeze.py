from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from meshdash.accounts.teams import profile_of
from meshdash.bookmarks.freeze import delete_expired_frozen_views
from meshdash.bookmarks.models import Bookmark, FrozenView
from meshdash.bookmarks.tasks import delete_expired_frozen_views as cleanup_task
from meshdash.store import SnapshotStore
from tests.bookmarks.snapshots import payments_snapshot

pytestmark = pytest.mark.django_db

TAKEN_AT = datetime(2026, 3, 4, 10, 32, 5, tzinfo=UTC).timestamp()


@pytest.fixture
def store(redis_client):
    store = SnapshotStore(redis_client)
    store.write(payments_snapshot(success_rate=0.5, taken_at=TAKEN_AT))
    return store


@pytest.fixture
def as_alice(client, alice, payments):
    # A team admin, so that the incident links may be shared with everyone.
    profile_of(payments).admins.add(alice)
    client.force_login(alice)
    return client


def freeze_post(client, url, **fields):
    data = {"title": "Incident 42", "url": url, "freeze": "on", "visibility": "everyone"}
    return client.post("/bookmarks/save/", data | fields)


def test_it_freezes_a_workload_list_and_shows_it_later(as_alice, store, carol, client):
    response = freeze_post(as_alice, "/workloads/?ns=payments&sort=name")
    assert response.status_code == 302
    bookmark = Bookmark.objects.get()
    assert bookmark.as_of == datetime.fromtimestamp(TAKEN_AT, tz=UTC)
    assert bookmark.window == "1m"
    assert [w["name"] for w in bookmark.frozen.data["items"]] == ["api", "ledger"]

    # The mesh recovers; the frozen bookmark keeps the numbers of the incident.
    store.write(payments_snapshot(success_rate=1.0, taken_at=TAKEN_AT + 600))
    client.force_login(carol)
    page = client.get(f"/bookmarks/{bookmark.pk}/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "as of 2026-03-04 10:32:05 UTC, 1m window" in content
    assert "50.00 %" in content
    assert "payments/deployment/ledger" in content
    assert "shop/deployment/cart" not in content
    assert 'href="/workloads/?ns=payments&amp;sort=name"' in content


def test_it_freezes_a_workload_detail(as_alice, store):
    freeze_post(as_alice, "/workloads/payments/deployment/api/?window=1m")
    frozen = FrozenView.objects.get()
    assert frozen.kind == "workload"
    assert frozen.data["workload"]["success_rate"] == 0.5
    assert frozen.data["callers"][0]["src_name"] == "cart"
    content = as_alice.get(f"/bookmarks/{frozen.bookmark_id}/").content.decode()
    assert "payments/deployment/api" in content
    assert "shop/deployment/cart" in content


def test_it_refuses_to_freeze_without_a_snapshot(as_alice, redis_client):
    response = freeze_post(as_alice, "/workloads/")
    assert response.status_code == 400
    assert b"no snapshot of the 1m window yet" in response.content
    assert not Bookmark.objects.exists()


def test_it_refuses_to_freeze_an_unknown_workload(as_alice, store):
    response = freeze_post(as_alice, "/workloads/payments/deployment/nope/")
    assert response.status_code == 400
    assert not Bookmark.objects.exists()


def test_it_freezes_through_the_api(as_alice, store):
    response = as_alice.post(
        "/api/v1/bookmarks",
        {"title": "t", "url": "/workloads/?ns=shop", "freeze": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    # Every API time is unix seconds: 2026-03-04T10:32:05Z.
    assert response.json()["as_of"] == 1772620325.0
    assert response.json()["window"] == "1m"


def test_it_deletes_frozen_copies_after_the_retention_period(as_alice, store, settings):
    settings.MESHDASH_FROZEN_RETENTION_DAYS = 7
    freeze_post(as_alice, "/workloads/")
    freeze_post(as_alice, "/workloads/?ns=shop", title="newer")
    old = FrozenView.objects.get(bookmark__title="Incident 42")
    FrozenView.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=8))

    assert delete_expired_frozen_views() == 1
    assert cleanup_task() == 0
    assert list(FrozenView.objects.values_list("bookmark__title", flat=True)) == ["newer"]
    page = as_alice.get(f"/bookmarks/{old.bookmark_id}/")
    assert b"The copied data has expired (kept for 7 days)" in page.content
    assert b"as of 2026-03-04 10:32:05 UTC" in page.content


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/workloads/?window=zz", "window"),
        ("/workloads/?sort=nope", "sort"),
        ("/workloads/?page=x", "page"),
    ],
)
def test_it_answers_json_400_for_a_url_it_cannot_freeze(as_alice, store, url, reason):
    as_alice.raise_request_exception = False
    response = as_alice.post(
        "/api/v1/bookmarks",
        {"title": "t", "url": url, "freeze": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert reason in response.json()["error"]
    assert not Bookmark.objects.exists()


def test_it_freezes_a_percent_encoded_url_as_the_page_it_names(as_alice, store):
    response = as_alice.post(
        "/api/v1/bookmarks",
        {"title": "t", "url": "/%77orkloads/?ns=shop", "freeze": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert [w["name"] for w in FrozenView.objects.get().data["items"]] == ["cart"]


def test_it_hides_the_owner_of_a_frozen_view_from_anonymous_readers(
    as_alice, store, client, settings
):
    freeze_post(as_alice, "/workloads/")
    bookmark = Bookmark.objects.get()
    settings.MESHDASH_ANONYMOUS_READ = True
    as_alice.logout()
    page = client.get(f"/bookmarks/{bookmark.pk}/").content.decode()
    assert "Saved from" in page and "alice" not in page


def test_it_shows_a_form_error_for_a_window_it_cannot_freeze(as_alice, store):
    as_alice.raise_request_exception = False
    response = freeze_post(as_alice, "/workloads/?window=10m")  # no snapshot of it
    assert response.status_code == 400
    assert b"cannot freeze this view" in response.content
    assert not Bookmark.objects.exists()
