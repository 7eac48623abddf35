"""/api/v1/findings: the page's findings and filters as JSON, the muted ones apart, the API's
errors and authentication."""

import json

import pytest

from meshdash.accounts.models import ApiToken
from meshdash.triage.muting import create_mute
from tests.dashboard.known import HOSTILE
from tests.triage.conftest import sample_findings

pytestmark = pytest.mark.django_db
URL = "/api/v1/findings"


@pytest.fixture
def api(client, alice):
    client.force_login(alice)
    return lambda query=None: client.get(URL, query or {})


def test_findings_as_json_grouped_worst_first(api, write):
    write(sample_findings())
    answer = api()
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    data = answer.json()
    assert data["checks_ran"] is True and data["window"] == "1m"
    assert (data["total"], data["page"], data["pages"]) == (6, 1, 1)
    assert [f["check"] for f in data["items"]] == [
        "certificates.issuer",
        "memory.share",
        "memory.share",
        "injection.annotation",
        "policy.denials",
        "versions.proxy",
    ]
    issuer = data["items"][0]
    assert issuer["title"] == "Identity issuer expiry"
    assert issuer["subject"] == [
        {"namespace": "linkerd", "kind": "control-plane", "name": "linkerd-identity-issuer"}
    ]
    assert isinstance(issuer["since"], float)  # unix seconds, as every time of the API
    assert issuer["evidence"][0]["source"] == "secret linkerd/linkerd-identity-issuer"
    assert data["items"][-1]["more"] == 7 and data["items"][-1]["since"] is None
    assert data["muted"] == [] and data["snapshot"]["stale"] is False


def test_hostile_text_is_json_text(api, write):
    write(sample_findings())
    body = api().content.decode()
    hostile = next(f for f in json.loads(body)["items"] if f["check"] == "injection.annotation")
    assert hostile["subject"][0]["name"] == HOSTILE and hostile["runbook"] == HOSTILE


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"severity": "warning"}, 3),
        ({"check": "memory.share", "ns": "shop"}, 1),
        ({"team": "payments-team"}, 1),
        ({"ns": "nowhere"}, 0),
    ],
)
def test_the_same_filters_as_the_page(api, write, query, expected):
    write(sample_findings())
    assert api(query).json()["total"] == expected


def test_paged(api, write):
    write(sample_findings())
    data = api({"per_page": "2", "page": "3"}).json()
    assert (data["page"], data["pages"], len(data["items"])) == (3, 3, 2)
    assert [f["check"] for f in data["items"]] == ["policy.denials", "versions.proxy"]


def test_muted_findings_come_apart_with_their_mute(api, write, payments_admin):
    write(sample_findings())
    create_mute(payments_admin, check="memory.share", namespace="payments", why="known, OPS-1")
    data = api().json()
    assert data["total"] == 5
    assert [m["finding"]["summary"] for m in data["muted"]] == [
        "proxy memory at 91.0 % of its limit"
    ]
    mute = data["muted"][0]["mute"]
    assert (mute["check"], mute["namespace"], mute["who"], mute["why"]) == (
        "memory.share",
        "payments",
        "alice",
        "known, OPS-1",
    )
    assert mute["expires_at"] is None and isinstance(mute["created_at"], float)
    assert api({"ns": "shop"}).json()["muted"] == []  # filtered like the active ones


def test_checks_not_run_and_no_findings(api, write):
    write(None)
    data = api().json()
    assert (data["checks_ran"], data["total"], data["items"], data["muted"]) == (False, 0, [], [])
    write([])
    data = api().json()
    assert (data["checks_ran"], data["total"]) == (True, 0)


def test_no_snapshot_is_503_like_the_other_endpoints(api, redis_client):
    answer = api()
    assert answer.status_code == 503 and answer["Retry-After"] == "10"
    assert "no snapshot for window 1m yet" in answer.json()["error"]


@pytest.mark.parametrize(
    "query",
    [{"severity": "bad"}, {"check": "x"}, {"ns": "A"}, {"team": "<b>"}, {"per_page": "0"}],
)
def test_bad_input_is_a_json_400(api, write, query):
    write(sample_findings())
    answer = api(query)
    assert answer.status_code == 400 and set(answer.json()) == {"error"}


def test_only_reads(client, alice, write):
    write(sample_findings())
    client.force_login(alice)
    answer = client.post(URL)
    assert answer.status_code == 405 and answer["Allow"] == "GET, HEAD"


def test_anonymous_callers_are_refused_as_everywhere_in_the_api(client, write):
    write(sample_findings())
    answer = client.get(URL)
    assert answer.status_code == 401
    assert answer.json() == {"error": "authentication required"}
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_accepted_and_forged_ones_refused(client, alice, write):
    write(sample_findings())
    _, secret = ApiToken.issue(alice, "ci")
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer mdt_forged").status_code == 401


def test_anonymous_read_opens_it_like_the_other_reads(client, write, settings):
    settings.MESHDASH_ANONYMOUS_READ = True
    write(sample_findings())
    assert client.get(URL).status_code == 200
