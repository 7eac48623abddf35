import html
import re

from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.test import RequestFactory

from meshdash.dashboard.paging import column_headers, page_numbers, pager
from meshdash.mesh.columns import NAMESPACE_COLUMNS
from meshdash.mesh.query import Page, WorkloadQuery


def test_it_shows_first_last_and_neighbours_with_gaps():
    assert page_numbers(6, 40) == [1, None, 4, 5, 6, 7, 8, None, 40]
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(1, 1) == [1]
    assert page_numbers(40, 40) == [1, None, 38, 39, 40]


def hrefs(template: str, query: str, context: dict) -> list[str]:
    request = RequestFactory().get("/workloads/?" + query)
    body = render_to_string(template, context, request)
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', body)]


def pager_hrefs(query: str, page: Page) -> list[str]:
    return hrefs("dashboard/_pager.html", query, pager(page))


def test_it_changes_one_parameter_and_keeps_the_others():
    links = pager_hrefs("ns=a&ns=b&sort=rps&page=4", Page([], total=500, page=4, per_page=50))
    assert "?ns=a&ns=b&sort=rps&page=5" in links
    assert "?ns=a&ns=b&sort=rps&page=3" in links
    request = RequestFactory().get("/?ns=a&ns=b&sort=rps&page=4")
    dropped = Template('{% load meshdash %}{% querystring request.GET|without:"page" %}')
    assert dropped.render(RequestContext(request)) == "?ns=a&amp;ns=b&amp;sort=rps"


def test_it_escapes_what_it_keeps():
    assert "?q=a%26b&page=2" in pager_hrefs("q=a%26b", Page([], total=100, page=1, per_page=50))


def test_it_toggles_the_sorted_column_and_starts_numbers_biggest_first():
    columns = column_headers(WorkloadQuery(sort="rps", descending=True))
    headers = {h["key"]: h for h in columns}
    links = hrefs("dashboard/_list_table.html", "sort=rps&page=3", {"columns": columns})
    assert headers["rps"]["sorted"] == "desc"
    assert "?sort=rps&dir=asc" in links
    assert "?sort=p99&dir=desc" in links
    assert "?sort=name&dir=asc" in links
    assert headers["name"]["sorted"] == ""


def test_it_moves_what_a_link_changes_to_the_end():
    columns = column_headers(WorkloadQuery(sort="rps"))
    links = hrefs(
        "dashboard/_list_table.html", "sort=rps&dir=asc&per_page=25", {"columns": columns}
    )
    assert "?per_page=25&sort=p99&dir=desc" in links


def test_it_has_plain_headings_for_a_list_in_its_one_order():
    columns = column_headers(None, NAMESPACE_COLUMNS)
    body = render_to_string("dashboard/_list_table.html", {"columns": columns})
    assert "href=" not in body
    assert [h["label"] for h in columns] == [c.heading for c in NAMESPACE_COLUMNS]


def test_it_offers_every_per_page_choice_and_marks_the_current():
    context = pager(Page([], total=10, page=1, per_page=100))
    assert [(c["number"], c["current"]) for c in context["per_page_choices"]] == [
        (25, False),
        (50, False),
        (100, True),
        (200, False),
    ]
    assert (context["first_item"], context["last_item"]) == (1, 10)
