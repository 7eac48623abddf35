"""How history points are kept as bytes: small fixed-size records while a chunk is open, one
compressed column-major blob once it is closed. No Django here.

Each field takes the fewest bytes its values need: success rates as 16-bit fractions (steps of
1/65534, finer than the 99.99 % anyone reads), latency quantiles as half floats (Linkerd's
largest finite latency bucket is 50 s, within the 65,504 a half float holds, at 0.05 %
precision), as are TCP connections and proxy CPU, request rates as 32-bit floats, memory in
whole KiB, expiry times and counts as unsigned integers. A missing value is NaN or the type's
largest value.

An open chunk is the concatenation of records ``slot, values...`` (the database appends each
new one without reading the row); of the same slot written twice, the later record's values
win where it has them (a backfill writes a point's fields from several queries). Closing a chunk
(``pack``) rewrites it as one zlib stream of a presence byte per slot and then each field's
column with its bytes shuffled (all first bytes, then all second bytes...), which puts the
alike exponent bytes of neighbouring points together: constant columns (a certificate's expiry,
a restart count) then cost next to nothing. Records appended after packing (a late roll-up)
follow the stream and are read as an open chunk's.
"""

import math
import struct
import zlib
from collections.abc import Sequence

from meshdash.mesh.history import MESH, POD, WORKLOAD, Scope

_RATIO_SCALE = 65534
_U16_NONE = 0xFFFF
_U32_NONE = 0xFFFFFFFF
_HALF_MAX = 65504.0

# Field kind -> struct code.
_CODES = {"ratio": "H", "f32": "f", "f16": "e", "u32": "I", "u16": "H", "kib": "I"}

KINDS: dict[str, tuple[str, ...]] = {
    WORKLOAD.code: ("ratio", "f32", "f16", "f16", "f16", "f16"),
    POD.code: ("kib", "f16", "u32", "u16"),
    MESH.code: ("u32", "u32", "u32", "f32", "ratio", "u32", "u32"),
}


def _encode(kind: str, value: float | None):
    if kind == "ratio":
        if value is None or math.isnan(value):
            return _U16_NONE
        return round(min(1.0, max(0.0, value)) * _RATIO_SCALE)
    if kind in ("f32", "f16"):
        if value is None:
            return math.nan
        return min(value, _HALF_MAX) if kind == "f16" else value
    limit = _U16_NONE if kind == "u16" else _U32_NONE
    if value is None or math.isnan(value):
        return limit
    if kind == "kib":
        value = value / 1024
    return min(limit - 1, max(0, round(value)))


def _decoder(kind: str):
    if kind == "ratio":
        return lambda raw: None if raw == _U16_NONE else raw / _RATIO_SCALE
    if kind in ("f32", "f16"):
        return lambda raw: None if raw != raw else raw
    if kind == "kib":
        return lambda raw: None if raw == _U32_NONE else raw * 1024
    limit = _U16_NONE if kind == "u16" else _U32_NONE
    return lambda raw: None if raw == limit else raw


class Layout:
    """The byte layout of one scope's points."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.kinds = KINDS[scope.code]
        self.codes = "".join(_CODES[k] for k in self.kinds)
        self.struct = struct.Struct("<H" + self.codes)
        self.sizes = [struct.calcsize("<" + c) for c in self.codes]
        self.decoders = [_decoder(k) for k in self.kinds]

    def records(self, points: Sequence[tuple[int, Sequence]]) -> bytes:
        """``(slot, values)`` pairs as open-chunk records."""
        pack, kinds = self.struct.pack, self.kinds
        return b"".join(
            pack(slot, *(_encode(k, v) for k, v in zip(kinds, values, strict=True)))
            for slot, values in points
        )

    def record(self, slot: int, values: Sequence) -> bytes:
        return self.records([(slot, values)])

    def pack(self, slots: int, points: dict[int, tuple]) -> bytes:
        """A closed chunk's points (slot -> values) as one compressed blob."""
        presence = bytes(1 if slot in points else 0 for slot in range(slots))
        empty = (None,) * len(self.kinds)
        parts = [presence]
        for i, (kind, code, size) in enumerate(
            zip(self.kinds, self.codes, self.sizes, strict=True)
        ):
            column = struct.pack(
                f"<{slots}{code}",
                *(_encode(kind, points.get(slot, empty)[i]) for slot in range(slots)),
            )
            parts.append(b"".join(column[b::size] for b in range(size)))
        return zlib.compress(b"".join(parts), 6)

    def decode(self, data: bytes, packed: bool, slots: int) -> dict[int, tuple]:
        """slot -> values of a chunk, packed or open (records after a packed stream included)."""
        points: dict[int, tuple] = {}
        data = bytes(data)
        if packed:
            stream = zlib.decompressobj()
            dense = stream.decompress(data)
            data = stream.unused_data
            points.update(self._unpack(dense, slots))
        decoders = self.decoders
        usable = len(data) - len(data) % self.struct.size
        for slot, *raw in self.struct.iter_unpack(data[:usable]):
            values = tuple(d(r) for d, r in zip(decoders, raw, strict=True))
            before = points.get(slot)
            if before is not None:
                values = tuple(o if n is None else n for o, n in zip(before, values, strict=True))
            points[slot] = values
        return points

    def _unpack(self, dense: bytes, slots: int) -> dict[int, tuple]:
        presence, offset = dense[:slots], slots
        columns = []
        for code, size, decode in zip(self.codes, self.sizes, self.decoders, strict=True):
            shuffled = dense[offset : offset + slots * size]
            offset += slots * size
            raw = bytearray(slots * size)
            for b in range(size):
                raw[b::size] = shuffled[b * slots : (b + 1) * slots]
            values = struct.unpack(f"<{slots}{code}", raw)
            columns.append([decode(v) for v in values])
        rows = zip(*columns, strict=True)
        return {slot: row for slot, row in enumerate(rows) if presence[slot]}


LAYOUTS = {code: Layout(scope) for code, scope in ((s.code, s) for s in (WORKLOAD, POD, MESH))}
