"""A pipeline stand-in that sends each command at once and stops a write after N of them, so a
test can look at Redis while a version is half written. Run as a script, it writes a snapshot
through such a pipeline in a child process, says "midway" and waits to be killed."""

import sys
import time


class Halt(Exception):
    pass


class HaltingPipeline:
    """Forwards commands to the client one by one; calls ``on_halt`` after ``limit`` of them."""

    def __init__(self, client, limit: int, on_halt):
        self.client = client
        self.limit = limit
        self.on_halt = on_halt
        self.sent = 0

    def __getattr__(self, name):
        command = getattr(self.client, name)

        def send(*args, **kwargs):
            if self.sent == self.limit:
                self.on_halt()
            self.sent += 1
            command(*args, **kwargs)
            return self

        return send

    def execute(self):
        return []


def halt_writes(store, limit: int, on_halt) -> None:
    """Make ``store``'s writes go through a HaltingPipeline."""
    store.client.pipeline = lambda **_: HaltingPipeline(store.client, limit, on_halt)


def main(redis_url: str, prefix: str, limit: int) -> None:
    import redis

    from meshdash.store import SnapshotStore
    from tests.store import synthetic

    def wait_to_be_killed():
        print("midway", flush=True)
        time.sleep(600)  # hangs midway until the test kills it: the fault under test

    store = SnapshotStore(redis.Redis.from_url(redis_url), prefix, snapshot_ttl_seconds=60)
    halt_writes(store, limit, wait_to_be_killed)
    store.write(synthetic.snapshot(300, seed=11, taken_at=1_700_000_600.0))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
