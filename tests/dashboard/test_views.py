import html
import re

import pytest

from meshdash.mesh.query import SORT_KEYS
from meshdash.store import SnapshotStore
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR, all_workloads, expected, write_known

pytestmark = pytest.mark.django_db

ROW_RE = re.compile(r'<tr data-workload="([^"]+)">')


def rows(response) -> list[str]:
    return [html.unescape(match) for match in ROW_RE.findall(response.content.decode())]


# --- every page, in full and as its htmx partial

PAGES = [
    ("/", "<h2>Workloads</h2>", "#table"),
    ("/workloads/", "<h1>Workloads</h1>", "#table"),
    ("/namespaces/", "<h1>Namespaces</h1>", "#table"),
    ("/namespaces/shop/", "<h1>shop</h1>", "#table"),
    ("/workloads/shop/deployment/frontend/", "Next steps", "#detail"),
]


@pytest.mark.parametrize(("url", "marker", "_"), PAGES)
def test_it_renders_each_page_in_full(client, known, url, marker, _):
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert marker in body
    assert "<html" in body and 'class="acct-nav"' in body  # the account menu is in the header
    assert "HX-Request" in response["Vary"]
    assert "Data as of" in body


@pytest.mark.parametrize(("url", "marker", "_"), PAGES)
def test_it_renders_only_the_swappable_region_for_htmx(client, known, url, marker, _):
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and marker not in body
    assert body.lstrip().startswith(("<section", "<div"))
    # Polls every 10 s; meshdash.js skips the polls of a hidden tab (data-auto-refresh).
    assert 'hx-trigger="every 10s" data-auto-refresh' in body
    assert "HX-Request" in response["Vary"]


def test_it_renders_the_full_page_for_boosted_and_history_restore_requests(client, known):
    for headers in (
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ):
        assert "<html" in client.get("/workloads/", headers=headers).content.decode()


def test_it_lists_fifty_workloads_a_page_with_page_links(client, known):
    response = client.get("/")
    assert rows(response) == expected()[:50]
    body = response.content.decode()
    assert "1–50 of <b data-total>124</b> workloads" in body
    assert 'href="?page=3"' in body and 'rel="next"' in body


def test_it_shows_the_overview_figures(client, known):
    body = client.get("/").content.decode()
    workloads = all_workloads()
    assert f'data-stat="workloads">{len(workloads)}<' in body
    meshed = sum(1 for w in workloads if w.meshed_pods > 0)
    assert f"{meshed} workloads" in body
    assert "stable-2.13.4 · 20 proxies" in body
    # each health count opens the workloads in that state
    critical = sum(1 for w in workloads if w.health == "critical")
    assert f'href="/workloads/?health=critical">{critical} critical</a>' in body
    # What needs attention is the checks' (tests/dashboard/test_overview_findings.py): the
    # known mesh is written without findings, as by a collection that did not run them.
    attention = body.split('id="attention-h"')[1].split("</section>")[0]
    assert 'data-findings="not-run"' in attention


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_it_sorts_by_every_column_both_ways(client, known, sort, direction):
    response = client.get(f"/workloads/?sort={sort}&dir={direction}&per_page=200")
    assert rows(response) == expected(sort, direction == "desc")


def test_it_filters_and_pages_like_the_url_says(client, known):
    url = "/workloads/?ns=shop&ns=payments&kind=deployment&meshed=yes&sort=rps&dir=desc"

    def keep(w):
        return w.namespace in ("shop", "payments") and w.kind == "deployment" and w.meshed_pods > 0

    everything = expected("rps", True, keep)
    assert len(everything) > 25
    assert rows(client.get(url + "&per_page=25")) == everything[:25]
    assert rows(client.get(url + "&per_page=25&page=2")) == everything[25:50]


def test_it_filters_by_health_and_name(client, known):
    assert rows(client.get("/workloads/?health=critical&per_page=200")) == expected(
        keep=lambda w: w.health == "critical"
    )
    assert rows(client.get("/workloads/?q=SVC-01&per_page=200")) == expected(
        keep=lambda w: "svc-01" in w.name
    )
    assert rows(client.get("/workloads/?meshed=no&per_page=200")) == expected(
        keep=lambda w: w.meshed_pods == 0
    )


def test_it_clamps_a_page_past_the_end_to_the_last(client, known):
    response = client.get("/workloads/?page=999")
    assert response.status_code == 200
    assert rows(response) == expected()[100:]


def test_it_keeps_filters_in_every_link_of_the_table(client, known):
    url = "/workloads/?ns=shop&ns=legacy&ns=payments&q=svc&sort=p99&dir=desc&per_page=25"
    body = client.get(url).content.decode()
    query = "ns=shop&amp;ns=legacy&amp;ns=payments&amp;q=svc"
    assert f'href="?{query}&amp;sort=p99&amp;dir=desc&amp;per_page=25&amp;page=2"' in body
    assert f'href="?{query}&amp;per_page=25&amp;sort=rps&amp;dir=desc"' in body
    assert f'href="/workloads.csv?{query}&amp;sort=p99&amp;dir=desc"' in body
    assert '<input type="hidden" form="filters" name="sort" value="p99">' in body
    assert '<input type="hidden" form="filters" name="per_page" value="25">' in body
    assert 'value="shop" checked' in body and 'value="svc"' in body


def test_it_keeps_the_window_in_links(client, redis_client):
    write_known(redis_client, minutes=1, window="10m")
    body = client.get("/workloads/?window=10m&q=frontend").content.decode()
    assert 'href="/workloads/shop/deployment/frontend/?window=10m"' in body
    assert '<input type="hidden" name="window" value="10m">' in body
    assert 'href="?window=1h&amp;q=frontend" title="Metrics over the last 1h"' in body


def test_it_shows_a_namespace_with_its_workloads_only(client, known):
    response = client.get("/namespaces/payments/?per_page=200")
    assert rows(response) == expected(keep=lambda w: w.namespace == "payments")
    body = response.content.decode()
    assert 'class="bad" title="The valid values are enabled and disabled">true<' in body
    assert 'href="/workloads.csv?ns=payments"' in body


def test_it_lists_namespaces_with_rollups(client, known):
    body = client.get("/namespaces/").content.decode()
    for name in ("shop", "payments", "legacy"):
        assert f'data-namespace="{name}"' in body


def test_it_answers_404_for_unknown_namespaces_and_workloads(client, known):
    for url in (
        "/namespaces/nope/",
        "/namespaces/Not_Valid/",
        "/workloads/shop/deployment/nope/",
        "/workloads/shop/pod/frontend/",
        "/workloads/shop/deployment/" + "x" * 300 + "/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.content.decode()


def test_it_shows_a_workload_in_detail(client, known, settings):
    settings.MESHDASH_GRAFANA_URL_TEMPLATE = (
        "https://grafana.example/d/linkerd-{kind}?var-namespace={namespace}&var-{kind}={name}"
    )
    body = client.get("/workloads/shop/deployment/frontend/").content.decode()
    assert 'data-stat="success">99.90 %<' in body and 'data-stat="rps">250.0<' in body
    # callers and callees, each a link to its own page, with mTLS shown
    assert 'data-edge="legacy/deployment/ingress"' in body
    assert 'href="/workloads/shop/deployment/cart/"' in body
    assert 'href="/workloads/payments/statefulset/ledger/"' in body
    assert body.count('class="lock"') == 2 and "Not encrypted by the mesh" in body
    # pods, commands and links out
    assert 'data-pod="frontend-7d9f-abcde"' in body and "no proxy" in body
    assert "20.0 MiB / 250.0 MiB" in body
    assert "linkerd viz tap deploy/frontend -n shop" in body
    assert "kubectl -n shop rollout restart deploy/frontend" in body
    assert "kubectl -n shop logs pod/frontend-7d9f-abcde -c linkerd-proxy" in body
    assert (
        'href="https://grafana.example/d/linkerd-deployment?var-namespace=shop'
        '&amp;var-deployment=frontend"'
    ) in body
    assert "response_total%7Bdirection%3D%22inbound%22%2C%20namespace%3D%22shop%22" in body
    assert body.count("<polyline") >= 3  # the hour charts
    assert 'class="graph"' in body and body.count('class="node h-') >= 3


def test_it_escapes_text_from_the_cluster_everywhere(client, known):
    raw_markers = ("<script>alert", "<img src=x")
    for url in (
        "/",
        "/workloads/?per_page=200",
        "/namespaces/shop/?per_page=200",
        "/workloads/shop/deployment/frontend/",
    ):
        body = client.get(url).content.decode()
        for marker in raw_markers:
            assert marker not in body, url
    detail = client.get("/workloads/shop/deployment/frontend/").content.decode()
    assert html.escape(HOSTILE) in detail  # the team label, shown as text
    assert html.escape(HOSTILE_ATTR) in detail  # inject annotation in a title attribute


def test_it_marks_stale_data_with_the_reason(client, redis_client):
    write_known(redis_client, minutes=1, errors={"routes": "Prometheus answered 503"})
    store = SnapshotStore(redis_client, "meshdash")
    store.record_failure("1m", "Prometheus unreachable: connection refused", at=9e9)
    for url in ("/", "/workloads/", "/namespaces/", "/workloads/shop/deployment/frontend/"):
        body = client.get(url).content.decode()
        assert 'class="banner stale" role="alert"' in body, url
        assert "Prometheus unreachable: connection refused" in body
        assert "<b>routes</b>: Prometheus answered 503" in body


def test_it_waits_for_the_first_snapshot(client, redis_client):
    response = client.get("/")
    assert response.status_code == 200
    assert "first data arrives within a minute" in response.content.decode()
    assert client.get("/workloads/", headers={"HX-Request": "true"})["HX-Refresh"] == "true"


def test_it_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    for url in (
        "/",
        "/workloads/",
        "/namespaces/",
        "/namespaces/shop/",
        "/workloads/shop/deployment/frontend/",
    ):
        response = client.get(url)
        assert response.status_code == 503, url
        assert "Data store unavailable" in response.content.decode()


def test_it_sends_strangers_to_sign_in(known):
    from django.test import Client

    response = Client().get("/workloads/")
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_it_never_waits_on_prometheus_or_kubernetes(client, known, settings):
    # Sources that do not exist: a page that called them would fail or hang.
    settings.PROMETHEUS_URL = "http://127.0.0.1:1"
    settings.KUBECONFIG = "/nonexistent"
    assert client.get("/workloads/shop/deployment/frontend/").status_code == 200


def test_it_puts_watched_workloads_first_on_the_overview(client, known, user):
    from meshdash.bookmarks.models import Watch

    Watch.objects.create(user=user, namespace="shop", kind="deployment", name="cart")
    Watch.objects.create(user=user, namespace="shop", kind="deployment", name="deleted")
    body = client.get("/").content.decode()
    watched = body.split('id="watched-h"')[1].split("</section>")[0]
    assert body.index('id="watched-h"') < body.index('aria-label="Mesh totals"')
    assert 'href="/workloads/shop/deployment/cart/">shop/cart</a>' in watched
    assert "90.0 %" in watched
    assert 'data-watched="shop/deployment/deleted"' in watched
    assert "not in the current snapshot" in watched


def test_it_offers_a_watch_button_on_the_detail_page(client, known):
    body = client.get("/workloads/shop/deployment/frontend/").content.decode()
    assert 'class="acct-watch"' in body and 'name="name" value="frontend"' in body


def test_it_links_to_my_teams_workloads(client, known, user):
    from django.contrib.auth.models import Group

    from meshdash.accounts.models import TeamProfile

    team = Group.objects.create(name="payments")
    TeamProfile.objects.create(
        team=team, namespaces=["shop", "payments"], label_selector="team=payments-team"
    )
    user.groups.add(team)
    body = client.get("/workloads/").content.decode()
    assert '<a class="team-link" href="?ns=payments&amp;ns=shop">' in body
    assert '<a class="team-link" href="?team=payments-team">Team payments-team</a>' in body
    assert rows(client.get("/workloads/?team=payments-team&per_page=200")) == expected(
        keep=lambda w: w.team == "payments-team"
    )


def test_it_formats_numbers_the_same_way_on_every_page(client, known):
    body = client.get("/workloads/shop/deployment/frontend/").content.decode()
    routes = body.split('id="routes-h"')[1].split("</section>")[0]
    assert ">100 %<" in routes  # meshdash's percent filter, not another app's


def test_it_shows_the_identities_of_each_side(client, known):
    body = client.get("/workloads/shop/deployment/frontend/").content.decode()
    callees = body.split('id="callees-h"')[1].split("</section>")[0]
    assert ">ledger.payments.serviceaccount.identity.linkerd.cluster.local<" in callees
    body = client.get("/workloads/shop/deployment/cart/").content.decode()
    callers = body.split('id="callers-h"')[1].split("</section>")[0]
    assert html.escape(f"frontend.shop.serviceaccount.identity.linkerd.{HOSTILE}") in callers
