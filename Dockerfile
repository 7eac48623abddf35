# One image for the web server, the Celery worker and beat, and the demo mesh (docker-compose.yml,
# deploy/).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MESHDASH_VAR_DIR=/app/var

WORKDIR /app

# Requirements first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# Everything the processes read is made at build time, so that they run on a read-only root
# filesystem (deploy/): static files collected and compressed, bytecode compiled. Collecting
# static files signs nothing: a throwaway key, not kept in the image's environment. The
# directories under /app/var are where docker-compose.yml mounts its volumes: made here and owned
# by meshdash, a new named volume starts as a copy of them, writable.
RUN MESHDASH_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && python -m compileall -q meshdash scripts \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin meshdash \
    && mkdir -p /app/var/demo /app/var/data /app/var/kube \
    && chown -R meshdash /app/var

# Numeric, so that Kubernetes can check `runAsNonRoot` against the image.
USER 10001:10001
# The web server, and its /metrics (MESHDASH_METRICS_PORT).
EXPOSE 8000 9102
CMD ["gunicorn", "meshdash.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
