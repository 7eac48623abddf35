"""The arithmetic behind the golden metrics, free of Django, Redis and HTTP.

Quantiles follow Prometheus's ``histogram_quantile`` (promql/quantile.go) rule for rule, so a
p99 meshdash derives from one bucket aggregation equals the one Prometheus would compute from
``histogram_quantile(0.99, ...)`` over the same buckets.
"""

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_BOUND = operator.itemgetter(0)  # a bucket's upper bound: the sort key, without a lambda


def success_rate(success: float, failure: float) -> float | None:
    """The fraction of responses classified as success; None when there were none."""
    total = success + failure
    if total <= 0:
        return None
    return success / total


def per_second(increase: float, window_seconds: float) -> float:
    """A count over a window as a rate, the way Linkerd's dashboard turns counts into RPS."""
    if window_seconds <= 0:
        raise ValueError("window must be positive")
    return increase / window_seconds


def parse_le(text: str) -> float:
    """A bucket's upper bound from its ``le`` label (``+Inf`` included); ValueError otherwise."""
    value = float(text)
    if math.isnan(value):
        raise ValueError(f"le={text!r} is not a bound")
    return value


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The q-quantile of cumulative buckets ``(upper_bound, count)``, as Prometheus computes it.

    None where Prometheus answers NaN: no ``+Inf`` bucket, fewer than two buckets, or no
    observations. Buckets may come in any order; duplicate bounds are added together and counts
    that go down are raised to the running maximum, as Prometheus does for series that were
    scraped at slightly different times.
    """
    return histogram_quantiles((q,), buckets)[0]


def histogram_quantiles(
    qs: Sequence[float], buckets: Iterable[tuple[float, float]]
) -> list[float | None]:
    """``histogram_quantile`` for each of ``qs``, sorting and merging the buckets only once."""
    prepared = _prepare(buckets)
    return [_quantile(q, prepared) for q in qs]


def _prepare(buckets: Iterable[tuple[float, float]]) -> tuple[list, list] | None:
    """Sorted bounds and their cumulative counts, or None where every quantile is NaN."""
    ordered = sorted(buckets, key=_BOUND)
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return None
    bounds: list[float] = []
    counts: list[float] = []
    for bound, count in ordered:
        if bounds and bound == bounds[-1]:
            counts[-1] += count
        else:
            bounds.append(bound)
            counts.append(count)
    running = -math.inf
    for i, count in enumerate(counts):
        if count > running:
            running = count
        else:
            counts[i] = running
    if len(bounds) < 2 or counts[-1] == 0:
        return None
    return bounds, counts


def _quantile(q: float, prepared: tuple[list, list] | None) -> float | None:
    if math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if prepared is None:
        return None
    bounds, counts = prepared
    rank = q * counts[-1]
    # The first bucket holding the rank, searched among all but the +Inf bucket.
    b = next((i for i in range(len(bounds) - 1) if counts[i] >= rank), len(bounds) - 1)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    bucket_start = 0.0
    bucket_end = bounds[b]
    count = counts[b]
    if b > 0:
        bucket_start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return bucket_start + (bucket_end - bucket_start) * (rank / count)


@dataclass(frozen=True)
class Identity:
    """A Linkerd workload identity: ``<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>``."""

    service_account: str
    namespace: str
    control_plane_namespace: str
    trust_domain: str


def parse_identity(text: str) -> Identity | None:
    """The parts of a Linkerd proxy identity, or None for anything else (including empty)."""
    parts = (text or "").split(".")
    if len(parts) < 6 or parts[2] != "serviceaccount" or parts[3] != "identity":
        return None
    if not parts[0] or not parts[1] or not parts[4]:
        return None
    return Identity(
        service_account=parts[0],
        namespace=parts[1],
        control_plane_namespace=parts[4],
        trust_domain=".".join(parts[5:]),
    )


# The gRPC status codes Linkerd counts as failures by default (linkerd2-proxy,
# proxy/client-policy/src/grpc.rs, ``impl Default for Codes``), by number and by the names
# the Gateway API route metrics print. Every other code, NOT_FOUND included, is a success.
GRPC_FAILURE_CODES: dict[str, str] = {
    "2": "UNKNOWN",
    "4": "DEADLINE_EXCEEDED",
    "7": "PERMISSION_DENIED",
    "13": "INTERNAL",
    "14": "UNAVAILABLE",
    "15": "DATA_LOSS",
}
_GRPC_FAILURES = frozenset(GRPC_FAILURE_CODES) | frozenset(GRPC_FAILURE_CODES.values())


def http_route_succeeded(http_status: str, error: str) -> bool:
    """An HTTPRoute request's outcome: a failure if the stream failed or the status is 5xx."""
    return not error and not http_status.startswith("5")


def grpc_route_succeeded(grpc_status: str, error: str) -> bool:
    """A GRPCRoute request's outcome: a failure if the stream failed or its status is one of
    Linkerd's failure codes (a stream that ended without a status is UNKNOWN)."""
    return not error and grpc_status.upper() not in _GRPC_FAILURES


def normalise_version(version: str) -> str:
    """A Linkerd version as meshdash compares it: proxies built since 2.16 drop the ``v`` of
    ``v2.294.0``, so the ``v`` goes; release names (``edge-25.4.4``) are kept as they are."""
    text = (version or "").strip()
    if len(text) > 1 and text[0] in "vV" and text[1].isdigit():
        return text[1:]
    return text


def versions_comparable(a: str, b: str) -> bool:
    """Whether two versions use one scheme: both release names (``stable-2.14.10``,
    ``edge-25.4.4``) or both proxy builds (``2.294.0``). A release and a build cannot skew."""
    a, b = normalise_version(a), normalise_version(b)
    return bool(a) and bool(b) and a[0].isdigit() == b[0].isdigit()
