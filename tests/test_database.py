"""SQLite with several web workers: two transactions that read and then write, at once, both
commit (the second waits for the first) instead of one failing with "database is locked"."""

import threading

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="SQLite's locking only",
)


@pytest.fixture
def own_database(django_db_blocker):
    """Connections of our own, to a file: not the test database."""
    with django_db_blocker.unblock():
        yield


def test_it_queues_writers_that_read_first(tmp_path, own_database):
    configured = settings.DATABASES["default"]
    # The configured options on a database file: the test database lives in memory.
    handler = ConnectionHandler(
        {"default": {"ENGINE": configured["ENGINE"], "NAME": str(tmp_path / "db.sqlite3"),
                     "OPTIONS": dict(configured.get("OPTIONS", {}))}}
    )  # fmt: skip
    setup = handler["default"]
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE bookmark (owner TEXT)")
    setup.close()

    first_has_read = threading.Event()
    second_started = threading.Event()
    errors = []

    def save(owner: str, wait_for: threading.Event | None) -> None:
        # Each thread has its own connection, as each web worker has.
        connection = handler["default"]
        try:
            connection.ensure_connection()
            connection._start_transaction_under_autocommit()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM bookmark WHERE owner = %s", [owner])
                if wait_for is None:
                    first_has_read.set()
                else:
                    wait_for.wait(5)
                cursor.execute("INSERT INTO bookmark VALUES (%s)", [owner])
            if wait_for is None:
                # The other writer meets this transaction still open: it either fails at once
                # (the bug) or queues for the lock until this one commits.
                second_started.wait(5)
                second.join(0.5)
            connection.commit()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    second = threading.Thread(target=save, args=("bob", first_has_read))
    first = threading.Thread(target=save, args=("alice", None))
    first.start()
    first_has_read.wait(5)
    second.start()
    second_started.set()
    first.join(10)
    second.join(10)

    assert errors == []
    with setup.cursor() as cursor:
        cursor.execute("SELECT owner FROM bookmark ORDER BY owner")
        assert [row[0] for row in cursor.fetchall()] == ["alice", "bob"]
    setup.close()
