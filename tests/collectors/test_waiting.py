"""Waiting time counted once however many requests overlap.

The clock is driven by hand: with real sleeps, a loaded machine stretches each request and
the gaps between them, and the sums come out past any bound.
"""

import threading

import pytest

from meshdash.collectors import waiting
from meshdash.collectors.waiting import WaitClock


class HandClock:
    """Stands in for the ``time`` module in meshdash.collectors.waiting."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def hand(monkeypatch):
    clock = HandClock()
    monkeypatch.setattr(waiting, "time", clock)
    return clock


def _hold(clock: WaitClock, hand: HandClock, seconds: float) -> None:
    with clock.request():
        hand.sleep(seconds)


def test_it_counts_overlapping_requests_once(hand):
    clock = WaitClock()
    all_in_flight = threading.Barrier(5)
    done = threading.Event()

    def hold():
        with clock.request():
            all_in_flight.wait(timeout=30)
            done.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    all_in_flight.wait(timeout=30)  # four requests in flight at once
    hand.sleep(0.375)
    done.set()
    for thread in threads:
        thread.join()
    assert clock.count == 4
    assert 0.3 <= clock.seconds < 0.6  # not 1.5
    assert clock.seconds == 0.375


def test_it_adds_requests_one_after_another_and_leaves_out_the_gaps(hand):
    clock = WaitClock()
    _hold(clock, hand, 0.125)
    hand.sleep(0.25)
    _hold(clock, hand, 0.125)
    assert clock.count == 2
    assert 0.2 <= clock.seconds < 0.3
    assert clock.seconds == 0.25


def test_it_includes_a_request_still_in_flight(hand):
    clock = WaitClock()
    with clock.request():
        hand.sleep(0.125)
        assert clock.seconds >= 0.1
        assert clock.seconds == 0.125
        assert clock.count == 0
    assert clock.count == 1
