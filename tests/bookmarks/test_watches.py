import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError

from meshdash.bookmarks.models import Watch
from meshdash.bookmarks.watches import watched_workloads

pytestmark = pytest.mark.django_db


def test_it_lists_workloads_watched_by_me_and_my_teams(alice, bob, carol, payments):
    Watch.objects.create(user=alice, namespace="shop", kind="deployment", name="cart")
    Watch.objects.create(team=payments, namespace="payments", kind="deployment", name="api")
    Watch.objects.create(user=bob, namespace="payments", kind="deployment", name="api")
    Watch.objects.create(user=carol, namespace="search", kind="statefulset", name="index")
    assert watched_workloads(alice) == [
        ("payments", "deployment", "api"),
        ("shop", "deployment", "cart"),
    ]
    assert watched_workloads(bob) == [("payments", "deployment", "api")]
    assert watched_workloads(carol) == [("search", "statefulset", "index")]
    assert watched_workloads(AnonymousUser()) == []


def test_it_forgets_a_deleted_teams_watches(alice, payments):
    Watch.objects.create(team=payments, namespace="payments", kind="deployment", name="api")
    payments.delete()
    assert watched_workloads(alice) == []


def test_it_requires_exactly_one_of_user_and_team(alice, payments):
    with pytest.raises(IntegrityError):
        Watch.objects.create(user=alice, team=payments, namespace="a", kind="deployment", name="b")
