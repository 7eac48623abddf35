"""The browsing pages on the demo mesh, collected by a real worker: the pods page finds the
OOMKilled proxy and the stuck init container, the mTLS page the plain-text edges and unmeshed
clients, the authorization page the denials, and a workload page its events."""

import pytest

from tests.e2e.test_end_to_end import WINDOW_SECONDS, run_collection_on_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_every_browsing_page_shows_its_part_of_the_demo(
    celery_worker, redis_url, demo_mesh, demo_prometheus, client, django_user_model
):
    demo_prometheus.wait_for_full_window(WINDOW_SECONDS, demo_mesh.scrape_seconds)
    assert run_collection_on_worker(redis_url) in ("ok", "partial")
    client.force_login(django_user_model.objects.create_user("e2e-browser"))

    for problem in ("oomkilled", "init", "crashloop"):
        pods = client.get("/api/v1/pods", {"problem": problem}).json()
        assert pods["total"] > 0, problem
        assert client.get("/pods/", {"problem": problem}).status_code == 200
    oom = client.get("/api/v1/pods", {"problem": "oomkilled"}).json()["items"]
    assert any("OOMKilled" in (p["proxy_last_termination"], p["app_last_termination"]) for p in oom)

    services = client.get("/api/v1/services", {"per_page": 200}).json()
    assert services["total"] > 0
    first = services["items"][0]
    page = client.get(f"/services/{first['namespace']}/{first['name']}/")
    assert page.status_code == 200

    mtls = client.get("/api/v1/mtls").json()
    unmeshed = client.get("/api/v1/mtls", {"list": "unmeshed"}).json()
    assert mtls["total"] > 0 and unmeshed["total"] > 0
    assert all(not e["tls"] for e in mtls["items"])
    assert all(not e["src_meshed"] for e in unmeshed["items"])

    authz = client.get("/api/v1/authorization").json()
    assert (
        authz["top_denials"]
        and authz["top_denials"][0]["http_denied_rps"]
        + authz["top_denials"][0]["tcp_denied_per_second"]
        > 0
    )

    denied = authz["top_denials"][0]
    body = client.get(
        f"/workloads/{denied['namespace']}/{denied['kind']}/{denied['name']}/"
    ).content.decode()
    assert 'id="events-h"' in body and 'id="authz-h"' in body
    events = [
        w for w in client.get("/api/v1/workloads", {"per_page": 200}).json()["items"] if w["events"]
    ]
    assert events, "no workload of the demo has events"
    for path in ("/pods/", "/services/", "/mtls/", "/authorization/", "/"):
        assert client.get(path).status_code == 200, path
