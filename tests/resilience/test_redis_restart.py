"""Redis stopped and started again on the same port between two collections."""

import re

import pytest

from meshdash.collectors.run import run_collection
from meshdash.store import StoreUnavailable
from tests.resilience.conftest import WINDOW, assert_recovered, read_good
from tests.resilience.faults import RedisOnPort

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

API = ["/api/v1/workloads", "/api/v1/namespaces", "/workloads.csv"]
PAGES = ["/", "/workloads/", "/namespaces/"]


@pytest.fixture
def redis_server(sources, tmp_path):
    """A Redis of this test's own (the session's stays up), which the store now uses."""
    server = RedisOnPort(tmp_path / "redis")
    server.start()
    sources.REDIS_URL = server.url
    yield server
    server.stop()


def answers(client, key: str) -> dict[str, int]:
    paths = [*API, *PAGES, f"/api/v1/workloads/{key}", f"/workloads/{key}/"]
    return {path: client.get(path).status_code for path in paths}


def test_it_answers_503_while_redis_is_down_and_recovers_on_the_next_run(redis_server, api):
    assert run_collection(WINDOW) == "ok"
    good = read_good(api)
    key = next(k for k, item in good[0].items() if item["rps"] and re.fullmatch(r"[a-z0-9/-]+", k))
    assert set(answers(api, key).values()) == {200}

    redis_server.stop()
    down = answers(api, key)
    assert set(down.values()) == {503}, down
    response = api.get("/api/v1/workloads")
    assert response["Retry-After"] == "10"
    assert "unavailable" in response.json()["error"]
    # A collection cannot take its lock: it fails, and the task queue retries it.
    with pytest.raises(StoreUnavailable):
        run_collection(WINDOW)

    # This Redis keeps nothing on disk (no RDB, no AOF): the last good snapshot is gone with
    # it. Until the next collection the API says so, and the pages show the waiting page.
    redis_server.start()
    response = api.get("/api/v1/workloads")
    assert response.status_code == 503
    assert "no snapshot" in response.json()["error"]
    assert api.get("/workloads/").status_code == 200

    assert run_collection(WINDOW) == "ok"
    assert_recovered(api, good)
    assert set(answers(api, key).values()) == {200}
