"""The Services, mTLS and authorization pages, the workload page's events, authorization and
links, labels and the landing view: full pages, htmx partials, JSON, CSV and bad input."""

import pytest

from tests.dashboard.browsing import HOSTILE, write_browsing

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh(redis_client):
    return write_browsing(redis_client)


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


PAGES = [
    ("/services/", "<h1>Services</h1>", "services"),
    ("/mtls/", "<h1>mTLS posture</h1>", "edges"),
    ("/mtls/?list=unmeshed", "<h1>mTLS posture</h1>", "edges"),
    ("/authorization/", "<h1>Authorization</h1>", "decisions"),
    ("/pods/", "<h1>Pods</h1>", "pods"),
]


@pytest.mark.parametrize(("url", "marker", "region"), PAGES)
def test_it_renders_each_new_page_in_full_and_as_its_partial(client, mesh, url, marker, region):
    full = client.get(url)
    assert full.status_code == 200 and marker in body_of(full)
    partial = body_of(client.get(url, headers={"HX-Request": "true"}))
    assert marker not in partial and partial.lstrip().startswith(f'<section id="{region}"')
    assert "data-auto-refresh" in partial


def test_the_mtls_page_lists_plaintext_edges_and_unmeshed_clients(client, mesh):
    body = body_of(client.get("/mtls/"))
    assert 'data-edge="payments/deployment/api&gt;shop/deployment/web"' in body
    assert "legacy-client" not in body.split("<tbody>")[-1]
    assert 'data-namespace="shop"' in body and "50.0 %" in body
    unmeshed = body_of(client.get("/mtls/?list=unmeshed"))
    assert "legacy-client" in unmeshed and "(unmeshed)" in unmeshed


def test_the_authorization_page_shows_denials_first(client, mesh):
    body = body_of(client.get("/authorization/"))
    top = body.split('id="denials-h"')[1].split("</section>")[0]
    assert top.index("payments/api") < top.index("shop/web")
    assert "none (denied)" in top


def test_the_workload_page_has_events_authorization_and_why_its_health(client, mesh, settings):
    body = body_of(client.get("/workloads/payments/deployment/api/"))
    assert 'data-event="OOMKilling"' in body and 'data-event="FailedCreate"' in body
    assert HOSTILE not in body and "&lt;script&gt;" in body
    assert '<time datetime="' in body
    assert 'data-authz="api-http"' in body
    assert 'title="warning: success 98.7 % is below 99 %"' in body
    assert "data-health-legend" in body and "success below 99 %" in body
    assert "data-traces" not in body  # no traces link unless configured
    settings.MESHDASH_TRACES_URL_TEMPLATE = "https://tempo.example/{namespace}/{name}?to={dst_name}"
    body = body_of(client.get("/workloads/payments/deployment/api/"))
    assert 'href="https://tempo.example/payments/api?to=" rel="noopener noreferrer"' in body
    assert 'href="https://tempo.example/shop/web?to=api"' in body  # the caller's edge


def test_leaf_certificates_read_against_their_lifetime(client, mesh):
    body = body_of(client.get("/workloads/shop/deployment/web/"))
    assert 'data-leaf="critical" title="expires' in body and ">expired<" in body
    assert "-6 min" not in body
    body = body_of(client.get("/workloads/payments/deployment/api/"))
    assert 'class="leaf" data-leaf="healthy"' in body and "20 h of 24 h" in body


def test_the_service_page_shows_its_backing_workloads_and_callers(client, mesh):
    body = body_of(client.get("/services/payments/api/"))
    assert 'data-workload="payments/deployment/api"' in body
    assert 'data-edge="shop/deployment/web"' in body
    assert "http 8080/TCP" in body
    partial = body_of(client.get("/services/payments/api/", headers={"HX-Request": "true"}))
    assert partial.lstrip().startswith('<div id="detail"')
    assert client.get("/services/payments/nope/").status_code == 404
    assert client.get("/services/NOT_A_NS/api/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/mtls",
        "/api/v1/mtls?list=unmeshed",
        "/api/v1/authorization",
        "/api/v1/pods",
        "/api/v1/services",
    ],
)
def test_every_new_list_answers_json(client, mesh, url):
    response = client.get(url)
    assert response.status_code == 200
    data = response.json()
    assert {"total", "page", "per_page", "pages", "window", "items", "snapshot"} <= data.keys()
    assert isinstance(data["snapshot"]["taken_at"], float)


def test_the_json_of_a_service(client, mesh):
    data = client.get("/api/v1/services/payments/api").json()
    assert data["service"]["name"] == "api" and data["workloads"][0]["name"] == "api"
    assert client.get("/api/v1/services/payments/nope").status_code == 404


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("/mtls.csv", "src_namespace,src_kind,src_name"),
        ("/authorization.csv", "namespace,kind,name,server_kind,server"),
        ("/pods.csv", "namespace,name"),
        ("/services.csv", "namespace,name"),
    ],
)
def test_every_new_list_exports_csv(client, mesh, url, header):
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = body_of(response).splitlines()
    assert lines[0].startswith(header) and len(lines) > 1


BAD = [
    "/mtls/?sort=bogus",
    "/mtls/?page=0",
    "/mtls/?q=%3Cscript%3E",
    "/authorization/?dir=sideways",
    "/authorization/?ns=NOT_A_NS",
    "/pods/?problem=haunted",
    "/pods/?node=%3Cb%3E",
    "/pods/?proxy_version=a%20b",
    "/pods/?label=nokey",
    "/pods/?sort=bogus",
    "/services/?health=purple",
    "/services/?per_page=100000",
    "/workloads/?label==x",
    "/workloads/?" + "&".join(f"label=k{i}=v" for i in range(11)),
]


@pytest.mark.parametrize("url", BAD)
def test_bad_input_is_a_400_with_a_reason_never_a_500(client, mesh, url):
    page = client.get(url)
    assert page.status_code == 400
    path, _, query = url.partition("?")
    api = {
        "/mtls/": "/api/v1/mtls",
        "/authorization/": "/api/v1/authorization",
        "/pods/": "/api/v1/pods",
        "/services/": "/api/v1/services",
        "/workloads/": "/api/v1/workloads",
    }[path]
    answer = client.get(f"{api}?{query}")
    assert answer.status_code == 400 and answer.json()["error"]


def test_the_label_filter_is_in_the_form_and_keeps_each_label(client, mesh):
    body = body_of(client.get("/workloads/?label=team=payments&label=app=api"))
    assert 'name="label" value="app=api" checked' in body
    assert 'name="label" value="team=payments" checked' in body


def test_a_team_scope_becomes_the_landing_view(client, mesh):
    body = body_of(client.get("/?team=payments"))
    assert "data-set-landing" in body
    response = client.post("/landing/", {"scope": "team=payments&sort=bogus&q=x"})
    assert response.status_code == 302 and response["Location"] == "/?team=payments"
    landing = client.get("/")
    assert landing.status_code == 302 and landing["Location"] == "/?team=payments"
    assert client.get("/?page=1").status_code == 200  # "Reset" still shows everything
    client.post("/landing/", {"clear": "1"})
    assert client.get("/").status_code == 200


def test_a_bad_landing_cookie_is_ignored(client, mesh):
    client.cookies["meshdash_landing"] = "sort=bogus&team=<x>"
    assert client.get("/").status_code == 200


def test_the_namespaces_list_exports_csv_too(client, mesh):
    body = client.get("/namespaces/").content.decode()
    assert 'href="/namespaces.csv"' in body
    response = client.get("/namespaces.csv?sort=name")
    lines = body_of(response).splitlines()
    assert lines[0].startswith("name,inject_annotation,workloads")
    assert [line.split(",")[0] for line in lines[1:]] == ["payments", "shop"]
    assert client.get("/namespaces.csv?sort=bogus").status_code == 400


def test_each_badge_in_a_list_says_why(client, mesh):
    body = client.get("/workloads/").content.decode()
    assert 'title="warning: success 98.7 % is below 99 %">warning</span>' in body
    body = client.get("/services/").content.decode()
    assert 'title="warning: success 98.7 % is below 99 %">warning</span>' in body


def test_the_workload_page_names_the_container_that_was_oomkilled(client, mesh):
    body = body_of(client.get("/workloads/payments/deployment/api/"))
    assert '<span class="term bad" data-term="proxy">proxy: OOMKilled</span>' in body
    assert 'title="waiting for init container linkerd-init"' in body
