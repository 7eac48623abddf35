"""JSON logs: one object a line, with the fields passed in ``extra``; request logs keep secrets
out."""

import json
import logging
import os
import subprocess
import sys

import pytest

from meshdash.observability import collection
from meshdash.observability.logging import JsonFormatter
from meshdash.observability.middleware import safe_query
from tests.accounts.people import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def record(message="collection of %s ok", args=("1m",), **extra) -> logging.LogRecord:
    entry = logging.getLogger("meshdash.collections").makeRecord(
        "meshdash.collections", logging.INFO, __file__, 1, message, args, None, extra=extra
    )
    return entry


def test_it_writes_one_json_object_with_the_extra_fields():
    line = JsonFormatter().format(record(window="1m", seconds=2.5, errors={"tcp": "timeout"}))
    entry = json.loads(line)
    assert entry["message"] == "collection of 1m ok"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "meshdash.collections"
    assert entry["time"].endswith("+00:00")
    assert entry["window"] == "1m" and entry["seconds"] == 2.5
    assert entry["errors"] == {"tcp": "timeout"}
    assert "\n" not in line


def test_a_traceback_stays_on_the_line():
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        entry = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_the_settings_turn_json_on_for_every_logger():
    script = (
        "import django, logging; django.setup();"
        " logging.getLogger('meshdash.collections').warning('hello %s', 'there',"
        " extra={'window': '1m'})"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="meshdash.settings", MESHDASH_DEBUG="true")
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env | {"MESHDASH_LOG_FORMAT": "json"},
    )
    assert ran.returncode == 0, ran.stderr
    (line,) = ran.stderr.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "hello there" and entry["window"] == "1m"

    text = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert text.stderr.strip() == "hello there"

    bad = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env | {"MESHDASH_LOG_FORMAT": "yaml"},
    )
    assert bad.returncode != 0 and "MESHDASH_LOG_FORMAT" in bad.stderr


def test_a_collection_logs_its_summary(redis_client, caplog):
    caplog.set_level(logging.INFO, "meshdash.collections")
    collection.record(
        "1m",
        "failed",
        started_at=100.0,
        finished_at=103.5,
        promql_queries=4,
        kubernetes_requests=6,
        reason="prometheus",
        errors={"inbound": "timed out"},
    )
    (entry,) = caplog.records
    assert entry.levelno == logging.WARNING
    assert entry.getMessage() == (
        "collection of 1m failed in 3.50 s, 4 PromQL queries, 6 Kubernetes requests"
        " (prometheus: inbound: timed out)"
    )
    assert (entry.window, entry.status, entry.seconds, entry.reason) == (
        "1m",
        "failed",
        3.5,
        "prometheus",
    )
    assert (entry.started_at, entry.finished_at) == (100.0, 103.5)
    assert entry.event == "collection"


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("page=2&sort=rps", "page=2&sort=rps"),
        ("token=abc123&page=2", "token=[redacted]&page=2"),
        ("api_key=abc123", "api_key=[redacted]"),
        ("password=hunter2&next=/x", "password=[redacted]&next=/x"),
        ("csrfmiddlewaretoken=zz", "csrfmiddlewaretoken=[redacted]"),
        ("", ""),
    ],
)
def test_secret_looking_query_values_are_redacted(query, logged):
    assert safe_query(query) == logged


@pytest.mark.django_db
def test_a_request_is_logged_without_its_secrets(client, alice, redis_client, caplog):
    caplog.set_level(logging.INFO, "meshdash.requests")
    client.cookies["sessionid"] = "cookie-value-1"
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client.get(
        "/workloads/?ns=shop&token=query-secret-2",
        HTTP_AUTHORIZATION="Bearer header-secret-3",
        HTTP_COOKIE="sessionid=cookie-value-4",
    )
    lines = [JsonFormatter().format(entry) for entry in caplog.records]
    text = "\n".join(lines)
    for secret in ("cookie-value", "query-secret", "header-secret", PASSWORD):
        assert secret not in text
    page = json.loads(lines[-1])
    assert page["event"] == "request"
    assert page["method"] == "GET" and page["path"] == "/workloads/"
    assert page["query"] == "ns=shop&token=[redacted]"
    assert page["view"] == "workload_list"
    assert page["client"] == "127.0.0.1"
    assert page["seconds"] >= 0
