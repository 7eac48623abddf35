"""meshdash's template library, for every app's templates: numbers from the mesh formatted
compactly, with "—" where there is nothing, and links that keep the page's window."""

import functools
import time
from urllib.parse import urlencode

from django import template
from django.http import QueryDict
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from meshdash.lib.escaping import escape
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


@functools.lru_cache(maxsize=512)
def _reverse(script_prefix: str, urlconf, url_name: str, args: tuple) -> str:
    """``reverse`` remembered: every page's header reverses the same few URLs (reverse() takes
    tens of microseconds). The script prefix and urlconf, which reverse() reads, are the key."""
    return reverse(url_name, args=args)


@register.simple_tag(takes_context=True)
def page_href(context, url_name, *args):
    """A page URL carrying the current window, so moving around keeps it."""
    try:
        url = _reverse(get_script_prefix(), get_urlconf(), url_name, args)
    except TypeError:  # an argument that cannot be a key
        url = None
    except NoReverseMatch:
        return ""
    try:
        return _keep_window(context, url if url is not None else reverse(url_name, args=args))
    except NoReverseMatch:
        return ""


# The links of a list table's headings, pager and per-page choices, built in Python: as
# template loops with ``{% querystring %}`` they were a fifth of a list page's CPU (each
# ``querystring`` deep-copies the request's QueryDict). The links are the same: what the page's
# query keeps, in its order, then what the link sets.


def _kept_query(params, drop: tuple[str, ...]) -> str:
    """The QueryDict ``params`` urlencoded as ``QueryDict.urlencode`` does, without ``drop``."""
    return urlencode([(k, v) for k, values in params.lists() if k not in drop for v in values])


def _request_params(context):
    request = context.get("request")
    return request.GET if request is not None else QueryDict()


def _link_query(kept: str, **sets) -> str:
    """``?`` + ``kept`` + the parameters the link sets: ``{% querystring kept key=value %}``."""
    added = urlencode(list(sets.items()))
    return f"?{kept}&{added}" if kept else f"?{added}"


def _htmx_link(href: str, text: str, attrs: str = "", swap: str = "") -> str:
    href = escape(href)
    swap = f' hx-swap="{swap}"' if swap else ""
    return f'<a href="{href}" hx-get="{href}" hx-push-url="true"{swap}{attrs}>{text}</a>'


@register.simple_tag(takes_context=True)
def table_headings(context, columns, col_prefix=""):
    """The ``<th>`` cells of a list table for ``columns`` (dashboard.paging.column_headers): a
    sortable one links its sort, keeping the rest of the page's query but its page."""
    kept = None  # only a sortable heading needs the page's query
    cells = []
    for col in columns:
        key = escape(col["key"])
        css = f"{escape(col_prefix)}{key}{' num' if col['numeric'] else ''}"
        label = escape(col["label"])
        if col["sortable"]:
            sorted_ = col["sorted"]
            aria = ""
            mark = ""
            if sorted_:
                aria = f' aria-sort="{"ascending" if sorted_ == "asc" else "descending"}"'
                mark = " ▲" if sorted_ == "asc" else " ▼" if sorted_ == "desc" else ""
            if kept is None:
                kept = _kept_query(_request_params(context), ("sort", "dir", "page"))
            href = _link_query(kept, sort=col["key"], dir=col["dir"])
            link = _htmx_link(href, f"{label}{mark}", f' data-sort="{key}"')
            cells.append(f'<th scope="col" class="{css}"{aria}>{link}</th>')
        else:
            title = f' title="{escape(col["title"])}"' if col["title"] else ""
            cells.append(f'<th scope="col" class="{css}"{title}>{label}</th>')
    return mark_safe("\n".join(cells))  # noqa: S308 (every value above is escaped)


@register.simple_tag(takes_context=True)
def pager_links(context, page, page_numbers):
    """The pager's links (dashboard.paging.pager): previous, the numbers with gaps, next."""
    kept = _kept_query(_request_params(context), ("page",))
    swap = "outerHTML show:top"
    links = []
    if page.has_previous:
        href = _link_query(kept, page=page.page - 1)
        links.append(_htmx_link(href, "‹ Previous", ' rel="prev"', swap))
    for link in page_numbers:
        number = link["number"]
        if number:
            current = ' aria-current="page"' if link["current"] else ""
            links.append(_htmx_link(_link_query(kept, page=number), str(number), current, swap))
        else:
            links.append('<span class="gap">…</span>')
    if page.has_next:
        href = _link_query(kept, page=page.page + 1)
        links.append(_htmx_link(href, "Next ›", ' rel="next"', swap))
    return mark_safe("\n".join(links))  # noqa: S308 (every value above is escaped)


@register.simple_tag(takes_context=True)
def per_page_links(context, choices):
    """The per-page choices (dashboard.paging.pager), each back on page 1."""
    kept = _kept_query(_request_params(context), ("per_page", "page"))
    return mark_safe(  # noqa: S308 (every value is escaped)
        "".join(
            _htmx_link(
                _link_query(kept, per_page=choice["number"]),
                escape(choice["number"]),
                ' aria-current="true"' if choice["current"] else "",
            )
            for choice in choices
        )
    )


@register.simple_tag
def namespace_checkboxes(names, selected):
    """The namespace picker's checkboxes, the ``selected`` ones checked; "No namespaces"."""
    if not names:
        return mark_safe("<p>No namespaces</p>")
    selected = selected or ()
    return mark_safe(  # noqa: S308 (every name is escaped)
        "\n".join(
            f'<label><input type="checkbox" name="ns" value="{escape(name)}"'
            f"{' checked' if name in selected else ''}> {escape(name)}</label>"
            for name in names
        )
    )


@register.simple_tag
def select_options(values, current):
    """``<option>`` elements for ``values``, the ``current`` one selected."""
    return mark_safe(  # noqa: S308 (every value is escaped)
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == current else ""}>'
            f"{escape(value)}</option>"
            for value in values
        )
    )


@register.simple_tag
def history_chart(chart):
    """A history chart (``meshdash.dashboard.charts.Chart``) as its ``<figure>``."""
    from meshdash.dashboard.svg_html import history_chart_html

    return history_chart_html(chart)


@register.simple_tag(takes_context=True)
def neighbourhood(context, graph):
    """The workload page's graph of callers and callees (``charts.Graph``) as ``<svg>``."""
    from meshdash.dashboard.svg_html import neighbourhood_html

    return neighbourhood_html(context, graph)


@register.simple_tag(takes_context=True)
def edges_table(context, edges, side):
    """Callers (``side`` "src") or callees ("dst") as the edges table."""
    from meshdash.dashboard.svg_html import edges_table_html

    return edges_table_html(context, edges, side)
