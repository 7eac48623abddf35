import pytest

from tests.dashboard.known import write_known


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice")  # no password: hashing is slow


@pytest.fixture
def client(client, user):
    """Every dashboard page needs a signed-in user."""
    client.force_login(user)
    return client


@pytest.fixture
def known(redis_client, db):
    """The known mesh written as the current 1m snapshot, with five minutes of history (in
    Redis, and in the durable history the workload page's charts read)."""
    return write_known(redis_client, durable=True)
