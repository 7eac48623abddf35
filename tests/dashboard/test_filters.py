import pytest
from django.http import QueryDict

from meshdash.dashboard.filters import BadQuery, parse_list_params, parse_workload_query
from meshdash.mesh.query import WorkloadQuery


def parse(qs: str, **kwargs):
    return parse_workload_query(QueryDict(qs), **kwargs)


def test_it_defaults_to_the_shared_query_defaults():
    assert parse("") == WorkloadQuery()


def test_it_reads_every_filter():
    query = parse(
        "ns=shop&ns=payments&kind=statefulset&health=critical&meshed=no&q=Cart"
        "&sort=p99&dir=desc&page=3&per_page=100&team=payments-team"
    )
    assert query == WorkloadQuery(
        namespaces=("payments", "shop"),
        kind="statefulset",
        health="critical",
        meshed=False,
        search="cart",
        sort="p99",
        descending=True,
        page=3,
        per_page=100,
        team="payments-team",
    )


def test_it_reads_meshed_yes_and_ignores_empty_values():
    assert parse("meshed=yes&kind=&health=&ns=&q=").meshed is True
    assert parse("meshed=yes&kind=&health=&ns=&q=") == WorkloadQuery(meshed=True)


def test_it_pins_the_namespace_of_a_namespace_page():
    assert parse("ns=other", namespaces=("shop",)).namespaces == ("shop",)


def test_it_reads_the_window_with_a_default():
    assert parse_list_params(QueryDict("window=10m"), "1m").window == "10m"
    assert parse_list_params(QueryDict(""), "1m").window == "1m"


@pytest.mark.parametrize(
    ("qs", "reason"),
    [
        ("sort=bogus", "unknown sort"),
        ("sort=name;DROP TABLE", "unknown sort"),
        ("dir=sideways", "unknown dir"),
        ("page=abc", "page must be a whole number"),
        ("page=-1", "page must be a whole number"),
        ("page=0", "page must be 1 or more"),
        ("page=1.5", "page must be a whole number"),
        ("page=99999999999999999999", "page must be at most"),
        ("page=%D9%A3", "page must be a whole number"),  # an Arabic-Indic digit
        ("per_page=100000", "per_page must be at most 200"),
        ("per_page=0", "per_page must be 1 or more"),
        ("kind=pod", "unknown kind"),
        ("health=fine", "unknown health"),
        ("meshed=maybe", "meshed must be yes or no"),
        ("ns=Bad_Name", "not a valid namespace"),
        ("ns=-leading", "not a valid namespace"),
        ("ns=" + "a" * 64, "not a valid namespace"),
        ("q=.*", "search matches workload names"),
        ("q=a%27%20OR%201%3D1--", "search matches workload names"),
        ("q=%5Bx%5D", "search matches workload names"),
        ("q=" + "a" * 254, "longer than 253"),
        ("team=%3Cscript%3E", "team must be"),
        ("sort=rps&sort=name", "sort may be given once"),
    ],
)
def test_it_refuses_bad_input_with_a_reason(qs, reason):
    with pytest.raises(BadQuery, match=reason):
        parse(qs)


def test_it_refuses_too_many_namespaces():
    with pytest.raises(BadQuery, match="at most 100 namespaces"):
        parse("&".join(f"ns=n{i}" for i in range(101)))


def test_it_refuses_unknown_windows():
    with pytest.raises(BadQuery, match="unknown window"):
        parse_list_params(QueryDict("window=5m"), "1m")
