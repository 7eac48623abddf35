"""codec.decode_history reads only the points it keeps; it answers as decoding the whole ring,
sorting it and sampling it would (the reference below), for any ring the collector can write
and for torn or odd ones."""

import math

from hypothesis import given
from hypothesis import strategies as st

from meshdash.store import codec
from meshdash.store.results import SparkPoint

SLOTS = 60


def reference(raw, minutes, points=None):
    if not raw or len(raw) % codec.HISTORY_POINT.size:
        return []
    ring = sorted(codec.HISTORY_POINT.iter_unpack(raw))
    since = max(0, ring[-1][0] - minutes)
    kept = [point for point in ring if point[0] > since]
    if points and len(kept) > points:
        step = -(-len(kept) // points)
        kept = kept[len(kept) - 1 :: -step][::-1]
    return [codec._decoded(point) for point in kept]


values = st.one_of(st.none(), st.floats(min_value=0, max_value=1e6))


@st.composite
def rings(draw):
    """A ring as the collector writes it: minute m in slot m % slots, empty slots all zero."""
    slots = draw(st.sampled_from([SLOTS, SLOTS, 1, 7]))
    newest = draw(st.integers(min_value=1, max_value=2**32 - 1))
    ring = [bytes(codec.HISTORY_POINT.size)] * slots
    for age in draw(st.sets(st.integers(min_value=0, max_value=3 * slots), max_size=slots)):
        minute = newest - age
        if minute > 0:
            point = codec.encode_history_point(minute, draw(values), draw(values), draw(values))
            ring[minute % slots] = point
    return b"".join(ring)


def same(a, b) -> bool:
    """Equal, NaN-free by construction but compared as floats would be."""
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for p, q in zip(a, b, strict=True)
        for x, y in zip(p, q, strict=True)
    )


@given(rings(), st.sampled_from([60, 30, 1, 0]), st.sampled_from([None, 0, 1, 16, 60, 100]))
def test_it_keeps_what_decoding_the_whole_ring_keeps(raw, minutes, points):
    assert same(codec.decode_history(raw, minutes, points), reference(raw, minutes, points))


@given(st.binary(max_size=3 * codec.HISTORY_POINT.size + 5))
def test_odd_bytes_decode_as_the_reference_does(raw):
    assert same(codec.decode_history(raw, 60, 16), reference(raw, 60, 16))


def test_points_come_as_made():
    raw = codec.encode_history_point(29_000_000, 0.99, 12.5, None)
    [point] = codec.decode_history(raw, 60, 16, SparkPoint._make)
    assert point == SparkPoint(29_000_000 * 60, 0.99, 12.5, None)
    assert point.rps == 12.5
    assert codec.decode_history(None, 60, 16) == []
