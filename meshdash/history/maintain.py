"""Keeping the history in shape, once a minute (the ``history-maintain`` beat entry):

- ``roll_up``: each coarser tier's closed buckets from the finer tier's points
  (``meshdash.mesh.history.roll_up``), for the base window's workloads, the pods and the mesh;
  at most ``MAX_BUCKETS`` buckets a tier and run, so that catching up after a pause is spread;
- ``pack``: closed chunks rewritten compressed (``meshdash.history.packing``);
- ``expire``: chunks past their tier's retention deleted, unless a hold keeps their range;
  deploy markers past the longest retention, expired holds and series left without points.
"""

import logging
import time

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q

from meshdash.history.models import Chunk, Deploy, Hold, Series, State
from meshdash.history.packing import LAYOUTS
from meshdash.history.write import BASE_WINDOW, append, tiers
from meshdash.mesh.history import SCOPES
from meshdash.mesh.history import roll_up as roll_up_points

log = logging.getLogger(__name__)

MAX_BUCKETS = 12
PACK_BATCH = 2000
# A finest bucket is complete this long after its end: its minute's first collection wrote it.
SETTLE_SECONDS = 30


def maintain(now: float | None = None) -> dict[str, int]:
    """One round of ``roll_up``, ``pack`` and ``expire``; what each did."""
    now = time.time() if now is None else now
    done = {"rolled": roll_up(now), "packed": pack(now), "expired": expire(now)}
    log.info("history maintained: %s", done)
    return done


def _state(name: str) -> int | None:
    value = State.objects.filter(name=name).values_list("value", flat=True).first()
    return int(value) if value else None


def _set_state(name: str, value: int) -> None:
    State.objects.update_or_create(name=name, defaults={"value": str(value)})


def roll_up(now: float) -> int:
    """Roll up every coarser tier's closed buckets; the number of points made."""
    made = 0
    levels = tiers()
    complete = int(now) - SETTLE_SECONDS  # the finest tier is complete up to here
    for index in range(1, len(levels)):
        fine, coarse = levels[index - 1], levels[index]
        start = _state(f"rolled:{index}")
        if start is None:  # from the oldest finer point still kept
            oldest = Chunk.objects.filter(tier=index - 1).aggregate(first=Min("start"))["first"]
            if oldest is None:
                continue
            start = coarse.bucket(max(oldest, now - fine.keep))
        end = min(coarse.bucket(complete), start + MAX_BUCKETS * coarse.step)
        if end > start:
            made += _roll(index, fine, coarse, start, end)
            _set_state(f"rolled:{index}", end)
        complete = min(complete, end if end > start else start)
    return made


def _roll(index: int, fine, coarse, start: int, end: int) -> int:
    rows = (
        Chunk.objects.filter(tier=index - 1, start__gt=start - fine.chunk, start__lt=end)
        .filter(Q(series__window=BASE_WINDOW) | Q(series__scope="p"))
        .values_list("series_id", "series__scope", "start", "packed", "data")
        .iterator(chunk_size=1000)
    )
    by_series: dict[tuple[int, str], list[tuple]] = {}
    for series_id, scope, chunk_start, packed, data in rows:
        for slot, values in LAYOUTS[scope].decode(data, packed, fine.slots).items():
            t = chunk_start + slot * fine.step
            if start <= t < end:
                by_series.setdefault((series_id, scope), []).append((t, *values))
    points = [
        (series_id, scope, point[0], point[1:])
        for (series_id, scope), found in by_series.items()
        for point in roll_up_points(SCOPES[scope], coarse.step, found)
    ]
    if points:
        append(index, coarse, points)
    return len(points)


def pack(now: float) -> int:
    """Compress up to PACK_BATCH closed chunks; how many."""
    packed = 0
    for index, tier in enumerate(tiers()):
        # Roll-ups write a coarse bucket a little after it ends: leave its chunk open that long.
        closed_before = int(now) - tier.chunk - tier.step - 3 * 60
        rows = list(
            Chunk.objects.filter(tier=index, packed=False, start__lte=closed_before).values_list(
                "id", "series__scope", "data"
            )[: PACK_BATCH - packed]
        )
        with transaction.atomic():  # one commit for the batch, not one a chunk
            for pk, scope, data in rows:
                layout = LAYOUTS[scope]
                blob = layout.pack(tier.slots, layout.decode(data, False, tier.slots))
                # Only if nothing was appended meanwhile; otherwise the next round packs it.
                Chunk.objects.filter(pk=pk, packed=False, data=data).update(packed=True, data=blob)
        packed += len(rows)
        if packed >= PACK_BATCH:
            break
    return packed


def expire(now: float) -> int:
    """Delete what is past its retention; the number of chunks deleted."""
    now = int(now)
    Hold.objects.filter(until__lte=now).delete()
    deleted = 0
    for index, tier in enumerate(tiers()):
        held = Hold.objects.filter(
            start__lt=OuterRef("start") + tier.chunk, end__gte=OuterRef("start")
        )
        old = Chunk.objects.filter(tier=index, start__lte=now - tier.keep - tier.chunk)
        deleted += old.filter(~Exists(held)).delete()[0]
    longest = max(t.keep for t in tiers())
    kept = Hold.objects.filter(start__lte=OuterRef("at"), end__gte=OuterRef("at"))
    Deploy.objects.filter(at__lt=now - longest).filter(~Exists(kept)).delete()
    Series.objects.filter(last_seen__lt=now - 3600).filter(
        ~Exists(Chunk.objects.filter(series_id=OuterRef("pk")))
    ).delete()
    return deleted
