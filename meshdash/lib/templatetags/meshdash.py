"""meshdash's template library, for every app's templates: numbers from the mesh formatted
compactly, with "—" where there is nothing, and links that keep the page's window."""

import time

from django import template
from django.urls import NoReverseMatch, reverse

from meshdash.lib.timefmt import days_left, short_duration

register = template.Library()

DASH = "—"


@register.filter
def percent(fraction):
    if fraction is None:
        return DASH
    value = fraction * 100
    if value >= 99.995 or value == 0:
        return f"{value:.0f} %"
    return f"{value:.2f} %" if value >= 99 else f"{value:.1f} %"


@register.filter
def rps(value):
    if value is None:
        return DASH
    if value == 0:
        return "0"
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value / 1000:.1f}k"


@register.filter
def ms(value):
    if value is None:
        return DASH
    if value < 10:
        return f"{value:.1f} ms"
    if value < 10_000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


@register.filter
def number(value):
    if value is None:
        return DASH
    return f"{value:,.0f}"


@register.filter
def bytes_(value):
    if value is None:
        return DASH
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return DASH


@register.filter
def ratio(part, whole):
    """``part`` as a fraction of ``whole``, for bars; None when ``whole`` is unknown."""
    if part is None or not whole:
        return None
    return part / whole


@register.filter
def age(timestamp):
    """How long ago a unix time was: "42 s"."""
    if timestamp is None:
        return DASH
    return short_duration(time.time() - timestamp)


@register.filter
def from_now(timestamp):
    """How long until a unix time: "12 d"; negative once past."""
    if timestamp is None:
        return DASH
    return short_duration(timestamp - time.time())


@register.filter
def duration(seconds):
    return short_duration(seconds)


@register.filter
def days_until(timestamp):
    value = days_left(timestamp, time.time())
    return None if value is None else round(value, 1)


@register.filter
def unix_iso(timestamp):
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


@register.filter
def without(params, keys: str):
    """A copy of the QueryDict ``params`` without the space-separated ``keys``. Before
    ``{% querystring %}`` changes them, so that a link lists what it keeps, then what it sets."""
    kept = params.copy()
    for key in keys.split():
        kept.pop(key, None)
    return kept


def with_query(url: str, params) -> str:
    """``url`` with the QueryDict ``params`` as its query string, when there are any."""
    return f"{url}?{params.urlencode()}" if params else url


def _keep_window(context, url: str) -> str:
    """``window_params``: the page's window, unless the default (dashboard.filters)."""
    return with_query(url, context.get("window_params"))


@register.simple_tag(takes_context=True)
def workload_href(context, item):
    """Detail page of anything with namespace, kind and name, in the current window."""
    try:
        url = reverse("workload_detail", args=[item.namespace, item.kind, item.name])
    except NoReverseMatch:  # a name no URL can hold (empty, or with a slash): no link
        return ""
    return _keep_window(context, url)


@register.simple_tag(takes_context=True)
def page_href(context, url_name, *args):
    """A page URL carrying the current window, so moving around keeps it."""
    try:
        return _keep_window(context, reverse(url_name, args=args))
    except NoReverseMatch:
        return ""
