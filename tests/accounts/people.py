"""The cast of the accounts and bookmarks tests: alice and bob share the payments team, carol is
a stranger in the search team."""

import pytest
from django.contrib.auth.models import Group, User

from meshdash.accounts.models import TeamProfile
from meshdash.bookmarks.models import Bookmark

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Real password hashing costs a third of a second per user; these tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def payments(db):
    team = Group.objects.create(name="payments")
    TeamProfile.objects.create(team=team, namespaces=["payments"], label_selector="team=payments")
    return team


@pytest.fixture
def search_team(db):
    return Group.objects.create(name="search")


@pytest.fixture
def alice(payments):
    user = User.objects.create_user("alice", password=PASSWORD)
    user.groups.add(payments)
    return user


@pytest.fixture
def bob(payments):
    user = User.objects.create_user("bob", password=PASSWORD)
    user.groups.add(payments)
    return user


@pytest.fixture
def carol(search_team):
    user = User.objects.create_user("carol", password=PASSWORD)
    user.groups.add(search_team)
    return user


def make_bookmark(owner, **fields):
    values = {"title": "Payments by errors", "path": "/workloads/", "query": "ns=payments"}
    return Bookmark.objects.create(owner=owner, **(values | fields))
