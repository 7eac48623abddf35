"""Who may mute what, the bound on mutes, their expiry and cache, and the admin's same rules."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from meshdash.accounts.teams import profile_of
from meshdash.triage.models import Mute
from meshdash.triage.mutes import active_mutes, forget_cached
from meshdash.triage.muting import MuteRefused, create_mute, remove_mute
from tests.triage.conftest import sample_findings

pytestmark = pytest.mark.django_db


def mute(user, namespace="payments", kind="", name="", check="memory.share", **kwargs):
    return create_mute(
        user, check=check, namespace=namespace, kind=kind, name=name, why="known", **kwargs
    )


def test_a_team_admin_mutes_in_a_namespace_the_team_owns(payments_admin):
    created = mute(payments_admin)
    assert (created.namespace, created.who, created.who_name) == (
        "payments",
        payments_admin,
        "alice",
    )
    assert [r.namespace for r in active_mutes()] == ["payments"]


def test_a_team_member_who_is_no_admin_may_not_mute(bob):
    with pytest.raises(MuteRefused) as refused:
        mute(bob)
    assert refused.value.status == 403
    assert not Mute.objects.exists()


def test_a_team_admin_may_not_mute_another_teams_namespace(payments_admin):
    with pytest.raises(MuteRefused, match="no team you administer owns namespace 'shop'"):
        mute(payments_admin, "shop")
    with pytest.raises(MuteRefused, match="only a superuser"):
        mute(payments_admin, "")
    assert not Mute.objects.exists()


def test_a_team_admin_mutes_a_workload_elsewhere_carrying_the_teams_label(
    payments_admin, payments, write
):
    # svc-000 (shop) carries team=payments-team in the known mesh; cart carries no label.
    write(sample_findings())
    profile = profile_of(payments)
    profile.label_selector = "team=payments-team"
    profile.save()
    assert mute(payments_admin, "shop", "deployment", "svc-000").name == "svc-000"
    with pytest.raises(MuteRefused):
        mute(payments_admin, "shop", "deployment", "cart")
    with pytest.raises(MuteRefused):  # the label gives the workload, not its namespace
        mute(payments_admin, "shop")


def test_a_superuser_mutes_anything_even_everywhere(db):
    root = User.objects.create_superuser("root")
    assert mute(root, "").namespace == ""
    assert mute(root, "shop", "deployment", "cart").kind == "deployment"


def test_invalid_names_and_a_missing_reason_are_refused(payments_admin):
    for kwargs in (
        {"check": "no.such-check"},
        {"kind": "replicaset", "name": "x"},
        {"kind": "deployment", "name": "Not_A_Name"},
    ):
        with pytest.raises(MuteRefused) as refused:
            mute(payments_admin, **kwargs)
        assert refused.value.status == 400, kwargs
    with pytest.raises(MuteRefused, match="why"):
        create_mute(payments_admin, check="memory.share", namespace="payments", why="   ")
    assert not Mute.objects.exists()


def test_the_same_mute_twice_is_refused(payments_admin):
    mute(payments_admin)
    with pytest.raises(MuteRefused, match="already muted") as refused:
        mute(payments_admin)
    assert refused.value.status == 409


def test_the_number_of_mutes_is_bounded(payments_admin, settings):
    settings.MESHDASH_MAX_MUTES = 2
    mute(payments_admin, check="memory.share")
    mute(payments_admin, check="memory.oom")
    with pytest.raises(MuteRefused, match="MESHDASH_MAX_MUTES") as refused:
        mute(payments_admin, check="memory.limit")
    assert refused.value.status == 409
    assert Mute.objects.count() == 2


def test_expired_mutes_mute_nothing_and_make_room(payments_admin, settings):
    settings.MESHDASH_MAX_MUTES = 1
    old = mute(payments_admin, check="memory.oom")
    Mute.objects.filter(pk=old.pk).update(expires=timezone.now() - dt.timedelta(seconds=1))
    forget_cached()
    assert active_mutes() == []
    mute(payments_admin, check="memory.share", expires_in=dt.timedelta(hours=1))
    assert [(r.check, r.expires_at is not None) for r in active_mutes()] == [("memory.share", True)]
    assert not Mute.objects.filter(pk=old.pk).exists()


def test_active_mutes_reads_once_then_the_cache_until_a_change(
    payments_admin, django_assert_num_queries
):
    mute(payments_admin)
    with django_assert_num_queries(1):
        assert len(active_mutes()) == 1
    with django_assert_num_queries(0):
        assert len(active_mutes()) == 1
    mute(payments_admin, check="memory.oom")  # the signal clears the cache
    with django_assert_num_queries(1):
        assert len(active_mutes()) == 2


def test_active_mutes_reads_a_bounded_number_of_rows(payments_admin, settings):
    for check in ("memory.share", "memory.oom", "memory.limit"):
        mute(payments_admin, check=check)
    settings.MESHDASH_MAX_MUTES = 2
    forget_cached()
    assert len(active_mutes()) == 2


def test_a_deleted_users_mutes_keep_their_name(payments_admin):
    mute(payments_admin)
    payments_admin.delete()
    assert [r.who for r in active_mutes()] == ["alice"]


def test_unmuting_follows_the_same_rule(payments_admin, bob, carol):
    created = mute(payments_admin)
    for someone in (bob, carol):
        with pytest.raises(MuteRefused) as refused:
            remove_mute(someone, created.pk)
        assert refused.value.status == 403
    remove_mute(payments_admin, created.pk)
    assert active_mutes() == []
    with pytest.raises(MuteRefused) as refused:
        remove_mute(payments_admin, created.pk)
    assert refused.value.status == 404


# --- The admin.


@pytest.fixture
def staff_admin(payments_admin):
    payments_admin.is_staff = True
    payments_admin.save()
    return payments_admin


def admin_post(client, data):
    body = {"check_id": "memory.share", "kind": "", "name": "", "why": "known", "expires": ""}
    return client.post("/admin/triage/mute/add/", body | data)


def test_the_admin_adds_mutes_only_where_the_staff_members_team_owns(client, staff_admin):
    client.force_login(staff_admin)
    assert admin_post(client, {"namespace": "payments"}).status_code == 302
    refused = admin_post(client, {"namespace": "shop"})
    assert refused.status_code == 200  # the form again, with the reason
    assert b"no team you administer owns namespace" in refused.content
    assert list(Mute.objects.values_list("namespace", "who_name")) == [("payments", "alice")]


def test_the_admin_holds_the_bound(client, staff_admin, settings):
    settings.MESHDASH_MAX_MUTES = 1
    client.force_login(staff_admin)
    assert admin_post(client, {"namespace": "payments"}).status_code == 302
    refused = admin_post(client, {"namespace": "payments", "check_id": "memory.oom"})
    assert b"MESHDASH_MAX_MUTES" in refused.content
    assert Mute.objects.count() == 1


def test_the_admin_hides_and_protects_other_teams_mutes(client, staff_admin):
    root = User.objects.create_superuser("root")
    theirs = mute(root, "shop")
    client.force_login(staff_admin)
    listing = client.get("/admin/triage/mute/")
    assert listing.status_code == 200 and b"namespace shop" not in listing.content
    assert client.post(f"/admin/triage/mute/{theirs.pk}/delete/", {"post": "yes"}).status_code in (
        302,
        403,
    )
    assert Mute.objects.filter(pk=theirs.pk).exists()


def test_staff_who_administer_no_team_cannot_use_mutes_in_the_admin(client, bob):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    assert client.get("/admin/triage/mute/").status_code == 403
    assert admin_post(client, {"namespace": "payments"}).status_code == 403
    assert not Mute.objects.exists()
