# The collector tests' sources: a Prometheus holding known series and the API server stand-in.
from tests.collectors.conftest import backfilled_prometheus, kube_api  # noqa: F401
