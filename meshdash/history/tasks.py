"""Celery tasks: one line each, over the plain functions of the history."""

from celery import shared_task

from meshdash.history import backfill as backfilling
from meshdash.history.maintain import maintain as maintain_history


@shared_task(name="meshdash.history.tasks.maintain")
def maintain() -> dict:
    return {**maintain_history(), "backfill": backfilling.start_if_empty()}


@shared_task(name="meshdash.history.tasks.backfill")
def backfill() -> str:
    return backfilling.backfill().state
