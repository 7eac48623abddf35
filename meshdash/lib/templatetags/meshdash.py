"""meshdash's template library, for every app's templates: numbers from the mesh formatted
compactly, with "—" where there is nothing, and links that keep the page's window."""

import time

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

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


def iso_utc(timestamp) -> str:
    """A unix time as ISO 8601 in UTC, "2026-12-02T01:02:03Z", the form ``<time>`` takes."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@register.filter
def local_time(timestamp, format_="datetime"):
    """A unix time as ``<time datetime="…Z">``: UTC text here, which static/meshdash/localtime.js
    turns into the browser's local time, keeping UTC as the tooltip. ``format_``: "datetime",
    "date" or "time"."""
    if timestamp is None:
        return DASH
    return format_html(
        '<time datetime="{}" data-format="{}" title="{}">{}</time>',
        iso_utc(timestamp),
        format_,
        unix_iso(timestamp),
        unix_iso(timestamp),
    )


@register.filter
def health_badge(item):
    """The health badge of a workload, service or edge; its tooltip says why, as the collector
    judged it: "warning: success 98.7 % is below 99 %"."""
    state = getattr(item, "health", "") or ""
    reason = getattr(item, "health_reason", "") or ""
    if reason:
        return format_html(
            '<span class="badge h-{}" title="{}: {}">{}</span>',
            state or "unknown",
            state or "unknown",
            reason,
            state or "?",
        )
    return format_html('<span class="badge h-{}">{}</span>', state or "unknown", state or "?")


@register.simple_tag
def edge_traces_href(edge):
    """The traces of an edge (MESHDASH_TRACES_URL_TEMPLATE: the client as {namespace}, {kind},
    {name}, the server as {dst_namespace}, {dst_kind}, {dst_name}); "" when not configured."""
    from django.conf import settings

    from meshdash.dashboard.next_steps import fill_url_template

    return fill_url_template(
        settings.MESHDASH_TRACES_URL_TEMPLATE,
        namespace=edge.src_namespace,
        kind=edge.src_kind,
        name=edge.src_name,
        dst_namespace=edge.dst_namespace,
        dst_kind=edge.dst_kind,
        dst_name=edge.dst_name,
    )


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
