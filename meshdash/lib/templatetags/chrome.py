"""The page chrome's links (``templates/base.html``'s head and header, the account menu
``templates/accounts/_nav.html``): the fixed ones worked out once per process instead of on
every page, the time-window links in Python instead of one ``{% querystring %}`` each.

Every page links the same six static files and reverses the same account URLs. ``{% static %}``
looks each name up in the manifest and joins it to STATIC_URL (about 40 µs each through
``urljoin`` and the storage), ``{% url %}`` reverses afresh (about 30 µs): together a tenth of
a signed-in 404's CPU. The answers only change with the settings (STATIC_URL, STORAGES, the
manifest read at start-up) or the script prefix and urlconf, so they are remembered under
those, and forgotten when a test changes a setting.
"""

import functools
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe
from django_htmx.jinja import htmx_script

from meshdash.lib.escaping import escape
from meshdash.lib.templatetags.meshdash import page_href

register = template.Library()


@functools.lru_cache(maxsize=64)
def _static_url(static_url: str, path: str) -> str:
    return static(path)


@functools.lru_cache(maxsize=64)
def _url(script_prefix: str, urlconf, url_name: str) -> str:
    return reverse(url_name)


@functools.lru_cache(maxsize=4)
def _htmx_script(static_url: str) -> str:
    return htmx_script()


@register.simple_tag
def static_url(path: str) -> str:
    """``{% static path %}``, remembered (a name missing from the manifest still raises)."""
    return _static_url(settings.STATIC_URL, path)


@register.simple_tag
def chrome_url(url_name: str) -> str:
    """``{% url url_name %}`` of a URL without arguments, remembered per script prefix and
    urlconf (what ``reverse()`` reads)."""
    return _url(get_script_prefix(), get_urlconf(), url_name)


@register.simple_tag(takes_context=True)
def chrome_htmx_script(context) -> str:
    """django-htmx's ``{% htmx_script %}``, remembered; with a CSP nonce in the context (none
    of meshdash's pages has one: its CSP allows no inline script) worked out every time."""
    nonce = context.get("csp_nonce")
    if nonce is not None:
        return htmx_script(nonce=nonce)
    return _htmx_script(settings.STATIC_URL)


def _forget(**kwargs) -> None:
    _static_url.cache_clear()
    _url.cache_clear()
    _htmx_script.cache_clear()


setting_changed.connect(_forget, dispatch_uid="meshdash.lib.templatetags.chrome")


@register.simple_tag(takes_context=True)
def window_links(context, windows, current):
    """The header's time-window links: each is ``{% querystring window=w page=None %}`` (the
    page's query with that window, back on the first page), built without copying the
    request's QueryDict once per link."""
    request = context.get("request")
    params = list(request.GET.lists()) if request is not None else []
    links = []
    for w in windows:
        pairs, placed = [], False
        for key, values in params:
            if key == "window":
                # Where the page had a window, the link has its own, as QueryDict.__setitem__.
                pairs.append((key, w))
                placed = True
            elif key != "page":
                pairs.extend((key, value) for value in values)
        if not placed:
            pairs.append(("window", w))
        href = escape("?" + urlencode(pairs))
        current_mark = ' aria-current="true"' if w == current else ""
        label = escape(w)
        links.append(
            f'<a href="{href}"{current_mark} title="Metrics over the last {label}">{label}</a>'
        )
    return mark_safe("".join(links))  # noqa: S308 (every value above is escaped)


# The header's pages: (URL name, label, the key after "g" that goes there in meshdash.js, the
# URL names on which the link is the current page).
MAIN_NAV = (
    ("overview", "Overview", "o", ("overview",)),
    ("namespace_list", "Namespaces", "n", ("namespace_list", "namespace_detail")),
    ("workload_list", "Workloads", "w", ("workload_list", "workload_detail")),
    ("pod_list", "Pods", "p", ("pod_list",)),
    ("service_list", "Services", "s", ("service_list", "service_detail")),
    ("mtls", "mTLS", "", ("mtls",)),
    ("authorization", "Authorization", "", ("authorization",)),
    ("triage", "Triage", "", ("triage",)),
)


@register.simple_tag(takes_context=True)
def main_nav(context):
    """The header's links to the pages, each keeping the window (``{% page_href %}``), the
    current page's marked ``aria-current``: one tag instead of eight tags and eight ``{% if %}``
    (which Django's ``{% extends %}`` also walks on every page)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match is not None else None
    links = []
    for url_name, label, key, current_on in MAIN_NAV:
        go = f' data-go="{key}"' if key else ""
        mark = ' aria-current="page"' if current in current_on else ""
        href = escape(page_href(context, url_name))
        links.append(f'<a href="{href}"{go}{mark}>{label}</a>')
    return mark_safe("\n      ".join(links))  # noqa: S308 (the hrefs are escaped, the rest ours)
