"""Waiting time counted once however many requests overlap."""

import threading
import time

from meshdash.collectors.waiting import WaitClock


def _hold(clock: WaitClock, seconds: float) -> None:
    with clock.request():
        time.sleep(seconds)


def test_it_counts_overlapping_requests_once():
    clock = WaitClock()
    threads = [threading.Thread(target=_hold, args=(clock, 0.3)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.count == 4
    assert 0.3 <= clock.seconds < 0.6  # not 1.2


def test_it_adds_requests_one_after_another_and_leaves_out_the_gaps():
    clock = WaitClock()
    _hold(clock, 0.1)
    time.sleep(0.2)
    _hold(clock, 0.1)
    assert clock.count == 2
    assert 0.2 <= clock.seconds < 0.3


def test_it_includes_a_request_still_in_flight():
    clock = WaitClock()
    with clock.request():
        time.sleep(0.1)
        assert clock.seconds >= 0.1
        assert clock.count == 0
    assert clock.count == 1
