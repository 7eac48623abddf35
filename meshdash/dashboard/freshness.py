"""How old the snapshot a page or an API answer shows is, and whether to call it stale."""

from django.conf import settings

from meshdash.mesh.freshness import Staleness, judge_staleness


def snapshot_staleness(meta, now: float) -> Staleness:
    """The window's rule (``meshdash.mesh.freshness``) applied with the configured refresh
    interval and multiple; a failure recorded before the snapshot was taken is not its own."""
    failed = meta.failed_at is not None and meta.failed_at >= meta.taken_at
    return judge_staleness(
        meta.age_seconds(now),
        settings.MESHDASH_WINDOWS[meta.window],
        settings.MESHDASH_STALE_AFTER_INTERVALS,
        meta.failure_reason if failed else None,
    )
