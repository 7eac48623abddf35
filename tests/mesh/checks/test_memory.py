import pytest

from meshdash.mesh.checks import CRITICAL, INFO, WARNING, CheckHistory, PodHistory
from meshdash.mesh.checks.memory import (
    check_limit_for_traffic,
    check_memory_growth,
    check_memory_share,
    check_oom,
)

from .helpers import DAY, MIB, NOW, ctx, pod, snapshot


def at_share(share):
    limit = 100 * MIB
    return ctx(snapshot([pod(proxy_memory_bytes=share * limit, proxy_memory_limit_bytes=limit)]))


@pytest.mark.parametrize(
    "share, severity",
    [
        (0.79, None),
        (0.8, WARNING),
        (0.81, WARNING),
        (0.949, WARNING),
        (0.95, CRITICAL),
        (0.99, CRITICAL),
    ],
)
def test_memory_share_thresholds(share, severity):
    found = check_memory_share(at_share(share))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert found[0].subject[0].kind == "pod" and found[0].subject[1].name == "web"


def test_memory_share_without_limit():
    assert check_memory_share(ctx(snapshot([pod(proxy_memory_bytes=500 * MIB)]))) == []


def series(start_mib, mib_per_week, days=14, step=3600):
    points = []
    for i in range(int(days * DAY / step)):
        t = NOW - days * DAY + i * step
        points.append((t, (start_mib + mib_per_week * (t - (NOW - days * DAY)) / (7 * DAY)) * MIB))
    return tuple(points)


def growth_ctx(mib_per_week, limit_mib=64, now_mib=None, pods=2):
    hist, live = [], []
    for i in range(pods):
        name = f"web-{i}"
        s = series(10, mib_per_week)
        hist.append(PodHistory("shop", name, "deployment", "web", memory=s))
        live.append(
            pod(
                name,
                proxy_memory_bytes=(now_mib * MIB if now_mib else s[-1][1]),
                proxy_memory_limit_bytes=limit_mib * MIB,
            )
        )
    return ctx(snapshot(live), history=CheckHistory(hist))


@pytest.mark.parametrize(
    "growth, found", [(0.9, False), (0.999, False), (1.0, True), (1.1, True), (2.0, True)]
)
def test_memory_growth_threshold(growth, found):
    got = check_memory_growth(growth_ctx(growth))
    assert bool(got) == found
    if got:
        assert got[0].severity == WARNING
        assert "a week" in got[0].summary and "at its limit around" in got[0].summary


def test_memory_growth_projected_date_makes_it_critical():
    # 60 MiB used of 64, 2 MiB a week: two weeks left -> critical at 14 days.
    (got,) = check_memory_growth(growth_ctx(2.0, now_mib=60))
    assert got.severity == CRITICAL
    (date,) = [e for e in got.evidence if e.label == "projected to reach the limit"]
    assert date.value == "2027-01-29"
    (got,) = check_memory_growth(growth_ctx(2.0, now_mib=59))  # 2.5 weeks
    assert got.severity == WARNING


def test_memory_growth_ranked_fastest_first():
    hist = [
        PodHistory("shop", "slow-1", "deployment", "slow", memory=series(10, 1.5)),
        PodHistory("shop", "fast-1", "deployment", "fast", memory=series(10, 5.0)),
    ]
    got = check_memory_growth(ctx(history=CheckHistory(hist)))
    from meshdash.mesh.checks import worst_first

    assert [f.subject[0].name for f in worst_first(got)] == ["fast", "slow"]


def test_memory_growth_needs_history_and_enough_points():
    assert check_memory_growth(ctx()) == []
    short = [PodHistory("shop", "web-1", "deployment", "web", memory=series(10, 5, days=0.5))]
    assert check_memory_growth(ctx(history=CheckHistory(short))) == []
    assert check_memory_growth(ctx(history=CheckHistory(short), memory_growth_min_points=5))


def test_proxy_oom_told_apart_from_application_oom():
    pods = [
        pod("web-1", proxy_last_termination="OOMKilled", proxy_restarts=3),
        pod(
            "api-1",
            workload="api",
            app_last_termination="OOMKilled",
            app_last_termination_container="app",
        ),
    ]
    found = {f.subject[0].name: f for f in check_oom(ctx(snapshot(pods)))}
    assert found["web"].severity == CRITICAL and "Proxy OOMKilled" in found["web"].summary
    assert found["api"].severity == INFO and "not the proxy" in found["api"].summary


@pytest.mark.parametrize(
    "rps, limit_mib, found",
    [(99.9, 64, False), (100, 64, True), (150, 64, True), (150, 65, False), (150, 32, True)],
)
def test_limit_below_traffic_need(rps, limit_mib, found):
    p = pod(rps=rps, proxy_memory_limit_bytes=limit_mib * MIB, proxy_memory_bytes=30 * MIB)
    got = check_limit_for_traffic(ctx(snapshot([p])))
    assert bool(got) == found
    if got:
        assert "config.linkerd.io/proxy-memory-limit" in got[0].fix[0]


class CountedPoints(tuple):
    """A pod's memory points that count how often a check reads them through."""

    reads = 0

    def __iter__(self):
        type(self).reads += 1
        return super().__iter__()


def test_memory_growth_fits_each_pods_week_once_per_history():
    CountedPoints.reads = 0
    hist = CheckHistory(
        [
            PodHistory(
                "shop", f"web-{i}", "deployment", "web", memory=CountedPoints(series(10, 2.0))
            )
            for i in range(3)
        ]
    )
    live = growth_ctx(2.0).snapshot  # web-0..web-1 running, on a 64 MiB limit
    first = check_memory_growth(ctx(live, history=hist))
    again = check_memory_growth(ctx(live, history=hist))
    assert first == again and first[0].severity in (WARNING, CRITICAL)
    assert CountedPoints.reads == 3  # one fit per pod, not one per collection
    known, slope, last = hist.pods[0].memory_trend
    assert known == 14 * 24 and last == series(10, 2.0)[-1][1]
    assert slope == pytest.approx(2.0 * MIB, rel=1e-6)


def test_memory_trend_skips_unknown_values():
    points = ((NOW - 7200, None), (NOW - 3600, 10 * MIB), (NOW, 11 * MIB))
    trend = PodHistory("shop", "web-1", "deployment", "web", memory=points).memory_trend
    assert trend[0] == 2 and trend[2] == 11 * MIB
    assert trend[1] == pytest.approx(MIB * 7 * 24)
    assert PodHistory("shop", "web-1", "", "").memory_trend == (0, None, None)
