"""How long a collection waited on a source, however many of its requests overlapped, and
how long it may still wait."""

import threading
import time
from contextlib import contextmanager


class WaitClock:
    """Counts requests and the wall time during which at least one was in flight.

    Four queries running side by side for two seconds keep the collection waiting for two
    seconds, not eight: summing their durations would report more waiting than the whole
    collection took.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._in_flight = 0
        self._since = 0.0
        self._closed_seconds = 0.0
        self.count = 0

    @contextmanager
    def request(self):
        with self._lock:
            if self._in_flight == 0:
                self._since = time.monotonic()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self.count += 1
                if self._in_flight == 0:
                    self._closed_seconds += time.monotonic() - self._since

    @property
    def seconds(self) -> float:
        """Waiting time so far, the requests still in flight included."""
        with self._lock:
            running = time.monotonic() - self._since if self._in_flight else 0.0
            return self._closed_seconds + running


def seconds_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline``, a ``time.monotonic()`` value (None: no deadline), at least 0."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())
