""".env: what the environment leaves unset comes from the file; the environment wins."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from meshdash.lib.env import load_env_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def environ(monkeypatch):
    """os.environ as it is, restored after the test (the loader writes into it)."""
    for name in ("MESHDASH_TEST_A", "MESHDASH_TEST_B", "MESHDASH_TEST_C", "MESHDASH_TEST_D"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_it_sets_what_the_environment_leaves_unset(environ, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n\nMESHDASH_TEST_A=from the file\n"
        "export MESHDASH_TEST_B = 'quoted # not a comment'\n"
        'MESHDASH_TEST_C="double"\nMESHDASH_TEST_D=\n'
    )
    environ.setenv("MESHDASH_TEST_C", "from the environment")
    loaded = load_env_file(dotenv)
    assert loaded == {
        "MESHDASH_TEST_A": "from the file",
        "MESHDASH_TEST_B": "quoted # not a comment",
        "MESHDASH_TEST_D": "",
    }
    assert os.environ["MESHDASH_TEST_A"] == "from the file"
    assert os.environ["MESHDASH_TEST_C"] == "from the environment"


def test_it_names_a_line_it_cannot_read(environ, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("MESHDASH_TEST_A=1\nthis is no assignment\n")
    with pytest.raises(ImproperlyConfigured, match=r"line 2: not NAME=value"):
        load_env_file(dotenv)
    assert "MESHDASH_TEST_A" not in os.environ  # nothing set from a file it refused


def test_it_reads_nothing_from_a_missing_file_unless_required(environ, tmp_path):
    assert load_env_file(tmp_path / "none") == {}
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        load_env_file(tmp_path / "none", required=True)


def settings_seen(tmp_path, environment: dict[str, str]) -> dict:
    """DEBUG and ALLOWED_HOSTS of meshdash.settings loaded in a fresh process."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DEBUG, settings.ALLOWED_HOSTS]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHDASH_")}
    env |= {"DJANGO_SETTINGS_MODULE": "meshdash.settings", "MESHDASH_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env | environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_it_gives_settings_the_file_s_values_under_the_environment_s(tmp_path):
    dotenv = tmp_path / "dev.env"
    dotenv.write_text("MESHDASH_DEBUG=true\nMESHDASH_ALLOWED_HOSTS=from.file\n")
    environment = {"MESHDASH_DOTENV": str(dotenv), "MESHDASH_ALLOWED_HOSTS": "from.environment"}
    assert settings_seen(tmp_path, environment) == [True, ["from.environment"]]


def test_it_keeps_the_tests_away_from_a_developer_s_env_file(tmp_path):
    # tests/settings.py empties it for this process and the servers it starts: no file is read.
    assert os.environ["MESHDASH_DOTENV"] == ""
    environment = {"MESHDASH_DOTENV": "", "MESHDASH_SECRET_KEY": "x" * 50}
    debug, _ = settings_seen(tmp_path, environment)
    assert debug is False
