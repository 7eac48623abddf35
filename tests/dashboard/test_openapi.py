"""The OpenAPI description of /api/v1/: in step with the URLconf and the views, and the API fuzzed
from it (schemathesis, in process through the WSGI app) against the known mesh in Redis."""

import re

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from meshdash.accounts.models import WRITE, ApiToken
from meshdash.mesh.model import WINDOWS
from meshdash.openapi import document
from tests.dashboard.known import write_known

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
# Django converters as OpenAPI path templates: <int:bookmark_id> -> {bookmark_id}.
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
# A value for each path parameter that the URLconf resolves.
PATH_VALUES = {"namespace": "shop", "kind": "deployment", "name": "frontend", "bookmark_id": "1"}


def api_routes(resolver=None, prefix="") -> dict[str, URLPattern]:
    """Every URL pattern under /api/v1/, as an OpenAPI path template."""
    resolver = resolver or get_resolver()
    routes = {}
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= api_routes(entry, route)
        elif ("/" + route).startswith(API_PREFIX):
            routes[CONVERTER.sub(r"{\1}", "/" + route)] = entry
    return routes


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], item.get("parameters", [])


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_it_serves_the_description_without_login():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["openapi"].startswith("3.1.")


def test_it_is_a_valid_openapi_31_document():
    schemathesis.openapi.from_dict(document()).validate()


def test_it_describes_every_api_url_and_nothing_else():
    assert set(document()["paths"]) == set(api_routes())


def test_every_described_path_resolves_to_its_view():
    routes = api_routes()
    for path in document()["paths"]:
        assert resolve(concrete(path)).func is routes[path].callback, path


class RecordingQueryDict(QueryDict):
    """request.GET that remembers which parameters the view asked for."""

    def __init__(self):
        super().__init__(mutable=True)
        self.asked = set()

    def getlist(self, key, default=None):
        self.asked.add(key)
        return super().getlist(key, default)

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def test_it_describes_every_query_parameter_the_views_read(redis_client, django_user_model):
    write_known(redis_client, minutes=1)
    user = django_user_model.objects.create_user("alice")
    factory = RequestFactory()
    for path, method, operation, shared in operations(document()):
        if method != "get":
            continue
        url = concrete(path)
        request = factory.get(url)
        request.user = user
        request.GET = RecordingQueryDict()
        match = resolve(url)
        response = match.func(request, *match.args, **match.kwargs)
        assert response.status_code in (200, 404), (path, response.content[:200])
        described = {
            p["name"] for p in shared + operation.get("parameters", []) if p["in"] == "query"
        }
        assert request.GET.asked == described, path


def test_every_operation_but_the_description_needs_credentials():
    client = Client()  # signed out
    for path, method, operation, _ in operations(document()):
        response = getattr(client, method)(concrete(path), content_type="application/json")
        if operation["security"] == []:
            assert response.status_code == 200, path
            continue
        assert {} not in operation["security"]
        assert response.status_code == 401, (method, path)
        assert response.json() == {"error": "authentication required"}
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "401" in operation["responses"], (method, path)


@pytest.mark.parametrize("host", ["", "evil.example"])
def test_a_refused_host_is_answered_as_described(host):
    """Django refuses a Host header outside MESHDASH_ALLOWED_HOSTS before any view: under
    /api/ the answer is still the API's JSON error, and every operation describes it."""
    for path, method, operation, _ in operations(document()):
        response = getattr(Client(), method)(concrete(path), HTTP_HOST=host)
        assert response.status_code == 400, (method, path)
        assert response["Content-Type"] == "application/json", (method, path)
        assert set(response.json()) == {"error"}
        assert operation["responses"]["400"]["content"]["application/json"]


def test_a_refused_host_outside_the_api_gets_the_page():
    response = Client().get("/workloads/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_anonymous_read_makes_reads_open_and_says_so(settings):
    settings.MESHDASH_ANONYMOUS_READ = True
    for _path, method, operation, _ in operations(document()):
        if operation["security"] == []:
            continue
        assert ({} in operation["security"]) == (method == "get")


@pytest.fixture
def wsgi_app():
    """The WSGI app as gunicorn runs it, in process, for every request the fuzzer sends (its
    probes too). Like Django's test client, it leaves the database connection open between
    requests: the test's transaction lives on it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def known_mesh(redis_client):
    """A snapshot in every window, so that any 5xx is a failure, not the first collection."""
    for window in WINDOWS:
        write_known(redis_client, minutes=3, window=window)


# The bookmark form also checks that the URL is one of meshdash's pages, which no schema can
# say: a body the schema allows may still be refused (400), so only that check is left out.
FORM_CHECKED = {"POST /api/v1/bookmarks", "PATCH /api/v1/bookmarks/{bookmark_id}"}

# Built at collection (Django is set up by then); the WSGI app is handed to each call.
schema = schemathesis.openapi.from_dict(document())


@schema.auth(refresh_interval=None)
class FuzzerToken:
    """A write-scoped token of a fresh user, created by the ``fuzzer_token`` fixture. Given
    through schemathesis so that its checks also send each request without it and with a
    forged one, and expect 401 or 403."""

    secret = None

    def get(self, case, context):
        return FuzzerToken.secret

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def fuzzer_token(db):
    user = User.objects.create_user("fuzzer")
    _, FuzzerToken.secret = ApiToken.issue(user, "fuzzing", scope=WRITE)
    yield FuzzerToken.secret
    FuzzerToken.secret = None


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    # Health checks of the generator, not of the API: a loaded CI machine is slow, and the
    # fixtures (Redis, the database) are the same for every example by design.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_it_answers_as_described(case, wsgi_app, known_mesh, fuzzer_token):
    excluded = []
    if case.operation.label in FORM_CHECKED:
        excluded.append(positive_data_acceptance)
    # The operation's own schema (a copy per test) sends the probes of the checks.
    case.operation.schema.app = wsgi_app
    # The WSGI transport hands schemathesis the bytes as sent: ask for them uncompressed, as the
    # GZip middleware compresses whatever a client accepts.
    case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
    case.call_and_validate(app=wsgi_app, excluded_checks=excluded)


def test_it_describes_the_pacing_of_new_filtered_views(settings, known, client):
    settings.MESHDASH_COLD_VIEWS_BURST = 1
    settings.MESHDASH_COLD_VIEWS_PER_MINUTE = 1
    described = document()["paths"]["/api/v1/workloads"]["get"]["responses"]
    answers = [client.get("/api/v1/workloads", {"q": query}) for query in ("svc-01", "svc-02")]
    assert [a.status_code for a in answers] == [200, 429]
    assert "429" in described
    assert int(answers[1]["Retry-After"]) >= 1
    assert set(answers[1].json()) == {"error"}
