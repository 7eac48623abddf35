import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.template import RequestContext, Template
from django.test import RequestFactory

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
