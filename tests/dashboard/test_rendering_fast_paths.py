"""The list page's fast paths give what the slow ones gave: the headings', pager's and per-page
links as ``{% querystring %}`` built them (escaped, whatever the query carries), row paths and
escaping as ``reverse`` and Django's ``escape``, and cached sparklines as drawn afresh, never
an older drawing for a changed history, in a cache that stays bounded."""

import html as htmllib
import re

import pytest
from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape

from meshdash.dashboard import rows
from meshdash.dashboard.charts import sparkline_svg
from meshdash.dashboard.paging import column_headers, pager
from meshdash.mesh.model import Workload
from meshdash.mesh.query import Page, WorkloadQuery
from meshdash.store import SparkPoint

HOSTILE_QUERIES = [
    "",
    "sort=name",
    'q="><script>alert(1)</script>&page=3',
    "ns=a&ns=b&page=2&per_page=100&dir=desc&sort=rps",
    "q=%C3%BC%20x%26y%3Dz&health=critical&x=1&x=%27",
    "page=2&page=3&sort=",
]

# What the templates did before the links were built in Python: Django's {% querystring %}
# after the ``without`` filter, the value escaped by autoescaping.
REFERENCE = Template(
    "{% load meshdash %}"
    "{% for col in columns %}{% if col.sortable %}"
    '{% querystring request.GET|without:"sort dir page" sort=col.key dir=col.dir %}|'
    "{% endif %}{% endfor %}"
    "{% with kept=request.GET|without:'page' %}"
    '{% if page.has_previous %}{% querystring kept page=page.page|add:"-1" %}|{% endif %}'
    "{% for link in page_numbers %}{% if link.number %}"
    "{% querystring kept page=link.number %}|{% endif %}{% endfor %}"
    '{% if page.has_next %}{% querystring kept page=page.page|add:"1" %}|{% endif %}'
    "{% endwith %}"
    "{% for choice in per_page_choices %}"
    '{% querystring request.GET|without:"per_page page" per_page=choice.number %}|'
    "{% endfor %}"
)
FAST = Template(
    "{% load meshdash %}{% table_headings columns %}{% pager_links page page_numbers %}"
    "{% per_page_links per_page_choices %}"
)


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_the_links_are_those_querystring_built(query):
    request = RequestFactory().get("/workloads/?" + query)
    context = {
        "columns": column_headers(WorkloadQuery(sort="rps", descending=True)),
        **pager(Page([], total=1000, page=5, per_page=50)),
    }
    expected = REFERENCE.render(RequestContext(request, context)).split("|")[:-1]
    body = FAST.render(RequestContext(request, context))
    found = re.findall(r'<a href="([^"]*)" hx-get="([^"]*)"', body)
    assert [href for href, _ in found] == expected
    assert all(href == get for href, get in found)
    assert "<script>" not in body and '"><' not in "".join(href for href, _ in found)


def test_the_table_marks_the_sorted_heading_and_titles_the_plain_ones():
    request = RequestFactory().get("/workloads/?sort=rps&dir=desc")
    columns = column_headers(WorkloadQuery(sort="rps", descending=True))
    body = render_to_string(
        "dashboard/_list_table.html", {"columns": columns, "col_prefix": "col-"}, request
    )
    assert body.count("<th ") == len(columns)
    assert '<th scope="col" class="col-rps num" aria-sort="descending">' in body
    assert body.count(" ▼</a>") == 1 and "▲" not in body
    titled = [c for c in columns if c["title"] and not c["sortable"]]
    for col in titled:
        assert f'title="{escape(col["title"])}"' in body


HOSTILE_NAMES = ["web", "a b", "<b>&'\"", "x?y#z", "100%", "ünï", "a:b@c~!$()*+,;=", "a.b-c_d~e"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_row_paths_and_escaping_are_those_of_reverse_and_escape(name):
    html = rows.workload_rows([(Workload(name, "deployment", name), [])], "?window=10m")
    hrefs = [htmllib.unescape(h) for h in re.findall(r'href="([^"]+)"', html)]
    assert hrefs == [
        reverse("namespace_detail", args=[name]) + "?window=10m",
        reverse("workload_detail", args=[name, "deployment", name]) + "?window=10m",
    ]
    assert f'data-workload="{escape(name)}/deployment/{escape(name)}"' in html
    assert f">{escape(name)}</a>" in html
    if name != escape(name):
        assert f">{name}<" not in html


def _history(last_rps: float, points: int = 16) -> list[SparkPoint]:
    return [
        SparkPoint(1_700_000_000 + 60 * i, 0.995, float(i) if i < points - 1 else last_rps, 5.0)
        for i in range(points)
    ]


def test_a_cached_sparkline_is_the_drawing_of_its_own_points():
    first = _history(3.0)
    assert rows._sparkline(first) == sparkline_svg(first)
    assert rows._sparkline(list(first)) == sparkline_svg(first)  # a hit: the same drawing
    changed = _history(40.0)  # the newest point updated in place
    assert rows._sparkline(changed) == sparkline_svg(changed) != sparkline_svg(first)
    longer = [*first, SparkPoint(first[-1].t + 60, 0.5, 1.0, 9.0)]  # a new minute
    assert rows._sparkline(longer) == sparkline_svg(longer)
    assert rows._sparkline([]) == "" and rows._sparkline(None) == ""


def test_the_sparkline_cache_stays_bounded():
    for i in range(rows.SPARKLINE_CACHE_SIZE + 50):
        rows._sparkline(_history(float(i), points=2))
    assert len(rows._sparklines) == rows.SPARKLINE_CACHE_SIZE
