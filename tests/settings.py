"""The settings of a test run: meshdash's own, with a secret key of the run's (the built-in key
is refused when DEBUG is off) and no .env file. Put in the environment, so the servers the tests
start (workers, gunicorn, subprocesses loading meshdash.settings) have them too."""

import os
import secrets

# A developer's .env must not change what the tests see, nor what the servers they start see.
os.environ["MESHDASH_DOTENV"] = ""
if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
    os.environ["MESHDASH_SECRET_KEY"] = "tests-" + secrets.token_urlsafe(32)

from meshdash.settings import *  # noqa: E402, F403

# This process's own cache: the Redis a test uses is only known once its fixture started it,
# and another test run may share a developer's Redis (user ids repeat from run to run).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Static files through the finders under their plain names, even where collectstatic once ran.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
