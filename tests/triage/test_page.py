"""/triage/ on a real Redis store with hand-written findings: order, grouping, filters in the
URL, links, escaping, the states without findings, mutes and the 400s."""

import re
import time

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from meshdash.mesh.checks import Finding, Ref
from meshdash.mesh.model import WINDOWS
from meshdash.triage.models import Mute
from meshdash.triage.muting import create_mute
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR
from tests.triage.conftest import sample_findings

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, alice):
    client.force_login(alice)

    def get(query=None, **headers):
        return client.get("/triage/", query or {}, **headers)

    return get


def summaries(response) -> list[str]:
    return re.findall(r'<span class="summary">(.*?)</span>', response.content.decode())


def checks(response) -> list[str]:
    return re.findall(
        r'<section class="check-group card" data-check="([^"]+)"', response.content.decode()
    )


def test_findings_worst_first_grouped_by_check(page, write):
    write(sample_findings())
    response = page()
    assert response.status_code == 200
    # Each check once, in the order of its worst finding; its findings worst first.
    assert checks(response) == [
        "certificates.issuer",
        "memory.share",
        "injection.annotation",
        "policy.denials",
        "versions.proxy",
    ]
    found = summaries(response)
    assert found.index("proxy memory at 99.0 % of its limit") < found.index(
        "proxy memory at 91.0 % of its limit"
    )
    body = response.content.decode()
    assert "Identity issuer expiry" in body  # the check's title from its documentation
    assert "6</b> active findings" in body


def test_each_finding_shows_subject_links_since_evidence_fix_runbook_and_more(page, write):
    write(sample_findings())
    body = page().content.decode()
    assert 'href="/workloads/payments/statefulset/ledger/"' in body
    assert 'href="/pods/?ns=payments&amp;q=ledger-0"' in body
    assert 'href="/namespaces/linkerd/"' in body  # a control-plane component: its namespace
    assert re.search(r"Since <span data-since>2 h</span> ago \(<time datetime=", body)
    assert '<td>proxy RSS</td><td class="num">58.25</td>' in body
    command = "kubectl -n payments rollout restart sts/ledger"
    assert f"<pre><code>{command}</code></pre>" in body
    assert f'data-copy="{command}"' in body
    assert "Rotate the issuer from the current anchor" in body
    assert "and 7 more versions.proxy findings" in body


def test_links_keep_the_window(page, write):
    write(sample_findings(), window="10m")
    body = page({"window": "10m"}).content.decode()
    assert 'href="/workloads/payments/statefulset/ledger/?window=10m"' in body


def test_hostile_names_and_evidence_are_escaped(page, write):
    write(sample_findings())
    body = page().content.decode()
    assert HOSTILE not in body and HOSTILE_ATTR not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"severity": "critical"}, ["certificates.issuer", "memory.share"]),
        ({"check": "memory.share"}, ["memory.share"]),
        ({"ns": "payments"}, ["memory.share"]),
        ({"ns": ["payments", "linkerd"]}, ["certificates.issuer", "memory.share"]),
        ({"team": "payments-team"}, ["policy.denials"]),  # svc-000's team label
        ({"severity": "info", "ns": "shop"}, []),
    ],
)
def test_filters(page, write, query, expected):
    write(sample_findings())
    response = page(query)
    assert response.status_code == 200
    assert checks(response) == expected
    if not expected:
        assert b"No active findings match these filters." in response.content


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"severity": "bad"}, b"unknown severity"),
        ({"check": "<script>"}, b"unknown check"),
        ({"ns": "Not_A_Namespace"}, b"not a valid namespace name"),
        ({"team": "a b"}, b"team must be"),
        ({"page": "0"}, b"page must be 1 or more"),
        ({"per_page": "10000"}, b"per_page must be at most"),
        ({"window": "7y"}, b"unknown window"),
        ({"severity": ["warning", "critical"]}, b"severity may be given once"),
    ],
)
def test_bad_query_values_are_a_clear_400(page, write, query, reason):
    write(sample_findings())
    response = page(query)
    assert response.status_code == 400
    assert reason in response.content
    assert b"<script>" not in response.content.split(b"</head>", 1)[1]


def test_paged_with_the_group_said_continued(page, write):
    many = [
        Finding(
            "memory.share",
            "warning",
            (Ref("shop", "deployment", f"w{i:02d}"),),
            f"w{i:02d}",
            order=i,
        )
        for i in range(30)
    ]
    write(many)
    first, second = page({"per_page": "25"}), page({"per_page": "25", "page": "2"})
    assert len(summaries(first)) == 25 and len(summaries(second)) == 5
    assert summaries(second) == [f"w{i:02d}" for i in range(25, 30)]
    assert b"(continued)" in second.content and b"(continued)" not in first.content
    assert b'rel="next"' in first.content or b"page=2" in first.content


def test_no_findings(page, write):
    write([])
    response = page()
    assert response.status_code == 200
    assert b"data-no-findings" in response.content
    assert b"match these filters" not in response.content


def test_checks_not_run(page, write):
    write(None)
    response = page()
    assert response.status_code == 200
    assert b"data-checks-not-run" in response.content


def test_no_snapshot_yet_is_the_collecting_page(page, redis_client):
    response = page()
    assert response.status_code == 200
    assert b"Collecting" in response.content


def test_stale_snapshot_shows_the_freshness_banner(page, store):
    from tests.dashboard.known import known_snapshot

    store.write(known_snapshot("1m", taken_at=time.time() - 3600), findings=sample_findings())
    response = page()
    assert b'class="banner stale"' in response.content


def test_htmx_refresh_answers_the_region_only(page, write):
    write(sample_findings())
    response = page(HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="triage"')
    assert 'hx-trigger="every' in body and "<html" not in body
    assert response["Vary"].count("HX-Request") == 1


def test_anonymous_is_sent_to_sign_in(client, write):
    write(sample_findings())
    response = client.get("/triage/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Mutes on the page.


def test_team_admins_get_mute_forms_for_their_teams_findings_only(client, payments_admin, write):
    write(sample_findings())
    client.force_login(payments_admin)
    body = client.get("/triage/").content.decode()
    assert body.count('class="mute-form"') == 1  # the ledger finding, in payments
    assert "Mute for statefulset/ledger" in body and "Mute in namespace payments" in body


def test_members_who_are_not_admins_get_no_mute_forms(page, write):
    write(sample_findings())
    assert b'class="mute-form"' not in page().content


def test_mute_then_unmute_from_the_page(client, payments_admin, write):
    write(sample_findings())
    client.force_login(payments_admin)
    back = "/triage/?severity=warning"
    response = client.post(
        "/triage/mute/",
        {
            "check": "memory.share",
            "namespace": "payments",
            "kind": "statefulset",
            "name": "ledger",
            "why": "resized on Monday, ticket OPS-1",
            "expires_in": "1d",
            "scope": "workload",
            "next": back,
        },
    )
    assert response.status_code == 303 and response["Location"] == back
    created = Mute.objects.get()
    assert (created.kind, created.name, created.who_name) == ("statefulset", "ledger", "alice")
    body = client.get(back).content.decode()
    muted = body.split('id="muted-h"')[1]
    assert "proxy memory at 91.0 % of its limit" in muted
    assert "proxy memory at 91.0 % of its limit" not in body.split('id="muted-h"')[0]
    assert "resized on Monday, ticket OPS-1" in muted and "<b>alice</b>" in muted
    assert f'action="/triage/unmute/{created.pk}/"' in muted
    response = client.post(f"/triage/unmute/{created.pk}/", {"next": back})
    assert response.status_code == 303
    assert not Mute.objects.exists()


def test_muting_the_whole_namespace_from_a_workloads_finding(client, payments_admin, write):
    write(sample_findings())
    client.force_login(payments_admin)
    data = {
        "check": "memory.share",
        "namespace": "payments",
        "kind": "statefulset",
        "name": "ledger",
        "why": "noisy",
        "scope": "namespace",
    }
    assert client.post("/triage/mute/", data).status_code == 303
    assert list(Mute.objects.values_list("namespace", "kind", "name")) == [("payments", "", "")]


def test_refused_mutes_say_why_and_change_nothing(client, alice, bob, payments_admin, write):
    write(sample_findings())
    data = {"check": "memory.share", "namespace": "shop", "why": "not mine"}
    client.force_login(payments_admin)
    response = client.post("/triage/mute/", data)
    assert response.status_code == 403 and b"no team you administer owns" in response.content
    client.force_login(bob)
    assert client.post("/triage/mute/", data | {"namespace": "payments"}).status_code == 403
    assert client.post("/triage/mute/", {"check": "x", "namespace": "payments"}).status_code == 400
    assert not Mute.objects.exists()


def test_others_see_the_mute_but_no_unmute_button(client, bob, payments_admin, write):
    write(sample_findings())
    created = create_mute(payments_admin, check="memory.share", namespace="payments", why="known")
    client.force_login(bob)
    body = client.get("/triage/").content.decode()
    assert "proxy memory at 91.0 % of its limit" in body.split('id="muted-h"')[1]
    assert f"/triage/unmute/{created.pk}/" not in body
    assert client.post(f"/triage/unmute/{created.pk}/").status_code == 403


def test_after_a_mute_it_goes_back_only_to_the_triage_page(client, payments_admin, write):
    write(sample_findings())
    client.force_login(payments_admin)
    data = {
        "check": "memory.share",
        "namespace": "payments",
        "why": "x",
        "next": "https://evil.example/triage/",
    }
    assert client.post("/triage/mute/", data)["Location"] == "/triage/"


def test_a_get_of_the_mute_url_is_refused(client, payments_admin):
    client.force_login(payments_admin)
    assert client.get("/triage/mute/").status_code == 405


def test_a_superuser_mutes_cluster_wide_findings(client, write):
    write(
        [Finding("webhooks.conflict", "warning", (Ref("", "webhook", "gatekeeper"),), "conflict")]
    )
    client.force_login(User.objects.create_superuser("root"))
    body = client.get("/triage/").content.decode()
    assert "Mute everywhere" in body


def many_findings(count: int) -> list[Finding]:
    return [
        Finding(
            "memory.share",
            "warning",
            (Ref("payments", "pod", f"p-{i}"), Ref("payments", "deployment", f"w-{i}")),
            f"finding {i}",
            order=i,
        )
        for i in range(count)
    ]


def test_sql_and_rendering_stay_bounded_whatever_the_findings(
    client, payments_admin, write, django_assert_max_num_queries
):
    create_mute(payments_admin, check="memory.oom", namespace="payments", why="known")
    client.force_login(payments_admin)
    write(many_findings(1))
    client.get("/triage/")  # the session, the caches
    with django_assert_max_num_queries(8) as few:
        client.get("/triage/")
    write(many_findings(1000))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/triage/")
    assert len(summaries(response)) == 25  # the default page


QUERY_KEYS = ["ns", "team", "severity", "check", "page", "per_page", "window", "x"]
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "99999999999999999999",
            "critical",
            "memory.share",
            "payments",
            "Payments",
            "a b",
            "<script>",
            "%00",
            "10m",
            "1e3",
        ]
    ),
    st.text(max_size=300),
)


@given(query=st.lists(st.tuples(st.sampled_from(QUERY_KEYS), QUERY_VALUES), max_size=6))
@example(query=[("window", "10m")])  # a window other than the default, which once had no snapshot
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_query_is_answered_200_or_400_never_500(client, alice, write, query):
    # A snapshot in every window the query may name: a valid window without one is a 503 in
    # the API by design (the first collection is running), not bad input.
    for window in WINDOWS:
        write(sample_findings(), window=window)
    client.force_login(alice)
    params = {}
    for key, value in query:
        params.setdefault(key, []).append(value)
    for url in ("/triage/", "/api/v1/findings"):
        response = client.get(url, params)
        assert response.status_code in (200, 400), (url, params, response.content[:300])


def test_it_links_to_my_teams_findings(page, write, alice):
    from django.contrib.auth.models import Group

    from meshdash.accounts.models import TeamProfile

    team = Group.objects.create(name="payments-people")
    TeamProfile.objects.create(
        team=team, namespaces=["shop", "payments"], label_selector="team=payments-team"
    )
    alice.groups.add(team)
    write(sample_findings())
    body = page().content.decode()
    assert re.search(r'<a class="team-link" href="\?[^"]*ns=payments&amp;ns=shop[^"]*">', body)
    assert re.search(r'<a class="team-link" href="\?[^"]*team=payments-team[^"]*">', body)
