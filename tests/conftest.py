"""Fixtures for every test: a real Redis (the one at REDIS_URL when set, otherwise a private
one), the demo mesh and its Prometheus, a real Celery worker, and the cast of people: alice and
bob share the payments team, carol is a stranger in the search team."""

import os

import pytest
import redis as redis_lib
from django.contrib.auth.models import Group, User
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from meshdash.accounts.models import TeamProfile
from tests import servers
from tests.accounts.people import PASSWORD

# In CI (CI set in the environment) Hypothesis is derandomized and keeps no database: the same
# commit draws the same examples, so a clean-clone run that passes passes in CI too, and a rare
# example cannot fail one run by chance. Elsewhere ("default") it draws fresh examples each run
# and keeps those that failed in .hypothesis/ (ignored by git) to try them first next run;
# `make fuzz` runs only the property and fuzz tests, several times, with fresh draws, to find
# what the fixed CI draws do not.
_hypothesis_default = hypothesis_settings.get_profile("default")
# No timing-based checks in CI either: a loaded machine is no reason to fail.
hypothesis_settings.register_profile(
    "ci",
    parent=_hypothesis_default,
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")


def private_redis(tmp_path_factory, name: str, memory: tuple[str, str], database: int):
    """The URL of a private Redis run with ``memory`` (maxmemory, policy) for the session, or
    of ``database`` on REDIS_URL's server when that is set."""
    if os.environ.get("REDIS_URL"):
        base = os.environ["REDIS_URL"].rsplit("/", 1)[0]
        yield f"{base}/{database}"
        return
    proc, port = servers.start_redis(tmp_path_factory.mktemp(name), memory=memory)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        servers.stop(proc)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis URL for the tests. With REDIS_URL set the tests use database 15 of that server."""
    yield from private_redis(tmp_path_factory, "redis", servers.STORE_REDIS_MEMORY, 15)


@pytest.fixture(scope="session")
def cache_redis_url(tmp_path_factory):
    """The result cache's Redis, an instance of its own as meshdash runs it (database 14 of
    REDIS_URL's server when that is set)."""
    yield from private_redis(tmp_path_factory, "cache-redis", servers.CACHE_REDIS_MEMORY, 14)


@pytest.fixture(autouse=True)
def unpaced_views(settings):
    """Tests of other things open hundreds of new filtered views (the property tests, the
    fuzzer): the pace of new views is tested on its own (tests/dashboard/test_limits.py)."""
    settings.MESHDASH_COLD_VIEWS_BURST = 1_000_000


@pytest.fixture(autouse=True)
def forgotten_history():
    """The history's per-process caches start empty in each test: a database rollback removes
    the rows they point at."""
    from meshdash.history import forget

    forget()


@pytest.fixture
def redis_client(redis_url, cache_redis_url, settings):
    """A clean Redis database, also wired into Django settings as REDIS_URL; the result cache
    (MESHDASH_CACHE_REDIS_URL) clean too."""
    client = redis_lib.Redis.from_url(redis_url)
    cache = redis_lib.Redis.from_url(cache_redis_url)
    client.flushdb()
    cache.flushdb()
    settings.REDIS_URL = redis_url
    settings.MESHDASH_CACHE_REDIS_URL = cache_redis_url
    yield client
    client.flushdb()
    cache.flushdb()
    client.close()
    cache.close()


# Workloads of the demo mesh that the session's end-to-end fixtures serve (seed 1).
DEMO_WORKLOADS = 300


@pytest.fixture(scope="session")
def demo_mesh(tmp_path_factory):
    """The demo mesh (`manage.py demo_mesh`) on free loopback ports, scraped every 2 s; its
    ``model()`` is the truth it serves."""
    demo = servers.start_demo_mesh(tmp_path_factory.mktemp("demo-mesh"), DEMO_WORKLOADS)
    try:
        yield demo
    finally:
        servers.stop(demo.proc)


@pytest.fixture(scope="session")
def demo_prometheus(demo_mesh, tmp_path_factory):
    """A private Prometheus scraping the demo mesh with the configuration the mesh wrote."""
    proc, port = servers.start_prometheus(
        demo_mesh.prometheus_config, tmp_path_factory.mktemp("demo-prometheus")
    )
    try:
        yield servers.PrometheusServer(proc, f"http://127.0.0.1:{port}")
    finally:
        servers.stop(proc)


@pytest.fixture
def worker_env(redis_url, demo_mesh, demo_prometheus, tmp_path) -> dict[str, str]:
    """The environment a deployment gives a Celery worker, collecting the demo mesh from its
    Prometheus into the session's Redis."""
    return servers.worker_env(redis_url, demo_prometheus.url, demo_mesh.kubeconfig, tmp_path)


@pytest.fixture
def celery_worker(worker_env, redis_client, tmp_path):
    """A real Celery worker process with ``worker_env`` (not eager mode); its log's tail is
    printed at the end, shown with a failing test."""
    log_path = tmp_path / "worker.log"
    proc = servers.start_celery_worker(worker_env, log_path, f"tests-{os.getpid()}")
    try:
        yield proc
    finally:
        servers.stop(proc)
        print(log_path.read_text()[-3000:])


# --- People (tests/accounts/people.py has their password and a bookmark maker).


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Real password hashing costs a third of a second per user; no test needs its strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def payments(db):
    team = Group.objects.create(name="payments")
    TeamProfile.objects.create(team=team, namespaces=["payments"], label_selector="team=payments")
    return team


@pytest.fixture
def search_team(db):
    return Group.objects.create(name="search")


@pytest.fixture
def alice(payments):
    user = User.objects.create_user("alice", password=PASSWORD)
    user.groups.add(payments)
    return user


@pytest.fixture
def bob(payments):
    user = User.objects.create_user("bob", password=PASSWORD)
    user.groups.add(payments)
    return user


@pytest.fixture
def carol(search_team):
    user = User.objects.create_user("carol", password=PASSWORD)
    user.groups.add(search_team)
    return user


@pytest.fixture
def browser(monkeypatch):
    """Chromium through Playwright (tests/browser.py). Playwright's sync API runs an event loop
    in the test's thread; the ORM calls made between browser steps are still synchronous."""
    from tests.browser import chromium

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as launched:
        yield launched
