"""Whatever the query string, a list URL answers without a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

LIST_URLS = ["/", "/workloads/", "/namespaces/", "/namespaces/shop/",
             "/workloads/shop/deployment/frontend/", "/api/v1/workloads", "/api/v1/namespaces",
             "/api/v1/workloads/shop/deployment/frontend", "/workloads.csv"]
KEYS = ["page", "per_page", "sort", "dir", "ns", "kind", "health", "meshed", "q", "window",
        "team", "x"]
# Plausible values, edge cases and arbitrary text, including what breaks parsers and stores.
VALUES = st.one_of(
    st.sampled_from(["1", "0", "-1", "2", "999999999999999999999", "1e3", "50", "200", "201",
                     "rps", "name", "desc", "asc", "shop", "Shop", "deployment", "critical",
                     "yes", "no", "1m", "10m", "1h", "5m", "svc", ".*", "%", "' OR 1=1 --",
                     "<script>", "\x00", "a" * 300, "١٢", "ﬁ", " ", ""]),
    st.text(max_size=40),
)
PAIRS = st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), VALUES),
                 max_size=6)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.sampled_from(LIST_URLS), pairs=PAIRS)
def test_it_never_answers_a_server_error(client, known, url, pairs):
    response = client.get(url, pairs)
    assert response.status_code < 500, (url, pairs, response.content[:300])
    assert response.status_code in (200, 400), (url, pairs)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(max_size=80))
def test_it_survives_raw_query_strings(client, known, raw):
    response = client.get("/workloads/?" + raw)
    assert response.status_code in (200, 400)
