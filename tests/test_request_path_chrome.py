"""The request path's fixed costs cut without changing what it answers: the page chrome's
remembered static links and URLs, and the request log's fields built only when logged."""

import logging

import pytest
from django.template import engines
from django.test import override_settings

from meshdash.observability import middleware as request_middleware
from tests.accounts.people import PASSWORD

CHROME_STATIC = (
    "meshdash/meshdash.css",
    "meshdash/meshdash.js",
    "meshdash/localtime.js",
    "meshdash/accounts.css",
    "meshdash/bookmarks.js",
)
CHROME_URLS = ("bookmarks:list", "bookmarks:save", "accounts:profile", "accounts:logout")


def render(source: str, context=None, request=None) -> str:
    return engines["django"].from_string(source).render(context or {}, request)


@pytest.mark.parametrize("path", CHROME_STATIC)
def test_a_remembered_static_link_is_the_static_tags(path):
    expected = render("{% load static %}{% static path %}", {"path": path})
    assert render("{% load chrome %}{% static_url path %}", {"path": path}) == expected
    # Twice: the second from memory.
    assert render("{% load chrome %}{% static_url path %}", {"path": path}) == expected


@pytest.mark.parametrize("name", CHROME_URLS)
def test_a_remembered_url_is_the_url_tags(name):
    expected = render("{% load chrome %}{% url name %}", {"name": name})
    for _ in range(2):
        assert render("{% load chrome %}{% chrome_url name %}", {"name": name}) == expected


def test_the_remembered_htmx_script_is_django_htmxs():
    expected = render("{% load django_htmx %}{% htmx_script %}")
    assert "<script" in expected
    for _ in range(2):
        assert render("{% load chrome %}{% chrome_htmx_script %}") == expected
    # A nonce is never remembered: each page would carry the first one.
    with_nonce = render("{% load chrome %}{% chrome_htmx_script %}", {"csp_nonce": "n0nce"})
    assert 'nonce="n0nce"' in with_nonce


def test_the_remembered_links_follow_a_settings_change():
    before = render("{% load chrome %}{% static_url 'meshdash/meshdash.css' %}")
    with override_settings(STATIC_URL="/assets/"):
        moved = render("{% load chrome %}{% static_url 'meshdash/meshdash.css' %}")
        htmx = render("{% load chrome %}{% chrome_htmx_script %}")
    assert moved.startswith("/assets/") and not before.startswith("/assets/")
    assert 'src="/assets/' in htmx
    assert render("{% load chrome %}{% static_url 'meshdash/meshdash.css' %}") == before


@pytest.mark.django_db
def test_a_signed_in_page_links_the_chrome(client, alice, redis_client):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    page = client.get("/no-such-page/").content.decode()
    for path in CHROME_STATIC:
        assert render("{% load static %}{% static path %}", {"path": path}) in page
    for name in ("bookmarks:save", "accounts:profile", "accounts:logout"):
        assert f'"{render("{% url name %}", {"name": name})}"' in page
    assert render("{% load django_htmx %}{% htmx_script %}") in page


@pytest.mark.django_db
def test_the_request_log_is_built_only_when_written(
    client, alice, redis_client, caplog, monkeypatch
):
    built = []
    real = request_middleware.RequestMetricsMiddleware.log

    def counting(self, *args):
        built.append(args[2])
        return real(self, *args)

    monkeypatch.setattr(request_middleware.RequestMetricsMiddleware, "log", counting)
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    caplog.set_level(logging.WARNING, "meshdash.requests")
    built.clear()
    client.get("/workloads/")
    assert built == []
    caplog.set_level(logging.INFO, "meshdash.requests")
    caplog.clear()
    client.get("/workloads/?token=t0ken")
    assert built == ["workload_list"]
    (record,) = [r for r in caplog.records if r.name == "meshdash.requests"]
    assert record.query == "token=[redacted]" and record.view == "workload_list"


WINDOW_LINKS_TEMPLATE = (
    '{% for w in windows %}<a href="{% querystring window=w page=None %}"'
    '{% if w == window %} aria-current="true"{% endif %}'
    ' title="Metrics over the last {{ w }}">{{ w }}</a>{% endfor %}'
)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page=3",
        "window=10m",
        "sort=rps&window=1h&page=2&ns=shop&ns=pay%20ments",
        "window=1m&window=1h&q=a%26b%3Cscript%3E",
        "q=%C3%A9t%C3%A9&page=1&page=2&dir=desc",
        "flag&x=",
    ],
)
def test_the_window_links_are_querystrings(rf, query):
    request = rf.get("/workloads/?" + query)
    context = {"windows": ["1m", "10m", "1h"], "window": "10m"}
    expected = render(WINDOW_LINKS_TEMPLATE, context, request)
    links = render("{% load chrome %}{% window_links windows window %}", context, request)
    assert links == expected
    assert expected.count('aria-current="true"') == 1


OLD_MAIN_NAV = """{% load meshdash %}{% with name=request.resolver_match.url_name %}
<a href="{% page_href 'overview' %}" data-go="o"{% if name == 'overview' %} aria-current="page"{% endif %}>Overview</a>
<a href="{% page_href 'namespace_list' %}" data-go="n"{% if name == 'namespace_list' or name == 'namespace_detail' %} aria-current="page"{% endif %}>Namespaces</a>
<a href="{% page_href 'workload_list' %}" data-go="w"{% if name == 'workload_list' or name == 'workload_detail' %} aria-current="page"{% endif %}>Workloads</a>
<a href="{% page_href 'pod_list' %}" data-go="p"{% if name == 'pod_list' %} aria-current="page"{% endif %}>Pods</a>
<a href="{% page_href 'service_list' %}" data-go="s"{% if name == 'service_list' or name == 'service_detail' %} aria-current="page"{% endif %}>Services</a>
<a href="{% page_href 'mtls' %}"{% if name == 'mtls' %} aria-current="page"{% endif %}>mTLS</a>
<a href="{% page_href 'authorization' %}"{% if name == 'authorization' %} aria-current="page"{% endif %}>Authorization</a>
<a href="{% page_href 'triage' %}"{% if name == 'triage' %} aria-current="page"{% endif %}>Triage</a>
{% endwith %}"""  # noqa: E501 (base.html's header as it was)


@pytest.mark.parametrize(
    ("path", "window"),
    [
        ("/", ""),
        ("/workloads/", "window=1h"),
        ("/workloads/shop/deployment/web/", "window=10m"),
        ("/namespaces/shop/", ""),
        ("/services/", ""),
        ("/mtls/", ""),
        ("/triage/", "window=1h"),
        ("/no-such-page/", ""),
    ],
)
def test_the_main_nav_is_the_old_headers(rf, path, window):
    from django.http import QueryDict
    from django.urls import Resolver404, resolve

    request = rf.get(path)
    try:
        request.resolver_match = resolve(path)
    except Resolver404:
        request.resolver_match = None
    context = {"window_params": QueryDict(window)}
    old = render(OLD_MAIN_NAV, context, request)
    new = render("{% load chrome %}{% main_nav %}", context, request)
    assert new.split() == old.split()
    assert new.count('aria-current="page"') == (0 if path == "/no-such-page/" else 1)
    if window:
        assert f"?{window}" in new
