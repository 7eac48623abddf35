"""meshdash.lib.records.as_dict equals dataclasses.asdict on every kind of record the API
answers with (generated and known snapshots), and on odd values; and it shares no container
with the record."""

import dataclasses
import time
from typing import NamedTuple

from meshdash.lib.records import as_dict
from meshdash.mesh.model import HistoryPoint
from tests.dashboard.browsing import browsing_snapshot
from tests.dashboard.known import known_snapshot
from tests.store import synthetic


def records(snapshot):
    yield snapshot
    yield snapshot.control_plane
    for kind in ("workloads", "edges", "routes", "pods", "namespaces", "services",
                 "authorizations", "events"):  # fmt: skip
        yield from getattr(snapshot, kind)


def test_it_equals_asdict_on_every_record_of_several_snapshots():
    snapshots = [
        synthetic.snapshot(60, seed=5),
        synthetic.snapshot(300, seed=2),
        known_snapshot("1m", taken_at=time.time()),
        browsing_snapshot(),
    ]
    seen = set()
    for snapshot in snapshots:
        for record in records(snapshot):
            seen.add(type(record).__name__)
            assert as_dict(record) == dataclasses.asdict(record), type(record)
    assert {"Workload", "Edge", "Pod", "Namespace", "Service", "Snapshot"} <= seen


class Pair(NamedTuple):
    a: object
    b: object


@dataclasses.dataclass
class Odd:
    nested: list
    mapping: dict
    pair: Pair
    plain: tuple
    point: HistoryPoint
    other: object = None


def test_it_copies_containers_and_keeps_odd_values_as_asdict_does():
    odd = Odd(
        nested=[{"x": [1, 2.5, None]}, HistoryPoint(60, None, 1.0, 2.0)],
        mapping={"k": {"deep": ["v"]}, 3: True},
        pair=Pair([1], {"a": "b"}),
        plain=(1, [2], "three"),
        point=HistoryPoint(120, 0.99, 3.0, None),
        other=frozenset({1, 2}),
    )
    found = as_dict(odd)
    assert found == dataclasses.asdict(odd)
    assert isinstance(found["pair"], Pair)
    found["nested"][0]["x"].append("changed")
    found["mapping"]["k"]["deep"].append("changed")
    assert odd.nested[0]["x"] == [1, 2.5, None]
    assert odd.mapping["k"]["deep"] == ["v"]


def test_json_answers_hold_the_values_djangos_would():
    import datetime
    import decimal
    import json

    from django.http import JsonResponse
    from django.utils.functional import lazy

    from meshdash.lib.records import json_response

    data = {
        "items": [as_dict(w) for w in synthetic.snapshot(20, seed=4).workloads],
        "keys": {1: "one", 2.5: "two and a half", False: "no", None: "none"},
        "when": datetime.datetime(2026, 12, 3, 8, 30, 1, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 3),
        "money": decimal.Decimal("1.10"),
        "lazy": lazy(lambda: "text", str)(),
        "text": 'é "quoted" \u2028 </script>',
        "big": 2**70,
    }
    ours = json_response(data, status=201)
    assert ours.status_code == 201 and ours["Content-Type"] == "application/json"
    assert json.loads(ours.content) == json.loads(JsonResponse(data).content)
    small = {k: v for k, v in data.items() if k != "big"}
    assert json.loads(json_response(small).content) == json.loads(JsonResponse(small).content)
    assert json.loads(json_response({"x": float("nan")}).content) == {"x": None}
