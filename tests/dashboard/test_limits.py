"""New filtered views are paced per user: past the burst, 429 with Retry-After and a page that
says why; cached views, unfiltered pages and other users are not held back."""

import pytest

from tests.dashboard.known import write_known

pytestmark = pytest.mark.django_db

NAMESPACES = ["shop", "payments", "legacy"]
SORTS = ["name", "rps", "p99", "success", "health"]


@pytest.fixture
def paced(settings, redis_client):
    settings.MESHDASH_COLD_VIEWS_PER_MINUTE = 6  # a token every 10 s
    settings.MESHDASH_COLD_VIEWS_BURST = 3
    write_known(redis_client, minutes=1)


def distinct_views(count: int) -> list[dict]:
    views = [
        {"ns": ns, "sort": sort, "dir": direction}
        for ns in NAMESPACES
        for sort in SORTS
        for direction in ("asc", "desc")
    ]
    assert len(views) >= count
    return views[:count]


def test_the_api_answers_429_past_the_burst(client, paced):
    first, second, third, fourth = distinct_views(4)
    for view in (first, second, third):
        assert client.get("/api/v1/workloads", view).status_code == 200
    response = client.get("/api/v1/workloads", fourth)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 10
    assert response.json() == {
        "error": f"too many new filtered views: retry in {response['Retry-After']} s"
    }


def test_the_pages_answer_a_page_that_says_why(client, paced):
    for view in distinct_views(3):
        assert client.get("/workloads/", view).status_code == 200
    response = client.get("/workloads/", distinct_views(4)[3])
    assert response.status_code == 429
    assert response["Retry-After"]
    page = response.content.decode()
    assert "Too many new views at once" in page
    assert f"Try again in {response['Retry-After']} s" in page


def test_cached_views_and_unfiltered_pages_are_not_counted(client, paced):
    views = distinct_views(3)
    for view in views:
        assert client.get("/api/v1/workloads", view).status_code == 200
    for _ in range(5):
        for view in views:  # the same views again: in the cache
            assert client.get("/api/v1/workloads", {**view, "page": 2}).status_code == 200
        assert client.get("/api/v1/workloads", {"sort": "rps"}).status_code == 200
        assert client.get("/workloads/").status_code == 200


def test_each_user_has_a_bucket_of_their_own(client, paced, django_user_model):
    for view in distinct_views(3):
        assert client.get("/api/v1/workloads", view).status_code == 200
    fourth = distinct_views(4)[3]
    assert client.get("/api/v1/workloads", fourth).status_code == 429
    client.force_login(django_user_model.objects.create_user("bob"))
    assert client.get("/api/v1/workloads", fourth).status_code == 200


def test_the_namespace_search_and_the_csv_export_count_too(client, paced):
    assert client.get("/api/v1/namespaces", {"q": "sh"}).status_code == 200
    assert client.get("/api/v1/namespaces", {"q": "pay"}).status_code == 200
    assert client.get("/workloads.csv", {"ns": "legacy"}).status_code == 200
    assert client.get("/namespaces/", {"q": "leg"}).status_code == 429
    assert client.get("/workloads.csv", {"ns": "shop"}).status_code == 429


def test_anonymous_readers_are_paced_by_address(settings, paced):
    from django.test import Client

    settings.MESHDASH_ANONYMOUS_READ = True
    here, there = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    views = distinct_views(4)
    for view in views[:3]:
        assert here.get("/api/v1/workloads", view).status_code == 200
    assert here.get("/api/v1/workloads", views[3]).status_code == 429
    assert there.get("/api/v1/workloads", views[3]).status_code == 200
