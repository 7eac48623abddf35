"""/healthz and /readyz answer anonymous probes, whatever Host they send."""

import pytest
from django.db import OperationalError, connections

from tests import servers

pytestmark = pytest.mark.django_db


def test_healthz_answers_anonymously_without_touching_redis(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{servers.free_port()}/0"  # nothing listens
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_answers_ready_when_redis_and_the_database_answer(client, redis_client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/healthz/"])
def test_probes_answer_a_host_outside_allowed_hosts(client, redis_client, path):
    # kubelet's httpGet probes send the pod's address as Host.
    response = client.get(path, HTTP_HOST="10.244.1.17:8000")
    assert response.status_code == 200, response.content


def test_probes_need_no_https_redirect(client, redis_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/readyz").status_code == 200


def test_readyz_answers_503_with_the_reason_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{servers.free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == {"redis": "the snapshot store (Redis) does not answer"}
    assert body["reason"] == "the snapshot store (Redis) does not answer"
    assert "127.0.0.1" not in response.content.decode()  # probes are public: no addresses


def test_readyz_answers_503_when_the_database_fails(client, redis_client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == {"database": "the database does not answer"}


def test_readyz_never_asks_prometheus(client, redis_client, settings):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{servers.free_port()}"
    assert client.get("/readyz").status_code == 200


def test_probes_refuse_writes(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_other_paths_still_need_a_login(client):
    assert client.get("/workloads/").status_code == 302
    assert client.get("/api/v1/workloads").status_code == 401


def test_probes_are_answered_first_before_any_other_middleware(settings):
    # Host checks, sessions, logins and even the request timing come after: kubelet's calls
    # are neither page views nor browsers.
    assert settings.MIDDLEWARE[0] == "meshdash.health.middleware.HealthMiddleware"
    assert settings.MIDDLEWARE[1] == "meshdash.observability.middleware.RequestMetricsMiddleware"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head(client, redis_client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
