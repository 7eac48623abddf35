"""Celery beat's scheduler with a heartbeat (settings: CELERY_BEAT_SCHEDULER)."""

from celery.beat import PersistentScheduler

from meshdash.observability import heartbeat


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler, refreshing beat's heartbeat on each tick of its loop: a beat
    stuck sending a task, or in anything else, stops ticking. Ticks come at least every
    CELERY_BEAT_MAX_LOOP_INTERVAL seconds, however far the next entry is."""

    def tick(self, *args, **kwargs):
        heartbeat.write(heartbeat.BEAT)
        return super().tick(*args, **kwargs)
