from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.management import CommandError, call_command
from django.forms import modelform_factory

from meshdash.accounts.admin import TeamProfileForm
from meshdash.accounts.checks import check_team_selectors
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


def test_it_refuses_a_selector_on_a_label_workloads_are_not_matched_on(payments):
    with pytest.raises(CommandError, match="'team' label only: use team=<value>, not owner="):
        team("label", "payments", "owner=payments")
    with pytest.raises(CommandError, match="'team' label only"):
        team("create", "platform", "--label", "app.kubernetes.io/part-of=platform")
    assert payments.profile.label_selector == "team=payments"
    assert not Group.objects.filter(name="platform").exists()


def test_it_refuses_such_a_selector_in_the_admin():
    form_class = modelform_factory(TeamProfile, form=TeamProfileForm, fields=["label_selector"])
    refused = form_class(data={"label_selector": "owner=payments"})
    assert not refused.is_valid()
    assert "'team' label only" in refused.errors["label_selector"][0]
    assert form_class(data={"label_selector": "team=payments"}).is_valid()
    assert form_class(data={"label_selector": ""}).is_valid()


def test_it_scopes_no_workloads_by_a_stored_selector_on_another_label(alice):
    extra = Group.objects.create(name="platform")
    TeamProfile.objects.create(team=extra, namespaces=["ingress"], label_selector="owner=platform")
    alice.groups.add(extra)
    assert team_scope(alice) == ({"payments", "ingress"}, {"payments"})


def test_it_warns_of_stored_selectors_on_another_label(payments):
    extra = Group.objects.create(name="platform")
    TeamProfile.objects.create(team=extra, label_selector="owner=platform")
    assert check_team_selectors(None) == []
    (warning,) = check_team_selectors(None, databases=["default"])
    assert warning.id == "accounts.W001"
    assert "'platform'" in warning.msg and "'owner=platform'" in warning.msg
