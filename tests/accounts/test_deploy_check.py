import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(tmp_path, **env):
    # Only what a production deployment would have: no test-only switches from this process.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "MESHDASH_VAR_DIR": str(tmp_path),
        "MESHDASH_DEBUG": "false",
        "MESHDASH_SECRET_KEY": secrets.token_urlsafe(50),
        "MESHDASH_ALLOWED_HOSTS": "meshdash.example.com",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    result = deploy_check(tmp_path, MESHDASH_SECURE="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_fails_the_deploy_check_without_https(tmp_path):
    result = deploy_check(tmp_path, MESHDASH_SECURE="false")
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr
