import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.template import RequestContext, Template
from django.test import RequestFactory

from meshdash.bookmarks.models import Watch
from meshdash.bookmarks.watches import watched_workloads
from meshdash.store import SnapshotStore
from tests.bookmarks.snapshots import payments_snapshot

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


def render_watch_button(user):
    request = RequestFactory().get("/workloads/shop/deployment/cart/")
    request.user = user
    template = Template('{% load bookmarks_tags %}{% watch_button "shop" "deployment" "cart" %}')
    return template.render(RequestContext(request))


def test_it_renders_a_watch_button_with_a_choice_of_teams(alice):
    html = render_watch_button(alice)
    assert 'action="/bookmarks/watch/"' in html
    assert 'name="team" value="payments"' in html
    assert 'name="next" value="/workloads/shop/deployment/cart/"' in html
    assert "csrfmiddlewaretoken" in html


def test_it_renders_an_unwatch_button_once_watched(alice):
    watch = Watch.objects.create(user=alice, namespace="shop", kind="deployment", name="cart")
    html = render_watch_button(alice)
    assert f'action="/bookmarks/watch/{watch.pk}/delete/"' in html
    assert "Watching" in html


def test_it_renders_no_watch_button_for_anonymous_readers(db):
    assert render_watch_button(AnonymousUser()).strip() == ""


def test_it_shows_the_watched_panel_from_one_store_read(client, alice, payments, redis_client):
    SnapshotStore(redis_client).write(payments_snapshot())
    Watch.objects.create(user=alice, namespace="shop", kind="deployment", name="cart")
    Watch.objects.create(team=payments, namespace="payments", kind="deployment", name="api")
    Watch.objects.create(user=alice, namespace="payments", kind="deployment", name="gone")
    reads = []
    real = SnapshotStore.workloads

    def counted(self, *args, **kwargs):
        reads.append(args)
        return real(self, *args, **kwargs)

    def one_by_one(*args, **kwargs):
        raise AssertionError("the panel reads its workloads one by one")

    client.force_login(alice)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SnapshotStore, "workloads", counted)
        patch.setattr(SnapshotStore, "workload", one_by_one)
        body = client.get("/?window=1m").content.decode()
    assert len(reads) == 1
    panel = body.split('id="watched-h"')[1].split("</section>")[0]
    assert re.findall(r'data-watched="([^"]+)"', panel) == [
        "payments/deployment/api",
        "payments/deployment/gone",
        "shop/deployment/cart",
    ]
    assert 'href="/workloads/payments/deployment/api/">payments/api</a>' in panel
    assert "not in the current snapshot" in panel


def test_it_keeps_the_window_in_the_watched_panel_links(client, alice, redis_client):
    snapshot = payments_snapshot()
    snapshot.window = "10m"
    SnapshotStore(redis_client).write(snapshot)
    Watch.objects.create(user=alice, namespace="shop", kind="deployment", name="cart")
    client.force_login(alice)
    body = client.get("/?window=10m").content.decode()
    panel = body.split('id="watched-h"')[1].split("</section>")[0]
    assert 'href="/workloads/shop/deployment/cart/?window=10m"' in panel
