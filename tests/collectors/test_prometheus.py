"""PromQL builders and the client's configuration: pure logic, no Prometheus needed."""

import re
import string

from meshdash.collectors.prometheus import (
    WINDOW_QUERIES,
    PrometheusClient,
    collection_queries,
    namespace_shards,
)


def _matches(matcher: str, namespace: str) -> bool:
    """A ``namespace=~"..."`` matcher applied as Prometheus does: anchored at both ends."""
    pattern = re.fullmatch(r'namespace=~"(.*)"', matcher)[1]
    return re.fullmatch(pattern, namespace) is not None


def test_it_splits_namespaces_into_shards_that_cover_each_exactly_once():
    for count in (2, 3, 4, 7, 36, 100):
        shards = namespace_shards(count)
        assert len(shards) == min(count, 36)
        for first in string.ascii_lowercase + string.digits:
            namespace = f"{first}-team-9"
            assert sum(_matches(shard, namespace) for shard in shards) == 1, (count, namespace)


def test_it_does_not_split_a_single_shard():
    assert namespace_shards(1) == [""]
    assert namespace_shards(0) == [""]


def test_it_runs_a_fixed_number_of_queries_with_the_heaviest_one_sharded():
    plain = collection_queries("1m")
    assert sum(map(len, plain.values())) == len(WINDOW_QUERIES) + 1
    sharded = collection_queries("1m", {"latency": 4})
    assert len(sharded["latency"]) == 4
    assert all('namespace=~"[' in promql for promql in sharded["latency"])
    assert sum(map(len, sharded.values())) == len(WINDOW_QUERIES) + 4
    # The heaviest query is sent first, so that it starts at once.
    assert next(iter(sharded)) == "latency"


def test_it_takes_its_configuration_from_the_settings(settings):
    settings.PROMETHEUS_URL = "http://prometheus.example:9090"
    settings.PROMETHEUS_TIMEOUT_SECONDS = 7.5
    settings.PROMETHEUS_MAX_CONCURRENCY = 3
    settings.PROMETHEUS_SHARDS = 5
    client = PrometheusClient.from_settings()
    assert (client.url, client.timeout, client.max_concurrency) == (
        "http://prometheus.example:9090",
        7.5,
        3,
    )
    assert len(collection_queries("1m", client.shards)["latency"]) == 5
    assert len(collection_queries("1m", client.shards)["pods"]) == 5


def test_it_takes_the_proxy_admin_port_from_the_settings(settings):
    settings.MESHDASH_PROXY_ADMIN_PORT = 9991
    client = PrometheusClient.from_settings()
    queries = collection_queries("1m", client.shards, client.admin_port)
    for name in ("inbound", "latency", "clients", "edges", "edge_latency", "tcp"):
        assert 'target_port!="9991"' in queries[name][0], name
        assert "4191" not in queries[name][0], name
    # Probes of the application's own port are kept out of the inbound numbers too.
    for name in ("inbound", "latency", "clients"):
        assert 'route_name!="probe"' in queries[name][0], name
