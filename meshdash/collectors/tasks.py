"""Celery tasks: one line each, over the plain functions in ``meshdash.collectors.run``."""

from celery import shared_task

from meshdash.collectors.collect import CollectionFailed
from meshdash.collectors.run import collect_and_store
from meshdash.store import StoreUnavailable


# A failed collection has already marked the window stale; the retry, backing off, is what
# brings it back. A run that finds the window's lock held returns "skipped" and is no failure.
@shared_task(
    name="meshdash.collectors.tasks.collect_window",
    autoretry_for=(CollectionFailed, StoreUnavailable),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def collect_window(window: str) -> str:
    return collect_and_store(window, raise_on_failure=True).status
