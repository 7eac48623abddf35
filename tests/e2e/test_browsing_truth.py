"""The browsing pages' numbers on the demo mesh, collected by a real worker and read through the
JSON API, against the demo model's truth: each pod's trouble and traffic, each Service's
callers, the plain-text edges and the denials."""

import pytest

from tests.e2e.test_end_to_end import (
    WINDOW_SECONDS,
    close,
    model_tolerance,
    run_collection_on_worker,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _all(client, path: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        response = client.get(path, {**params, "page": page, "per_page": 200})
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def test_the_browsing_pages_agree_with_the_demo_model(
    celery_worker, redis_url, demo_mesh, demo_prometheus, client, django_user_model
):
    demo_prometheus.wait_for_full_window(WINDOW_SECONDS, demo_mesh.scrape_seconds)
    assert run_collection_on_worker(redis_url) == "ok"
    client.force_login(django_user_model.objects.create_user("e2e-truth"))
    mesh = demo_mesh.model()
    taken_at = client.get("/api/v1/workloads").json()["snapshot"]["taken_at"]
    tolerance = model_tolerance(demo_prometheus, taken_at, demo_mesh.scrape_seconds)
    assert tolerance < 0.15, "the machine is too busy for the comparison with the model"

    for problem, names in mesh.pod_problems().items():
        got = {(p["namespace"], p["name"]) for p in _all(client, "/api/v1/pods", problem=problem)}
        assert got == names, problem

    pods = {(p["namespace"], p["name"]): p for p in _all(client, "/api/v1/pods")}
    wrong = []
    for w in mesh.all_workloads:
        for pod in w.pods:
            got, want = pods[(pod.namespace, pod.name)]["rps"], mesh.pod_rps(pod)
            if not close(got, want, tolerance) and (want or got):
                wrong.append((pod.name, got, want))
    assert not wrong, wrong[:5]

    services = {(s["namespace"], s["name"]): s for s in _all(client, "/api/v1/services")}
    wrong = []
    for w in mesh.all_workloads:
        if w.service_name:
            got = services[(w.namespace, w.service_name)]
            want = mesh.service_rps(w)
            if not close(got["rps"], want, tolerance) and (want or got["rps"]):
                wrong.append((w.key, got["rps"], want))
            if got["workloads"] != [f"{w.kind}/{w.name}"]:
                wrong.append((w.key, got["workloads"]))
    assert not wrong, wrong[:5]

    plain = {
        (
            (e["src_namespace"], e["src_kind"], e["src_name"]),
            (e["dst_namespace"], e["dst_kind"], e["dst_name"]),
        )  # noqa: E501
        for e in _all(client, "/api/v1/mtls")
        if e["rps"]
    }
    assert plain == mesh.plaintext_edges()

    denials = client.get("/api/v1/authorization").json()["top_denials"]
    got = {(d["namespace"], d["kind"], d["name"]): d for d in denials}
    want = {w.key: w for w in mesh.all_workloads if w.denied_rps or w.denied_connections_per_second}
    assert got.keys() == want.keys()
    for key, w in want.items():
        assert close(got[key]["http_denied_rps"], w.denied_rps, tolerance), key
        assert close(
            got[key]["tcp_denied_per_second"], w.denied_connections_per_second, tolerance
        ), key
