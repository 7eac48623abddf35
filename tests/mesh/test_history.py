"""The history's arithmetic and byte layout, without a database."""

import math
import random

import pytest

from meshdash.history.packing import LAYOUTS
from meshdash.mesh import history
from meshdash.mesh.history import MESH, POD, WORKLOAD, aggregate, parse_tiers, roll_up
from meshdash.mesh.metrics import histogram_quantile


def test_the_default_tiers_are_a_minute_five_minutes_and_an_hour():
    assert [(t.step, t.keep) for t in history.DEFAULT_TIERS] == [
        (60, 6 * 3600),
        (300, 48 * 3600),
        (3600, 30 * 86400),
    ]
    assert [t.slots for t in history.DEFAULT_TIERS] == [60, 72, 24]


@pytest.mark.parametrize("text", ["5m:1h,7m:2h", "1m:6h,5m:1h", "1m", "x:6h", "0m:1h", ""])
def test_it_refuses_tiers_that_cannot_roll_up(text):
    with pytest.raises(ValueError):
        parse_tiers(text)


def test_ranges_end_now():
    assert history.range_bounds("6h", now=100_000) == (100_000 - 21_600, 100_000)
    with pytest.raises(KeyError):
        history.range_bounds("2y")


def test_tier_index_is_the_finest_that_keeps_the_start():
    tiers = history.DEFAULT_TIERS
    now = 1_000_000
    assert history.tier_index(tiers, now - 3600, now) == 0
    assert history.tier_index(tiers, now - 24 * 3600, now) == 1
    assert history.tier_index(tiers, now - 7 * 86400, now) == 2
    assert history.tier_index(tiers, now - 90 * 86400, now) == 2


def test_success_rates_weigh_by_requests_and_rates_average():
    points = [(0, 1.0, 90.0, 1.0, 2.0, 3.0, 5.0), (60, 0.5, 10.0, 4.0, 8.0, 900.0, 7.0)]
    t, success, rps, p50, p95, p99, tcp = aggregate(WORKLOAD, 0, points)
    assert success == pytest.approx(0.95)
    assert rps == pytest.approx(50.0)
    assert (p50, p95, p99) == (4.0, 8.0, 900.0)
    assert tcp == 6.0


def test_missing_values_are_left_out_not_counted_as_zero():
    points = [(0, None, 0.0, None, None, None, None), (60, 0.9, 10.0, 1.0, 1.0, 1.0, None)]
    _, success, rps, *_, tcp = aggregate(WORKLOAD, 0, points)
    assert success == pytest.approx(0.9)
    assert rps == 5.0
    assert tcp is None
    assert aggregate(WORKLOAD, 0, []) is None


def test_the_largest_quantile_bounds_the_true_one_from_above():
    rng = random.Random(3)
    bounds = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, math.inf]
    for _ in range(200):
        parts = [[rng.randint(0, 50) for _ in bounds] for _ in range(5)]

        def cumulative(counts):
            return [(b, sum(counts[: i + 1])) for i, b in enumerate(bounds)]

        merged = [sum(p[i] for p in parts) for i in range(len(bounds))]
        true = histogram_quantile(0.99, cumulative(merged))
        each = [histogram_quantile(0.99, cumulative(p)) for p in parts]
        each = [q for q in each if q is not None]
        if true is not None and each:
            assert true <= max(each) + 1e-9


def test_pods_keep_their_last_state_and_average_memory():
    points = [(0, 100.0, 0.1, 5000.0, 0), (60, 300.0, 0.3, 9000.0, 2)]
    assert aggregate(POD, 0, points) == (0, 200.0, pytest.approx(0.2), 9000.0, 2)


def test_roll_up_buckets_by_step():
    points = [(t, 1.0, float(t), None, None, None, None) for t in range(0, 600, 60)]
    rolled = roll_up(WORKLOAD, 300, reversed(points))
    assert [p[0] for p in rolled] == [0, 300]
    assert rolled[0][2] == pytest.approx(120.0)


def test_growth_per_week_is_the_slope():
    points = [(h * 3600, 1000.0 + 10 * h) for h in range(48)]
    assert history.growth_per_week(points) == pytest.approx(10 * 168)
    assert history.growth_per_week([(0, 1.0)]) is None
    assert history.growth_per_week([(0, 1.0), (0, 2.0)]) is None


def test_a_workloads_growth_is_its_pods_median_and_rollouts_do_not_count_as_falls():
    steady = [(h * 3600, 50e6 + 1e4 * h) for h in range(30)]
    replaced = [(h * 3600, 40e6 + 1e4 * (h - 30)) for h in range(30, 60)]
    leaking = [(h * 3600, 50e6 + 1e6 * h) for h in range(30)]
    short = [(0, 1.0), (3600, 1e9)]
    got = history.workload_growth_per_week([steady, replaced, leaking, short])
    assert got == pytest.approx(1e4 * 168)
    assert history.workload_growth_per_week([short]) is None


def test_changes_list_each_new_value_once():
    points = [(0, 100.0), (60, 100.0), (120, None), (180, 200.0), (240, 200.2)]
    assert history.changes(points) == [(0, 100.0), (180, 200.0)]


# --- The byte layout.


def test_records_round_trip_within_their_precision():
    layout = LAYOUTS[WORKLOAD.code]
    values = (0.99993, 1234.5, 3.25, 480.0, 49_999.0, 17.0)
    got = layout.decode(layout.record(7, values), False, 60)[7]
    assert got[0] == pytest.approx(0.99993, abs=1 / 65534)
    assert got[1] == pytest.approx(1234.5)
    assert got[2:5] == pytest.approx((3.25, 480.0, 49_999.0), rel=1e-3)
    assert got[5] == 17.0
    empty = layout.decode(layout.record(3, (None,) * 6), False, 60)[3]
    assert empty == (None,) * 6


def test_a_later_record_fills_what_it_knows():
    layout = LAYOUTS[POD.code]
    data = layout.record(1, (1024e3, None, 5000, 1)) + layout.record(1, (None, 0.5, None, 2))
    assert layout.decode(data, False, 60)[1] == (1024e3, 0.5, 5000, 2)


def test_packed_chunks_decode_as_written_and_take_records_after_them():
    layout = LAYOUTS[MESH.code]
    points = {slot: (slot, 2, 3, 1.5 * slot, 0.5, 0, None) for slot in range(0, 24, 3)}
    blob = layout.pack(24, points)
    decoded = layout.decode(blob, True, 24)
    assert decoded.keys() == points.keys()
    assert decoded[9] == (9, 2, 3, 13.5, 0.5, 0, None)
    late = layout.decode(blob + layout.record(23, (1, 1, 1, 1.0, 1.0, 1, 1)), True, 24)
    assert late[23] == (1, 1, 1, 1.0, 1.0, 1, 1)


def test_packing_makes_constant_columns_nearly_free():
    layout = LAYOUTS[POD.code]
    rng = random.Random(1)
    points = {s: (60e6 + rng.randint(0, 1 << 16), 0.01, 1_900_000_000, 0) for s in range(60)}
    raw = layout.records(list(points.items()))
    assert len(layout.pack(60, points)) < len(raw) / 2
