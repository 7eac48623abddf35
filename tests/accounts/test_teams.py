from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.management import CommandError, call_command

from meshdash.accounts.models import TeamProfile
from meshdash.accounts.teams import administered_team_ids, team_scope

pytestmark = pytest.mark.django_db


def team(*args):
    out = StringIO()
    call_command("team", *args, stdout=out)
    return out.getvalue()


def test_it_manages_teams_by_command(alice, bob):
    team("create", "checkout", "--namespace", "shop", "--label", "team=checkout")
    team("add", "checkout", "alice", "bob")
    team("add", "checkout", "alice", "--admin")
    team("own-namespace", "checkout", "cart", "shop")
    group = Group.objects.get(name="checkout")
    profile = group.profile
    assert profile.namespaces == ["cart", "shop"]
    assert profile.label_selector == "team=checkout"
    assert set(group.user_set.values_list("username", flat=True)) == {"alice", "bob"}
    assert administered_team_ids(alice) == {group.pk}
    assert administered_team_ids(bob) == set()

    team("remove", "checkout", "alice")
    team("own-namespace", "checkout", "shop", "--remove")
    profile.refresh_from_db()
    assert profile.namespaces == ["cart"]
    assert administered_team_ids(alice) == set()
    assert "checkout\tnamespaces=cart\tlabel=team=checkout\tmembers=bob" in team("list")

    team("delete", "checkout")
    assert not Group.objects.filter(name="checkout").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("create", "payments"), "exists already"),
        (("add", "nope", "alice"), "no team"),
        (("add", "payments", "nobody"), "no user nobody"),
        (("own-namespace", "payments", "Bad_NS"), "not a namespace name"),
        (("label", "payments", "no selector"), "not a label selector"),
    ],
)
def test_it_refuses_bad_team_commands(alice, args, message):
    with pytest.raises(CommandError, match=message):
        team(*args)


def test_it_gives_the_scope_of_a_users_teams(alice, carol):
    extra = Group.objects.create(name="platform")
    TeamProfile.objects.create(team=extra, namespaces=["linkerd", "ingress"])
    alice.groups.add(extra)
    assert team_scope(alice) == ({"payments", "linkerd", "ingress"}, {"payments"})
    assert team_scope(carol) == (set(), set())


def test_it_gives_an_empty_scope_to_anonymous_users(db):
    assert team_scope(AnonymousUser()) == (set(), set())


def test_it_shows_teams_on_the_users_page(client, alice):
    client.force_login(alice)
    response = client.get("/accounts/me/")
    assert b"payments" in response.content
    assert b"team=payments" in response.content


def test_it_manages_team_profiles_in_the_admin(client, payments):
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.get(f"/admin/auth/group/{payments.pk}/change/")
    assert response.status_code == 200
    assert b"label_selector" in response.content
