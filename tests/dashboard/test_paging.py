from django.http import QueryDict

from meshdash.dashboard.paging import column_headers, page_numbers, query_url
from meshdash.mesh.query import WorkloadQuery


def test_it_shows_first_last_and_neighbours_with_gaps():
    assert page_numbers(6, 40) == [1, None, 4, 5, 6, 7, 8, None, 40]
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(1, 1) == [1]
    assert page_numbers(40, 40) == [1, None, 38, 39, 40]


def test_it_changes_one_parameter_and_keeps_the_others():
    params = QueryDict("ns=a&ns=b&sort=rps&page=4")
    assert query_url(params, page=5) == "?ns=a&ns=b&sort=rps&page=5"
    assert query_url(params, page=None) == "?ns=a&ns=b&sort=rps"


def test_it_escapes_what_it_keeps():
    assert query_url(QueryDict("q=a%26b"), page=2) == "?q=a%26b&page=2"


def test_it_toggles_the_sorted_column_and_starts_numbers_biggest_first():
    headers = {
        h["key"]: h
        for h in column_headers(
            QueryDict("sort=rps&page=3"), WorkloadQuery(sort="rps", descending=True)
        )
    }
    assert headers["rps"]["sorted"] == "desc"
    assert headers["rps"]["href"] == "?sort=rps&dir=asc"
    assert headers["p99"]["href"] == "?sort=p99&dir=desc"
    assert headers["name"]["href"] == "?sort=name&dir=asc"
    assert headers["name"]["sorted"] == ""
