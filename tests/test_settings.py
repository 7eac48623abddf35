"""Settings come from the environment: every variable documented, bad values stop start-up."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from meshdash.lib import env

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN_KEY = "meshdash-insecure-development-key-change-me"
ENV_EXAMPLE = ROOT / ".env.example"
SOURCES = [ROOT / "meshdash", ROOT / "scripts", ROOT / "manage.py"]


def variables_read_by_settings() -> set[str]:
    """Names passed to the env_* helpers in meshdash/settings.py, found in its syntax tree."""
    tree = ast.parse((ROOT / "meshdash" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def documented_variables() -> dict[str, str]:
    """NAME -> the comment line just above it, for `NAME=` and `# NAME=` lines of .env.example."""
    documented = {}
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=", line)
        if match:
            documented[match.group(1)] = previous
        previous = line
    return documented


def source_text() -> str:
    files = []
    for source in SOURCES:
        files.extend(source.rglob("*.py") if source.is_dir() else [source])
    files.extend((ROOT / "scripts").glob("*.sh"))
    return "\n".join(path.read_text() for path in files)


def test_it_documents_every_variable_settings_reads():
    read = variables_read_by_settings()
    assert {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_URL", "KUBECONFIG"} <= read
    missing = read - documented_variables().keys()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_it_explains_every_documented_variable_in_one_comment_line():
    for name, comment in documented_variables().items():
        assert comment.startswith("# ") and not re.match(r"^# [A-Z0-9_]+=", comment), name


def test_it_documents_only_variables_something_reads():
    text = source_text()
    stale = [name for name in documented_variables() if f'"{name}"' not in text]
    assert not stale, f".env.example lists variables nothing reads: {stale}"


def test_it_rejects_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("MESHDASH_DEBUG", "ture")
    with pytest.raises(ImproperlyConfigured, match="MESHDASH_DEBUG"):
        env.env_bool("MESHDASH_DEBUG", False)


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("ON", True), ("1", True), ("no", False), ("", False)]
)
def test_it_parses_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("MESHDASH_DEBUG", raw)
    assert env.env_bool("MESHDASH_DEBUG", not expected) is expected


def test_it_rejects_numbers_that_are_not_numbers_or_too_small(monkeypatch):
    monkeypatch.setenv("MESHDASH_REFRESH_SECONDS", "ten")
    with pytest.raises(ImproperlyConfigured, match="MESHDASH_REFRESH_SECONDS"):
        env.env_int("MESHDASH_REFRESH_SECONDS", 10, minimum=1)
    monkeypatch.setenv("MESHDASH_REFRESH_SECONDS", "0")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env.env_int("MESHDASH_REFRESH_SECONDS", 10, minimum=1)


def test_it_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("MESHDASH_SECRET_KEY_FILE", str(secret))
    assert env.env_str("MESHDASH_SECRET_KEY", "default") == "from-a-file"
    monkeypatch.setenv("MESHDASH_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="MESHDASH_SECRET_KEY_FILE"):
        env.env_str("MESHDASH_SECRET_KEY", "default")


def load_settings(**environ) -> subprocess.CompletedProcess:
    """Loads the real settings module in a fresh interpreter with the given variables (None:
    unset)."""
    base = {name: value for name, value in os.environ.items() if environ.get(name, "") is not None}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.DEBUG, settings.MESHDASH_WINDOWS['1m'])",
        ],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "meshdash.settings",
            **{name: value for name, value in environ.items() if value is not None},
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_stops_start_up_on_a_bad_value_in_the_real_settings():
    bad = load_settings(MESHDASH_DEBUG="ture")
    assert bad.returncode != 0
    assert "ImproperlyConfigured" in bad.stderr and "MESHDASH_DEBUG" in bad.stderr

    good = load_settings(MESHDASH_DEBUG="yes", MESHDASH_REFRESH_SECONDS="7")
    assert good.returncode == 0, good.stderr
    assert good.stdout.split() == ["True", "7"]


def test_it_refuses_to_start_with_the_built_in_secret_key_unless_debugging():
    for key in (None, "", BUILT_IN_KEY):
        refused = load_settings(MESHDASH_SECRET_KEY=key, MESHDASH_SECRET_KEY_FILE=None)
        assert refused.returncode != 0, key
        assert "ImproperlyConfigured" in refused.stderr and "MESHDASH_SECRET_KEY" in refused.stderr

    laptop = load_settings(
        MESHDASH_SECRET_KEY=None, MESHDASH_SECRET_KEY_FILE=None, MESHDASH_DEBUG="true"
    )
    assert laptop.returncode == 0, laptop.stderr
    production = load_settings(MESHDASH_SECRET_KEY="a-long-random-value", MESHDASH_DEBUG="false")
    assert production.returncode == 0, production.stderr
