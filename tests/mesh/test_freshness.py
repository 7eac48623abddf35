import pytest

from meshdash.mesh.freshness import FRESH, Staleness, exact_duration, judge_staleness


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0.0, FRESH),
        (29.0, FRESH),
        (30.0, FRESH),  # exactly three intervals: still fresh
        (30.5, Staleness(True, "no collection for 30 s")),
        (129.2, Staleness(True, "no collection for 2 min 9 s")),
    ],
)
def test_it_marks_a_snapshot_older_than_the_multiple_stale(age, expected):
    assert judge_staleness(age, refresh_seconds=10, stale_after_intervals=3) == expected


def test_it_scales_with_the_window_interval_and_the_multiple():
    assert judge_staleness(299, refresh_seconds=60, stale_after_intervals=5) == FRESH
    assert judge_staleness(301, refresh_seconds=60, stale_after_intervals=5).stale
    assert judge_staleness(301, refresh_seconds=60, stale_after_intervals=6) == FRESH
    assert judge_staleness(1.6, refresh_seconds=1, stale_after_intervals=1.5).stale


def test_it_marks_a_failed_collection_stale_whatever_the_age():
    assert judge_staleness(1, 10, 3, "Prometheus timed out") == Staleness(
        True, "the last collection failed: Prometheus timed out"
    )


def test_it_names_both_the_age_and_the_failure_when_both_hold():
    assert judge_staleness(75, 10, 3, "deadline exceeded") == Staleness(
        True, "no successful collection for 1 min 15 s; the last one failed: deadline exceeded"
    )


def test_an_empty_failure_reason_is_no_failure():
    assert judge_staleness(5, 10, 3, "") == FRESH


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "0 s"),
        (0, "0 s"),
        (59.9, "59 s"),
        (60, "1 min 0 s"),
        (129, "2 min 9 s"),
        (3600, "1 h 0 min 0 s"),
        (3725, "1 h 2 min 5 s"),
    ],
)
def test_it_spells_durations_to_the_second(seconds, text):
    assert exact_duration(seconds) == text
