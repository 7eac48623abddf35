import os
import subprocess
import sys
from pathlib import Path

from django.core import checks

from meshdash.dashboard.checks import check_windows
from meshdash.mesh.model import WINDOW_TABLE, WINDOWS
from tests.test_settings import documented_variables

ROOT = Path(__file__).resolve().parents[2]


def test_it_accepts_the_windows_meshdash_offers():
    assert check_windows(None) == []


def test_it_runs_with_the_system_checks(settings):
    settings.MESHDASH_DEFAULT_WINDOW = "5m"
    assert "dashboard.E001" in [error.id for error in checks.run_checks()]


def test_it_refuses_a_default_window_meshdash_does_not_offer(settings):
    settings.MESHDASH_DEFAULT_WINDOW = "5m"
    (error,) = check_windows(None)
    assert error.id == "dashboard.E001"
    assert "'5m'" in error.msg and "1m, 10m, 1h" in error.msg


def test_it_refuses_refresh_intervals_for_other_windows_than_those_offered(settings):
    settings.MESHDASH_WINDOWS = {"1m": 10, "1h": 300, "1d": 3600}
    assert [error.id for error in check_windows(None)] == ["dashboard.E002"]


def test_it_takes_every_windows_refresh_interval_from_its_variable():
    assert [window.name for window in WINDOW_TABLE] == list(WINDOWS)
    documented = documented_variables()
    for window in WINDOW_TABLE:
        assert window.refresh_setting in documented, window
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MESHDASH_REFRESH_SECONDS": "7",
        "MESHDASH_REFRESH_SECONDS_1H": "120",
    }
    environ.pop("MESHDASH_REFRESH_SECONDS_10M", None)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.MESHDASH_WINDOWS)",
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == str({"1m": 7, "10m": 60, "1h": 120})
