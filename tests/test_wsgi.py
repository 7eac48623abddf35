"""The WSGI entry point gunicorn loads leaves what it loaded out of the garbage collector's
full collections (gc.freeze), in a process of its own as a worker's."""

import os
import subprocess
import sys

from django.conf import settings


def test_loading_the_wsgi_app_freezes_what_it_loaded():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    probe = (
        "import gc; before = gc.get_freeze_count(); import meshdash.wsgi; "
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=settings.BASE_DIR, capture_output=True,
        text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    before, frozen, tracked = map(int, out.split())
    assert before == 0
    assert frozen > 10_000
    assert tracked < frozen / 5  # what a full collection still walks
