"""scripts/await-migrations.sh, the web container's entry: it serves only once the migration
Job has applied every migration, so that an upgrade migrates before the new pods serve."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.deploy.manifests import ROOT


def test_it_waits_for_the_migrations_then_runs_the_command(tmp_path: Path):
    served = tmp_path / "served"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # `python` in the script is the one of this environment, as in the image.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    command = ["sh", "scripts/await-migrations.sh", "sh", "-c", f"echo serving > {served}"]
    waiting = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        output = ""
        while "waiting for the migration Job" not in output:
            assert time.monotonic() < deadline, output
            output += waiting.stdout.readline()
        assert not served.exists(), "it ran the command with migrations left to apply"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert waiting.wait(timeout=60) == 0
        assert served.read_text() == "serving\n"
    finally:
        waiting.kill()
        waiting.wait()
