"""meshdash settings: every value comes from the environment (or a .env file for what it leaves
unset), with a default that works on a laptop.

``.env.example`` lists every variable with one line of explanation.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from meshdash.lib.env import env_bool, env_float, env_int, env_list, env_str, load_env_file
from meshdash.mesh.checks.thresholds import thresholds_from_env
from meshdash.mesh.history import DEFAULT_TIERS_TEXT, parse_tiers
from meshdash.mesh.model import WINDOW_TABLE

BASE_DIR = Path(__file__).resolve().parent.parent
# A developer's .env (`cp .env.example .env`) fills in what the environment leaves unset.
DEFAULT_DOTENV = str(BASE_DIR / ".env")
DOTENV = env_str("MESHDASH_DOTENV", DEFAULT_DOTENV)
if DOTENV:
    load_env_file(DOTENV, required=DOTENV != DEFAULT_DOTENV)
VAR_DIR = Path(env_str("MESHDASH_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("MESHDASH_DEBUG", False)
# The built-in key is public: signed sessions and CSRF tokens would be forgeable with it.
INSECURE_SECRET_KEY = "meshdash-insecure-development-key-change-me"
SECRET_KEY = env_str("MESHDASH_SECRET_KEY", "") or INSECURE_SECRET_KEY
if SECRET_KEY == INSECURE_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "MESHDASH_SECRET_KEY (or MESHDASH_SECRET_KEY_FILE) must be set to a long random value "
        "when MESHDASH_DEBUG is off; the built-in key is only for MESHDASH_DEBUG=true"
    )
ALLOWED_HOSTS = env_list("MESHDASH_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("MESHDASH_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # meshdash's template library ({% load meshdash %}), shared by every app's templates.
    "meshdash.lib",
    "meshdash.collectors",
    "meshdash.dashboard",
    "meshdash.accounts",
    "meshdash.bookmarks",
    # The demo mesh only adds the `demo_mesh` command; the product never imports it.
    "meshdash.demo",
    # Heartbeats, /metrics and JSON logs of meshdash itself.
    "meshdash.observability",
    # meshdash's own history of the mesh, in the SQL database (meshdash/history).
    "meshdash.history",
    # Findings of the on-call checks: the /triage/ page, /api/v1/findings and the mutes.
    "meshdash.triage",
]

MIDDLEWARE = [
    # /healthz and /readyz, before host checks, sessions and logins: probes have none of them.
    "meshdash.health.middleware.HealthMiddleware",
    # Times every request but the probes, by view, for /metrics; logs it without secrets.
    "meshdash.observability.middleware.RequestMetricsMiddleware",
    # Outside whitenoise and the error handlers, so static files and error pages carry it too.
    "meshdash.lib.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages and API answers (static files never get here: whitenoise serves its own
    # compressed copies): Django's GZipMiddleware at a faster level. Like Django's it adds
    # random bytes to each response against BREACH-style guessing of the CSRF token through
    # compressed sizes.
    "meshdash.lib.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Accounts: SSO header and bearer tokens sign the request in; then everything needs a login.
    "meshdash.accounts.middleware.SsoHeaderMiddleware",
    "meshdash.accounts.middleware.BearerTokenMiddleware",
    "meshdash.accounts.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "meshdash.urls"
WSGI_APPLICATION = "meshdash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several web workers write at once (make bench-load saw "database is locked"): a transaction
    # that read first cannot upgrade to the write lock while another holds it, and fails at once.
    # Taking the write lock at BEGIN makes writers queue for it (up to `timeout`) instead; WAL
    # lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (a year in browsers' caches) once `collectstatic` ran; plain names before.
    "staticfiles": {"BACKEND": "meshdash.lib.static.HashedStaticFilesStorage"},
}
# Serve static files from the app directories without collectstatic in development and tests.
WHITENOISE_USE_FINDERS = True

# --- Redis: the snapshot store; also Celery's broker unless CELERY_BROKER_URL says otherwise.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
MESHDASH_REDIS_PREFIX = env_str("MESHDASH_REDIS_PREFIX", "meshdash")
# Filtered views' cached results, in a Redis of their own where it may evict them
# (maxmemory-policy allkeys-lru): snapshots and the broker's queues must never be evicted, and
# maxmemory is per instance, not per database. Default: REDIS_URL, the budget below the bound.
MESHDASH_CACHE_REDIS_URL = env_str("MESHDASH_CACHE_REDIS_URL", "")
# Per snapshot version: at most this many filtered views cached, and this many bytes of them;
# past either, a view is computed for its page and forgotten.
MESHDASH_RESULT_CACHE_MAX_ENTRIES = env_int("MESHDASH_RESULT_CACHE_MAX_ENTRIES", 200, minimum=0)
MESHDASH_RESULT_CACHE_MAX_BYTES = env_int(
    "MESHDASH_RESULT_CACHE_MAX_BYTES", 4 * 1024 * 1024, minimum=0
)
# Sessions (with the database as their source of truth: an evicted session is read from it
# again) and what every page needs about its user (meshdash/accounts/cache.py), in the result
# cache's Redis; while that Redis is away, pages read them from the database.
CACHES = {
    "default": {
        "BACKEND": "meshdash.lib.cache.ForgivingRedisCache",
        "LOCATION": MESHDASH_CACHE_REDIS_URL or REDIS_URL,
        "KEY_PREFIX": f"{MESHDASH_REDIS_PREFIX}:c",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
    }
}
# Django's cached_db sessions, read in one round trip with the user's cached entries.
SESSION_ENGINE = "meshdash.accounts.sessions"
# New filtered views (the expensive ones, not in the cache) per user and minute, and the burst
# allowed above that pace; past them, 429 with Retry-After.
MESHDASH_COLD_VIEWS_PER_MINUTE = env_float("MESHDASH_COLD_VIEWS_PER_MINUTE", 60.0, minimum=1)
MESHDASH_COLD_VIEWS_BURST = env_int("MESHDASH_COLD_VIEWS_BURST", 30, minimum=1)

# --- Sources.
PROMETHEUS_URL = env_str("PROMETHEUS_URL", "http://127.0.0.1:9090")
PROMETHEUS_TIMEOUT_SECONDS = env_float("PROMETHEUS_TIMEOUT_SECONDS", 20.0, minimum=0.1)
# Parallel PromQL queries in flight towards Prometheus during one collection.
PROMETHEUS_MAX_CONCURRENCY = env_int("PROMETHEUS_MAX_CONCURRENCY", 4, minimum=1)
# Namespace shards the heaviest query (inbound latency buckets) is split into; 1: not split.
PROMETHEUS_SHARDS = env_int("PROMETHEUS_SHARDS", 1, minimum=1)
# The Linkerd proxy's admin port: requests to it (Prometheus scrapes, kubelet probes) are
# Linkerd's own traffic, kept out of the application's numbers.
MESHDASH_PROXY_ADMIN_PORT = env_int("MESHDASH_PROXY_ADMIN_PORT", 4191, minimum=1)
# Kubernetes access: in-cluster service account when true, otherwise the kubeconfig at
# KUBECONFIG (the kubernetes client's own default, ~/.kube/config, when unset).
KUBE_IN_CLUSTER = env_bool("MESHDASH_KUBE_IN_CLUSTER", False)
KUBECONFIG = env_str("KUBECONFIG", "")
KUBE_CONTEXT = env_str("MESHDASH_KUBE_CONTEXT", "")
KUBE_PAGE_SIZE = env_int("MESHDASH_KUBE_PAGE_SIZE", 500, minimum=1)
KUBE_TIMEOUT_SECONDS = env_float("MESHDASH_KUBE_TIMEOUT_SECONDS", 20.0, minimum=0.1)
LINKERD_NAMESPACE = env_str("MESHDASH_LINKERD_NAMESPACE", "linkerd")
# The newest events kept per object (a workload, a ReplicaSet, a pod) for the workload page.
MESHDASH_EVENTS_PER_OBJECT = env_int("MESHDASH_EVENTS_PER_OBJECT", 5, minimum=0)

# --- Collection. Seconds between collections of each window (meshdash.mesh.model.WINDOW_TABLE
# names the variable setting each): the 1m window every MESHDASH_REFRESH_SECONDS, which pages
# also auto-refresh at; longer windows less often.
MESHDASH_WINDOWS = {
    window.name: env_int(window.refresh_setting, window.refresh_seconds, minimum=1)
    for window in WINDOW_TABLE
}
MESHDASH_REFRESH_SECONDS = MESHDASH_WINDOWS["1m"]
MESHDASH_DEFAULT_WINDOW = "1m"
# A collection that runs longer than this gives up and keeps the previous snapshot current.
MESHDASH_COLLECT_DEADLINE_SECONDS = env_float("MESHDASH_COLLECT_DEADLINE_SECONDS", 60.0, minimum=1)
# A replaced snapshot version lives this long, for requests that resolved it just before the
# switch (a CSV export streams from one version). The 1m window is replaced every
# MESHDASH_REFRESH_SECONDS, so Redis holds about TTL / refresh old versions of it: keep it short.
MESHDASH_SNAPSHOT_TTL_SECONDS = env_int("MESHDASH_SNAPSHOT_TTL_SECONDS", 30, minimum=10)
# A window's snapshot older than this many of its refresh intervals is shown as stale, with how
# long no collection has landed: a stopped worker or beat, or a hung Prometheus, fails nothing.
MESHDASH_STALE_AFTER_INTERVALS = env_float("MESHDASH_STALE_AFTER_INTERVALS", 3.0, minimum=1)

# --- Health rules, applied everywhere (meshdash/mesh/health.py).
MESHDASH_HEALTH_CRITICAL_SUCCESS = env_float("MESHDASH_HEALTH_CRITICAL_SUCCESS", 0.95)
MESHDASH_HEALTH_WARNING_SUCCESS = env_float("MESHDASH_HEALTH_WARNING_SUCCESS", 0.99)
MESHDASH_HEALTH_WARNING_P99_MS = env_float("MESHDASH_HEALTH_WARNING_P99_MS", 1000.0)
MESHDASH_HEALTH_MIN_REQUESTS = env_float("MESHDASH_HEALTH_MIN_REQUESTS", 20.0)
# Workloads that serve TCP only: judged on the share of connections closed with an error.
MESHDASH_HEALTH_TCP_CRITICAL_CLOSE_ERRORS = env_float(
    "MESHDASH_HEALTH_TCP_CRITICAL_CLOSE_ERRORS", 0.05
)
MESHDASH_HEALTH_TCP_WARNING_CLOSE_ERRORS = env_float(
    "MESHDASH_HEALTH_TCP_WARNING_CLOSE_ERRORS", 0.01
)
MESHDASH_HEALTH_TCP_MIN_CLOSES_PER_SECOND = env_float(
    "MESHDASH_HEALTH_TCP_MIN_CLOSES_PER_SECOND", 0.1
)

# --- Links out, built from templates with {namespace}, {kind} and {name}.
MESHDASH_GRAFANA_URL_TEMPLATE = env_str("MESHDASH_GRAFANA_URL_TEMPLATE", "")
MESHDASH_PROMETHEUS_URL_TEMPLATE = env_str(
    "MESHDASH_PROMETHEUS_URL_TEMPLATE", PROMETHEUS_URL + "/graph?g0.expr={query}"
)
# Traces in Jaeger or Tempo; an edge's link also fills {dst_namespace}, {dst_kind}, {dst_name}.
MESHDASH_TRACES_URL_TEMPLATE = env_str("MESHDASH_TRACES_URL_TEMPLATE", "")

# --- Celery, configured from these settings (meshdash/celery.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = False
CELERY_RESULT_EXPIRES = 3600
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One beat entry per window; a task left in the queue past its next run is dropped (expires).
CELERY_BEAT_SCHEDULE = {
    f"collect-{window}": {
        "task": "meshdash.collectors.tasks.collect_window",
        "schedule": float(seconds),
        "args": (window,),
        "options": {"expires": max(1.0, seconds * 0.9)},
    }
    for window, seconds in MESHDASH_WINDOWS.items()
}

# Beat's scheduler writes its liveness heartbeat each tick (`manage.py probe beat`), and ticks
# at least this often however far the next collection is.
CELERY_BEAT_SCHEDULER = "meshdash.observability.beat:HeartbeatScheduler"

# --- History (meshdash/history), in the SQL database: resolutions as step:keep pairs, finest
# first (each step a multiple of the one before): a point a minute kept 6 hours, every 5
# minutes 48 hours, every hour 30 days. Drops on the overview compare against the same hour
# yesterday, for workloads that served at least MESHDASH_HISTORY_DROP_MIN_RPS then. A fresh
# install fills the history from what Prometheus still has (MESHDASH_HISTORY_BACKFILL).
MESHDASH_HISTORY_TIERS = parse_tiers(env_str("MESHDASH_HISTORY_TIERS", DEFAULT_TIERS_TEXT))
MESHDASH_HISTORY_DROP_MIN_RPS = env_float("MESHDASH_HISTORY_DROP_MIN_RPS", 0.5, minimum=0)
MESHDASH_HISTORY_BACKFILL = env_bool("MESHDASH_HISTORY_BACKFILL", True)
# Roll-ups, packing and expiry of the history, once a minute.
CELERY_BEAT_SCHEDULE["history-maintain"] = {
    "task": "meshdash.history.tasks.maintain",
    "schedule": 60.0,
    "options": {"expires": 54.0},
}
CELERY_BEAT_MAX_LOOP_INTERVAL = 30

# --- On-call checks (meshdash/mesh/checks), run by each collection. Each threshold is
# MESHDASH_CHECK_<FIELD> for a field of CheckThresholds (meshdash/mesh/checks/thresholds.py,
# its defaults documented there and in the README), e.g. MESHDASH_CHECK_ISSUER_WARNING_DAYS=90;
# a value that is not a non-negative number stops start-up, naming the variable.
try:
    MESHDASH_CHECK_THRESHOLDS = thresholds_from_env(os.environ)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# The memory-growth and rotation checks read a week of every pod's points from the history:
# rebuilt at most every this many minutes per worker process, for at most this many pods.
MESHDASH_CHECKS_HISTORY_MINUTES = env_float("MESHDASH_CHECKS_HISTORY_MINUTES", 10.0, minimum=0)
MESHDASH_CHECKS_HISTORY_MAX_PODS = env_int("MESHDASH_CHECKS_HISTORY_MAX_PODS", 20000, minimum=0)

# --- Self-observation (meshdash/observability). /metrics listens on its own port (0: off),
# served by the gunicorn master, for requests from these networks (addresses or CIDRs) or with
# `Authorization: Bearer <MESHDASH_METRICS_TOKEN>`. Loopback only by default: in a cluster set
# the pod network. Behind the Linkerd proxy a request comes from the proxy (the pod's own
# address), whoever sent it: the NetworkPolicy on this port is what keeps it private there.
MESHDASH_METRICS_PORT = env_int("MESHDASH_METRICS_PORT", 9102, minimum=0)
MESHDASH_METRICS_NETWORKS = env_list("MESHDASH_METRICS_NETWORKS", ["127.0.0.0/8", "::1"])
MESHDASH_METRICS_TOKEN = env_str("MESHDASH_METRICS_TOKEN", "")
# "text" (the message alone) or "json" (one object a line, for log pipelines).
MESHDASH_LOG_FORMAT = env_str("MESHDASH_LOG_FORMAT", "text").strip().lower()
if MESHDASH_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"MESHDASH_LOG_FORMAT={MESHDASH_LOG_FORMAT!r}: use text or json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "meshdash.observability.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if MESHDASH_LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("MESHDASH_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Accounts: sign-in, SSO behind a proxy, API tokens, teams, bookmarks (meshdash/accounts,
# meshdash/bookmarks).
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
CSRF_FAILURE_VIEW = "meshdash.accounts.views.csrf_failure"
AUTHENTICATION_BACKENDS = [
    "meshdash.accounts.backends.ThrottledModelBackend",
    "meshdash.accounts.backends.SsoHeaderBackend",
]
# Anonymous visitors may read (GET/HEAD) every page: for clusters that put their own gate in front.
MESHDASH_ANONYMOUS_READ = env_bool("MESHDASH_ANONYMOUS_READ", False)
# Paths that never need a login (prefixes), besides the login page and static files.
MESHDASH_PUBLIC_PATHS = env_list("MESHDASH_PUBLIC_PATHS", ["/healthz", "/readyz"])
# Single sign-on: the header an authenticating proxy sets to the user name (e.g. X-Forwarded-User),
# honoured only when REMOTE_ADDR is in MESHDASH_SSO_TRUSTED_PROXIES (addresses or CIDRs).
MESHDASH_SSO_HEADER = env_str("MESHDASH_SSO_HEADER", "")
MESHDASH_SSO_GROUPS_HEADER = env_str("MESHDASH_SSO_GROUPS_HEADER", "")
MESHDASH_SSO_TRUSTED_PROXIES = env_list("MESHDASH_SSO_TRUSTED_PROXIES", [])
# The header signs in only users SSO created (never a local account); staff ones only with this.
MESHDASH_SSO_ALLOW_STAFF = env_bool("MESHDASH_SSO_ALLOW_STAFF", False)
# Login throttling (meshdash/accounts/throttle.py): failures counted per user name from one client
# address, per address, and per user name from any address (a higher ceiling, so one address
# cannot lock a user out). A scope at its limit waits MESHDASH_LOGIN_BACKOFF_SECONDS, doubled
# after each further failure, at most MESHDASH_LOGIN_THROTTLE_SECONDS, the period failures count.
MESHDASH_LOGIN_FAILURES_PER_USER = env_int("MESHDASH_LOGIN_FAILURES_PER_USER", 5, minimum=1)
MESHDASH_LOGIN_FAILURES_PER_ADDRESS = env_int("MESHDASH_LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
MESHDASH_LOGIN_FAILURES_PER_USER_ANY_ADDRESS = env_int(
    "MESHDASH_LOGIN_FAILURES_PER_USER_ANY_ADDRESS", 50, minimum=1
)
MESHDASH_LOGIN_BACKOFF_SECONDS = env_int("MESHDASH_LOGIN_BACKOFF_SECONDS", 60, minimum=1)
MESHDASH_LOGIN_THROTTLE_SECONDS = env_int("MESHDASH_LOGIN_THROTTLE_SECONDS", 900, minimum=1)
# Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client for throttling;
# without them every client behind an ingress would share the ingress's address.
MESHDASH_FORWARDED_FOR_PROXIES = env_list("MESHDASH_FORWARDED_FOR_PROXIES", [])
# Bounds on what one user may keep (meshdash/bookmarks/quotas.py): bookmarks, frozen views among
# them, and watched workloads (a team's watches have the same bound, apart from its members').
MESHDASH_BOOKMARKS_PER_USER = env_int("MESHDASH_BOOKMARKS_PER_USER", 200, minimum=1)
MESHDASH_FROZEN_VIEWS_PER_USER = env_int("MESHDASH_FROZEN_VIEWS_PER_USER", 50, minimum=0)
MESHDASH_WATCHES_PER_USER = env_int("MESHDASH_WATCHES_PER_USER", 100, minimum=0)
# Bookmarks per page on the bookmarks page, and the API's default per_page (at most 200).
MESHDASH_BOOKMARKS_PAGE_SIZE = env_int("MESHDASH_BOOKMARKS_PAGE_SIZE", 50, minimum=1)
# Sharing with everyone puts a bookmark in every user's menu: staff and team admins only, unless.
MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE = env_bool(
    "MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE", False
)
# Frozen bookmarks keep the data they showed for this many days.
MESHDASH_FROZEN_RETENTION_DAYS = env_int("MESHDASH_FROZEN_RETENTION_DAYS", 30, minimum=1)
# Mutes of the on-call checks that may exist at once (meshdash/triage): past it, new ones are
# refused until some are removed or expire.
MESHDASH_MAX_MUTES = env_int("MESHDASH_MAX_MUTES", 500, minimum=1)
CELERY_BEAT_SCHEDULE["frozen-view-cleanup"] = {
    "task": "meshdash.bookmarks.tasks.delete_expired_frozen_views",
    "schedule": 3600.0,
}

# HTTPS in production: secure cookies, redirect to HTTPS, HSTS. Behind a TLS-terminating proxy
# also set MESHDASH_TRUST_X_FORWARDED_PROTO=true.
MESHDASH_SECURE = env_bool("MESHDASH_SECURE", False)
SESSION_COOKIE_SECURE = MESHDASH_SECURE
CSRF_COOKIE_SECURE = MESHDASH_SECURE
SECURE_SSL_REDIRECT = MESHDASH_SECURE
SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^readyz"]
SECURE_HSTS_SECONDS = env_int("MESHDASH_HSTS_SECONDS", 31536000 if MESHDASH_SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MESHDASH_HSTS_INCLUDE_SUBDOMAINS", MESHDASH_SECURE)
SECURE_HSTS_PRELOAD = env_bool("MESHDASH_HSTS_PRELOAD", MESHDASH_SECURE)
if env_bool("MESHDASH_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Sent with every response (meshdash/lib/csp.py); the templates hold no inline script or style.
MESHDASH_CONTENT_SECURITY_POLICY = env_str(
    "MESHDASH_CONTENT_SECURITY_POLICY",
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
)
