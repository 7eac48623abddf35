from celery import shared_task

from meshdash.bookmarks.freeze import delete_expired_frozen_views as _delete_expired


@shared_task
def delete_expired_frozen_views() -> int:
    return _delete_expired()
