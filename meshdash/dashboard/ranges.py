"""The history a workload page shows over its time range (``?range=`` or ``?from=&to=``): its
charts, its pods' charts and its baselines, read through meshdash.history.read.

The same functions serve the live page and the frozen copy of a range (dashboard.freezing), so
a frozen incident draws exactly as the page did.
"""

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace

from django.http import QueryDict

from meshdash.dashboard import charts
from meshdash.dashboard.filters import TimeRange
from meshdash.history import read as history
from meshdash.lib.templatetags.meshdash import ms, percent, rps, with_query
from meshdash.mesh.history import DEFAULT_RANGE, POD, RANGES, WORKLOAD, roll_up

WORKLOAD_CHART_WIDTH = 360
POD_CHART_WIDTH = 280
NOT_ENOUGH_HISTORY = "not enough history yet"


def range_links(time_range: TimeRange) -> list[dict]:
    """The range selector: each named range, the current one marked."""
    return [
        {"name": name, "current": name == time_range.name, "default": name == DEFAULT_RANGE}
        for name in RANGES
    ]


def range_context(time_range: TimeRange, window_params: QueryDict) -> dict:
    """The range, its selector, ``history_query`` (the query string that keeps the window and
    the range in the links the history region loads: a pod's charts) and ``backfill``, the
    progress of filling a fresh install's history from Prometheus."""
    kept = window_params.copy()
    kept.update(time_range.params(DEFAULT_RANGE))
    return {
        "time_range": time_range,
        "ranges": range_links(time_range),
        "history_query": with_query("", kept),
        "backfill": history.backfill_status(),
    }


def workload_charts(series) -> list[charts.Chart]:
    return charts.series_charts(series, charts.WORKLOAD_CHARTS, width=WORKLOAD_CHART_WIDTH)


def pod_charts(series) -> list[charts.Chart]:
    return charts.series_charts(series, charts.POD_CHARTS, width=POD_CHART_WIDTH)


def workload_series(key, time_range: TimeRange, window: str):
    return history.workload_history(key, time_range.start, time_range.end, window=window)


def pods_series(key, time_range: TimeRange) -> dict:
    """Pod name -> series, for the pods of the workload with points in the range (bounded by
    meshdash.history.read.MAX_PODS)."""
    return history.workload_pods_history(key, time_range.start, time_range.end)


def pod_series(namespace: str, pod: str, time_range: TimeRange):
    return history.pod_history(namespace, pod, time_range.start, time_range.end)


def workload_baselines(key, window: str, now: float | None = None):
    return history.baselines(key, now, window=window)


# --- Baselines: the last hour against the same hour yesterday and a week ago.

BASELINE_METRICS = (
    ("success_rate", "Success rate", percent),
    ("p99", "P99 latency", ms),
    ("rps", "Requests per second", rps),
)
BASELINE_TIMES = (("yesterday", "Same hour yesterday"), ("week_ago", "Same hour a week ago"))


@dataclass(frozen=True)
class Comparison:
    text: str  # the value then, or NOT_ENOUGH_HISTORY
    change: str  # "" when either side is unknown
    worse: bool


@dataclass(frozen=True)
class BaselineRow:
    label: str
    now: str
    then: list[Comparison]


def _change(metric: str, now: float | None, then: float | None) -> tuple[str, bool]:
    """The change from ``then`` to ``now`` as written, and whether it is for the worse."""
    if now is None or then is None:
        return "", False
    if metric == "success_rate":
        points = (now - then) * 100
        return f"{points:+.2f} pt", points <= -0.01
    if not then:
        return "", False
    share = (now - then) / then * 100
    return f"{share:+.0f} %", metric == "p99" and share >= 1


def baseline_rows(baselines) -> list[BaselineRow]:
    """Each compared metric: the last hour, then each earlier time with its change (success
    rates in percentage points, the rest in per cent); NOT_ENOUGH_HISTORY where history is
    missing. A slower p99 or a lower success rate is marked worse; RPS has no better side."""
    rows = []
    for metric, label, written in BASELINE_METRICS:
        now = getattr(baselines.now, metric) if baselines.now else None
        then = []
        for attr, _ in BASELINE_TIMES:
            point = getattr(baselines, attr)
            if point is None:
                then.append(Comparison(NOT_ENOUGH_HISTORY, "", False))
                continue
            value = getattr(point, metric)
            change, worse = _change(metric, now, value)
            then.append(Comparison(written(value), change, worse))
        rows.append(BaselineRow(label, written(now) if baselines.now else NOT_ENOUGH_HISTORY, then))
    return rows


def baselines_json(baselines) -> dict:
    """``now``, ``yesterday``, ``week_ago``: each the hour's success_rate, p99 and rps (and
    ``t``, the time compared), or null where the history has nothing; ``missing`` lists those,
    ``note`` says why."""
    found = {}
    for attr in ("now", "yesterday", "week_ago"):
        point = getattr(baselines, attr)
        values = {metric: getattr(point, metric, None) for metric, *_ in BASELINE_METRICS}
        found[attr] = None if point is None else {"t": point.t, **values}
    missing = [attr for attr, value in found.items() if value is None]
    return {**found, "missing": missing, "note": NOT_ENOUGH_HISTORY if missing else ""}


# --- Frozen copies: what an incident link keeps of a range, as JSON, and the charts again.

# Bounds on one frozen copy, which outlives the history it was read from: the workload's points
# (30 days at the hourly resolution), the pods kept and each pod's points. About 150 kB of JSON
# at most; a user keeps at most MESHDASH_FROZEN_VIEWS_PER_USER copies.
FROZEN_WORKLOAD_POINTS = 720
FROZEN_PODS = 20
FROZEN_POD_POINTS = 120


def series_json(series, scope, max_points: int) -> dict:
    """A series as JSON, rolled up to at most about ``max_points`` points (coarser buckets
    aggregated as the history's own tiers are: meshdash.mesh.history.roll_up)."""
    points = [dataclasses.astuple(point) for point in series.points]
    step = series.step
    slots = (series.end - series.start) // step if step else 0
    if step and slots > max_points:
        step *= -(-slots // max_points)
        points = roll_up(scope, step, points)
    return {
        "start": series.start,
        "end": series.end,
        "step": step,
        "deploys": list(series.deploys),
        "points": [list(point) for point in points],
    }


def series_from_json(data: dict, point_class):
    return history.Series(
        start=data["start"],
        end=data["end"],
        step=data["step"],
        points=[point_class(*point) for point in data["points"]],
        deploys=list(data.get("deploys", [])),
    )


def frozen_history_json(key, time_range: TimeRange, window: str) -> dict:
    """What a frozen copy of a workload page keeps of its range: the workload's series, its
    pods' series (the first FROZEN_PODS by name) and the baselines at the range's end."""
    pods = pods_series(key, time_range)
    return {
        "range": {"name": time_range.name, "start": time_range.start, "end": time_range.end},
        "workload": series_json(
            workload_series(key, time_range, window), WORKLOAD, FROZEN_WORKLOAD_POINTS
        ),
        "pods": {
            name: series_json(series, POD, FROZEN_POD_POINTS)
            for name, series in sorted(pods.items())[:FROZEN_PODS]
        },
        "pods_not_kept": max(0, len(pods) - FROZEN_PODS),
        "baselines": baselines_json(workload_baselines(key, window, now=time_range.end)),
    }


def _baselines_from_json(data: dict):
    def point(value):
        return None if value is None else SimpleNamespace(**value)

    return SimpleNamespace(
        **{attr: point(data.get(attr)) for attr in ("now", "yesterday", "week_ago")}
    )


@dataclass(frozen=True)
class FrozenHistory:
    time_range: TimeRange
    charts: list
    pods: list  # (pod name, its charts)
    pods_not_kept: int
    baselines: list


def frozen_history(data: dict) -> FrozenHistory:
    """The charts and baselines of a frozen copy (``frozen_history_json``), drawn as the live
    page draws them."""
    span = data["range"]
    return FrozenHistory(
        time_range=TimeRange(span["name"], span["start"], span["end"]),
        charts=workload_charts(series_from_json(data["workload"], history.WorkloadPoint)),
        pods=[
            (name, pod_charts(series_from_json(series, history.PodPoint)))
            for name, series in data["pods"].items()
        ],
        pods_not_kept=data.get("pods_not_kept", 0),
        baselines=baseline_rows(_baselines_from_json(data["baselines"])),
    )
