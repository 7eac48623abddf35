#!/bin/sh
# deploy/: the web container's entry. Waits until the migration Job has applied every migration
# this image holds (`migrate --check` finds none left), then runs the given command, so that an
# upgrade migrates before the new web pods serve.
set -eu
until python manage.py migrate --check >/dev/null 2>&1; do
    echo "waiting for the migration Job to apply this version's migrations"
    sleep 5
done
exec "$@"
