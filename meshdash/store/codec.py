"""Compact encodings for what the store keeps in Redis: JSON only, never pickle or eval.

Rows are JSON arrays holding a dataclass's fields in declaration order, so a field name costs
nothing per row. Decoding is tolerant of rows written by a build with fewer or more trailing
fields (new fields are added with defaults at the end), so a web process and a worker on
neighbouring versions still understand each other.
"""

import dataclasses
import functools
import json
import operator
import struct

import orjson

from meshdash.mesh.model import ControlPlane, Namespace, Workload
from meshdash.mesh.overview import Drop, Overview, Totals

# What orjson refuses (keys that are not strings, integers past 64 bits, lone surrogates) is
# written as before, by one encoder made once: json.dumps with options builds one per call.
_json_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value) -> str:
    """Compact JSON text, UTF-8 unescaped. orjson writes the same text as the json module but
    for the notation of floats below 1e-4 or from 1e16 (``1e-7``, ``1e16``: the same numbers)
    and NaN or infinities (null; the model keeps none: every value read is checked finite), in
    a tenth of the time."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _json_dumps(value)


def loads(raw: bytes | str | None):
    """The value of JSON text; None for None. Text orjson refuses (NaN or Infinity, which json
    wrote) is read by json. An integer past 64 bits comes back a float (the model has none)."""
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


@functools.cache
def _getter(cls):
    return operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))


@functools.cache
def _field_count(cls) -> int:
    return len(dataclasses.fields(cls))


def to_row(obj) -> list:
    return list(_getter(type(obj))(obj))


def row_json(obj) -> str:
    """``dumps(to_row(obj))`` without the list in between (JSON has one array for both)."""
    return dumps(_getter(type(obj))(obj))


def from_row(cls, row: list):
    return cls(*row[: _field_count(cls)])


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


def from_dict(cls, data: dict):
    """A dataclass from a dict, ignoring keys this build does not know."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def encode_rows(objs) -> str:
    return dumps([to_row(o) for o in objs])


def decode_rows(cls, raw: bytes | str | None) -> list:
    if not raw:
        return []
    return [from_row(cls, row) for row in loads(raw)]


def workload_from_json(raw: bytes | str) -> Workload:
    return from_row(Workload, loads(raw))


def _as_dicts(cls) -> tuple:
    return (
        lambda objs: [to_dict(o) for o in objs],
        lambda items: [from_dict(cls, item) for item in items],
    )


def _drop_rows(drops: list[Drop]) -> list:
    return [[to_row(d.workload), *to_row(d)[1:]] for d in drops]


def _drops(rows: list) -> list[Drop]:
    return [Drop(from_row(Workload, row[0]), *row[1 : _field_count(Drop)]) for row in rows]


def _plain(value):
    return value


# How each field of the overview is kept in its JSON blob, plain JSON unless named here:
# drops as rows led by their workload's row. The control plane is not in the blob: a version
# keeps it under a key of its own.
_OVERVIEW_FIELDS = {
    "totals": (to_dict, functools.partial(from_dict, Totals)),
    "drops": (_drop_rows, _drops),
    "namespaces": _as_dicts(Namespace),
}
_PLAIN = (_plain, _plain)
_OVERVIEW_BLOB = tuple(f.name for f in dataclasses.fields(Overview) if f.name != "control_plane")


def overview_json(overview: Overview) -> str:
    return dumps(
        {
            name: _OVERVIEW_FIELDS.get(name, _PLAIN)[0](getattr(overview, name))
            for name in _OVERVIEW_BLOB
        }
    )


def overview_from_json(raw: bytes | str | None, control_plane: ControlPlane) -> Overview | None:
    """The overview kept in ``raw``, with the version's ``control_plane``: fields this build
    does not know are ignored, missing ones get their defaults."""
    data = loads(raw)
    if data is None:
        return None
    fields = {
        name: _OVERVIEW_FIELDS.get(name, _PLAIN)[1](data[name])
        for name in _OVERVIEW_BLOB
        if name in data
    }
    return Overview(control_plane=control_plane, **fields)


# History points are fixed-size binary records: the minute (unix seconds // 60, unsigned
# 32 bits) and the success rate, RPS and p99 as doubles, NaN for None; 28 bytes a point. A
# workload's history is a ring of these, the point of minute m in slot m % 60 (see
# scripts.HISTORY): Redis writes a point in place, with no Lua reading the whole history.
HISTORY_POINT = struct.Struct("<Iddd")
_NAN = float("nan")


def encode_history_point(minute: int, success_rate, rps, p99) -> bytes:
    return HISTORY_POINT.pack(
        minute,
        _NAN if success_rate is None else success_rate,
        _NAN if rps is None else rps,
        _NAN if p99 is None else p99,
    )


def decode_history_point(raw: bytes) -> tuple[int, float | None, float | None, float | None]:
    """(t, success_rate, rps, p99), ``t`` in unix seconds."""
    return _decoded(HISTORY_POINT.unpack(raw))


def _decoded(point: tuple) -> tuple[int, float | None, float | None, float | None]:
    minute, success_rate, rps, p99 = point
    # NaN stands for None: it is the one value unequal to itself.
    return (
        minute * 60,
        None if success_rate != success_rate else success_rate,
        None if rps != rps else rps,
        None if p99 != p99 else p99,
    )


# The minutes alone of a ring of n slots, by n: one unpack call reads them all.
_RING_MINUTES: dict[int, struct.Struct] = {}


def _ring_minutes(slots: int) -> struct.Struct:
    found = _RING_MINUTES.get(slots)
    if found is None:
        found = struct.Struct("<" + f"I{HISTORY_POINT.size - 4}x" * slots)
        if len(_RING_MINUTES) < 64:  # rings have one size; odd ones are not kept
            _RING_MINUTES[slots] = found
    return found


def decode_history(raw: bytes | None, minutes: int, points: int | None = None, make=tuple) -> list:
    """A ring's points of the ``minutes`` minutes up to its newest one, oldest first, as
    (t, success_rate, rps, p99) passed to ``make`` (a tuple's class, or a NamedTuple's
    ``_make``); empty slots (all zero) and older points left out.

    With ``points``, at most that many: the newest and every ``ceil(n / points)``-th before
    it. Only the points kept are decoded: the list pages draw 16 points from each 60-slot
    ring, and decoding every slot to sort them was most of a page's cost of its histories.
    """
    size = HISTORY_POINT.size
    if not raw or len(raw) % size:
        return []
    stamps = _ring_minutes(len(raw) // size).unpack(raw)
    # Each minute has its own slot, so the kept slots' minutes are distinct; empty slots
    # (minute 0) are never kept.
    since = max(0, max(stamps) - minutes)
    order = sorted(
        [slot for slot, minute in enumerate(stamps) if minute > since], key=stamps.__getitem__
    )
    if points and len(order) > points:
        step = -(-len(order) // points)
        order = order[len(order) - 1 :: -step][::-1]
    unpack = HISTORY_POINT.unpack_from
    return [make(_decoded(unpack(raw, slot * size))) for slot in order]


# A filtered view's order as the result cache keeps it: "v" (so that an empty order still
# exists), then each workload number as 4 bytes, little-endian (scripts.PAGE packs it).
ORDER_MARK = b"v"
ORDER_NUMBER = struct.Struct("<I")


def pack_numbers(numbers: list[int]) -> bytes:
    """Item numbers in order, 4 bytes each (``scripts.PACKED_PAGE`` reads them)."""
    return struct.pack(f"<{len(numbers)}I", *numbers)


def unpack_numbers(raw: bytes) -> list[int]:
    """Workload numbers from a slice of a packed order (without its mark)."""
    return [number for (number,) in ORDER_NUMBER.iter_unpack(raw[: len(raw) // 4 * 4])]
