import json

import pytest
from django.test import Client

from meshdash.accounts.models import WRITE, ApiToken
from meshdash.accounts.teams import profile_of
from meshdash.bookmarks.models import Bookmark
from tests.accounts.people import make_bookmark

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookmarks"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def post(client, body, **extra):
    return client.post(URL, body, content_type="application/json", **extra)


def patch(client, pk, body):
    return client.patch(f"{URL}/{pk}", body, content_type="application/json")


def test_it_creates_a_team_bookmark(as_alice, alice):
    response = post(
        as_alice,
        {
            "title": "Payments by errors",
            "url": "/workloads/?sort=success_rate&ns=payments",
            "note": "step 1 of the runbook",
            "visibility": "team",
            "team": "payments",
        },
    )
    assert response.status_code == 201
    body = response.json()
    bookmark = Bookmark.objects.get(pk=body["id"])
    assert bookmark.owner == alice
    assert body["url"] == "/workloads/?ns=payments&sort=success_rate"
    assert body["team"] == "payments"
    assert body["visibility"] == "team"
    assert body["open_url"] == f"/bookmarks/{bookmark.pk}/"
    assert body["can_edit"] is True


def test_it_lists_only_what_the_caller_may_see(client, alice, bob, carol, payments):
    make_bookmark(alice, title="private")
    make_bookmark(alice, title="team", visibility="team", team=payments)
    make_bookmark(alice, title="everyone", visibility="everyone")
    seen = {}
    for user in (alice, bob, carol):
        client.force_login(user)
        seen[user.username] = sorted(i["title"] for i in client.get(URL).json()["items"])
    assert seen == {
        "alice": ["everyone", "private", "team"],
        "bob": ["everyone", "team"],
        "carol": ["everyone"],
    }


def test_it_gets_a_visible_bookmark_and_404s_an_invisible_one(client, alice, bob, carol, payments):
    bookmark = make_bookmark(alice, visibility="team", team=payments)
    client.force_login(bob)
    assert client.get(f"{URL}/{bookmark.pk}").json()["title"] == "Payments by errors"
    client.force_login(carol)
    response = client.get(f"{URL}/{bookmark.pk}")
    assert response.status_code == 404
    assert response.json() == {"error": "no such bookmark"}
    assert client.get(f"{URL}/999999").json() == {"error": "no such bookmark"}


def test_it_lets_the_owner_patch(as_alice, alice):
    bookmark = make_bookmark(alice)
    response = patch(as_alice, bookmark.pk, {"title": "New", "pinned": True})
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    bookmark.refresh_from_db()
    assert (bookmark.title, bookmark.pinned, bookmark.query) == ("New", True, "ns=payments")


def test_it_forbids_teammates_to_patch_or_delete(client, alice, bob, payments):
    bookmark = make_bookmark(alice, visibility="team", team=payments)
    client.force_login(bob)
    assert patch(client, bookmark.pk, {"title": "x"}).status_code == 403
    response = client.delete(f"{URL}/{bookmark.pk}")
    assert response.status_code == 403
    assert "owner" in response.json()["error"]
    assert Bookmark.objects.get().title == "Payments by errors"


def test_it_lets_the_owner_delete(as_alice, alice):
    bookmark = make_bookmark(alice)
    assert as_alice.delete(f"{URL}/{bookmark.pk}").status_code == 204
    assert not Bookmark.objects.exists()


@pytest.mark.parametrize(
    "body, status, reason",
    [
        ({"title": "x", "url": "//evil.example/"}, 400, "url: only meshdash pages"),
        ({"title": "x", "url": "https://x.example/"}, 400, "url: only meshdash pages"),
        ({"title": "x", "url": "/\\evil"}, 400, "backslashes"),
        ({"title": "x", "url": "javascript:alert(1)"}, 400, "url: only meshdash pages"),
        ({"title": "", "url": "/"}, 400, "title: This field is required."),
        ({"title": "x" * 201, "url": "/"}, 400, "title: Ensure this value has at most 200"),
        ({"title": "x", "url": "/", "visibility": "world"}, 400, "visibility: Select a valid"),
        ({"title": "x", "url": "/", "visibility": "team", "team": "search"}, 400, "your teams"),
        ({"title": 3, "url": "/"}, 400, "title must be a string"),
        ({"title": "x", "url": "/", "pinned": "yes"}, 400, "pinned must be a boolean"),
        ({"title": "x", "url": "/", "owner": "carol"}, 400, "unknown fields: owner"),
        (["title"], 400, "body must be a JSON object"),
    ],
)
def test_it_validates_the_body(as_alice, body, status, reason):
    response = post(as_alice, body)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert not Bookmark.objects.exists()


def test_it_refuses_invalid_json(as_alice):
    response = as_alice.post(URL, b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}


def test_it_bounds_the_body(as_alice):
    body = json.dumps({"title": "x", "url": "/", "note": "n" * 20_000})
    response = as_alice.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]


def test_it_answers_405_as_json(as_alice):
    response = as_alice.put(URL, {}, content_type="application/json")
    assert response.status_code == 405
    assert response.json() == {"error": "method not allowed"}


def test_it_requires_the_csrf_header_with_a_session(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post(client, {"title": "x", "url": "/"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    client.get("/bookmarks/")
    token = client.cookies["csrftoken"].value
    response = post(client, {"title": "x", "url": "/"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_it_needs_no_csrf_with_a_token(alice):
    bookmark = make_bookmark(alice)
    _, secret = ApiToken.issue(alice, scope=WRITE)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert post(client, {"title": "x", "url": "/"}).status_code == 201
    assert patch(client, bookmark.pk, {"note": "n"}).status_code == 200
    assert client.delete(f"{URL}/{bookmark.pk}").status_code == 204


def test_it_keeps_visibility_rules_for_token_callers(alice, carol):
    bookmark = make_bookmark(alice)
    _, secret = ApiToken.issue(carol)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{URL}/{bookmark.pk}").status_code == 404
    assert client.get(URL).json()["items"] == []


def test_it_refuses_freeze_on_patch(as_alice, alice):
    bookmark = make_bookmark(alice)
    response = patch(as_alice, bookmark.pk, {"freeze": True})
    assert response.status_code == 400


def test_it_tells_a_team_admin_what_they_may_delete(client, alice, bob, carol, payments):
    profile_of(payments).admins.add(bob)
    make_bookmark(alice, title="team", visibility="team", team=payments)
    make_bookmark(alice, title="everyone", visibility="everyone")
    client.force_login(bob)
    items = {i["title"]: i for i in client.get(URL).json()["items"]}
    assert (items["team"]["can_delete"], items["team"]["can_edit"]) == (True, False)
    assert items["everyone"]["can_delete"] is False


def test_it_lists_in_a_fixed_number_of_queries(
    client, alice, bob, payments, django_assert_max_num_queries
):
    for n in range(30):
        make_bookmark(alice, title=f"t{n}", visibility="team", team=payments)
    client.force_login(bob)
    with django_assert_max_num_queries(6):
        assert len(client.get(URL).json()["items"]) == 30
