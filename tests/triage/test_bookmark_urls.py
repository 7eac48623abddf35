"""A bookmark of the triage page is checked with the page's own query parser."""

import pytest

from meshdash.dashboard.freezing import NotAView, check_url


def test_a_triage_view_with_a_query_it_accepts_can_be_saved():
    check_url("/triage/", "severity=critical&ns=shop&window=1m")


@pytest.mark.parametrize("query", ["severity=bogus", "team=%3Cscript%3E", "window=2y"])
def test_a_triage_view_it_would_refuse_cannot(query):
    with pytest.raises(NotAView):
        check_url("/triage/", query)
