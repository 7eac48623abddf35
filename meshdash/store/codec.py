"""Compact encodings for what the store keeps in Redis: JSON only, never pickle or eval.

Rows are JSON arrays holding a dataclass's fields in declaration order, so a field name costs
nothing per row. Decoding is tolerant of rows written by a build with fewer or more trailing
fields (new fields are added with defaults at the end), so a web process and a worker on
neighbouring versions still understand each other.
"""

import dataclasses
import functools
import json
import math
import operator

from meshdash.mesh.model import Workload

# One encoder for every value: json.dumps with options builds a new one per call, which a write
# of 5,000 workloads (tens of thousands of rows) notices.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def loads(raw: bytes | str | None):
    return None if raw is None else json.loads(raw)


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
    return [from_row(cls, row) for row in json.loads(raw)]


def workload_from_json(raw: bytes | str) -> Workload:
    return from_row(Workload, json.loads(raw))


# History points are text: "minute:success_rate:rps:p99", an empty field for None, six
# significant digits. About 30 bytes a point, 60 points a workload.
HISTORY_DIGITS = ".6g"


def history_number(value: float | None) -> str:
    if value is None:
        return ""
    return format(value, HISTORY_DIGITS)


def encode_history_point(minute: int, success_rate, rps, p99) -> str:
    return f"{minute}:{history_number(success_rate)}:{history_number(rps)}:{history_number(p99)}"


def parse_history_number(text: str) -> float | None:
    if text == "":
        return None
    value = float(text)
    return None if math.isnan(value) else value
