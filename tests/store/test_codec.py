"""codec.dumps and loads by orjson read and write what the json module did: the same text but
for the notation of some floats, the same values always, and old text json wrote (NaN) still
read."""

import json
import math
import random

from meshdash.mesh.model import Workload
from meshdash.store import codec

previous_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def values(seed: int) -> list:
    rng = random.Random(seed)
    texts = ["", "web", "é ü 中", 'quote " and \\', "line\nbreak\ttab\x01\x7f", "\u2028"]

    def value(depth: int):
        kind = rng.randrange(8 if depth < 3 else 5)
        if kind == 0:
            return rng.choice(texts)
        if kind == 1:
            return rng.randint(-(2**40), 2**40)
        if kind == 2:
            return rng.random() * 10 ** rng.randint(-9, 20)
        if kind == 3:
            return rng.choice([None, True, False, 0, 0.0, 1.0, 100.0])
        if kind == 4:
            return rng.choice([0.25, 12.5, 1234.5678, 0.999])
        if kind == 5:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        if kind == 6:
            return tuple(value(depth + 1) for _ in range(rng.randint(0, 4)))
        return {rng.choice(texts) + str(i): value(depth + 1) for i in range(rng.randint(0, 4))}

    return [value(0) for _ in range(300)]


def plain_floats(value) -> bool:
    """No float that json writes in exponent notation (below 1e-4 or from 1e16)."""
    if isinstance(value, float):
        return value == 0 or 1e-4 <= abs(value) < 1e16
    if isinstance(value, list | tuple):
        return all(plain_floats(v) for v in value)
    if isinstance(value, dict):
        return all(plain_floats(v) for v in value.values())
    return True


def test_dumps_writes_the_values_json_wrote():
    same_text = 0
    for seed in range(5):
        for value in values(seed):
            text = codec.dumps(value)
            assert isinstance(text, str)
            assert json.loads(text) == json.loads(previous_dumps(value))
            if plain_floats(value):
                assert text == previous_dumps(value)
                same_text += 1
    assert same_text > 500


def test_dumps_falls_back_to_json_for_what_orjson_refuses():
    for value in ({1: "a", 2: [3]}, [2**70], {"big": -(2**65)}):
        assert codec.dumps(value) == previous_dumps(value)


def test_loads_reads_what_json_wrote_and_none():
    for seed in range(3):
        for value in values(seed):
            assert codec.loads(previous_dumps(value)) == json.loads(previous_dumps(value))
            assert codec.loads(previous_dumps(value).encode()) == json.loads(previous_dumps(value))
    assert codec.loads(None) is None
    old = codec.loads(previous_dumps([float("nan"), float("inf"), -float("inf"), 2**70]))
    assert math.isnan(old[0]) and old[1:] == [math.inf, -math.inf, 2**70]


def test_rows_round_trip():
    workload = Workload(namespace="shop", kind="Deployment", name="wéb", rps=1e-7, success_rate=1)
    assert codec.row_json(workload) == previous_dumps(codec.to_row(workload)).replace("e-07", "e-7")
    assert codec.workload_from_json(codec.row_json(workload)) == workload
    assert codec.decode_rows(Workload, codec.encode_rows([workload, workload])) == [workload] * 2
