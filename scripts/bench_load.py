#!/usr/bin/env python
"""`make bench-load`: meshdash under load, over a long soak and through faults, in one run.

Starts the demo stack (scripts/demo.py: private Redis, the demo mesh at --workloads workloads,
Prometheus, a Celery worker and beat, gunicorn with two workers) under var/bench-load/, with its
own SQLite database and a fault proxy (tests/resilience/faults.py) between the collectors and the
demo's Kubernetes API. Prepared users (sessions and API tokens, in two teams, with bookmarks)
browse it through locust (scripts/locustfile.py, headless), as people do. Then:

1. Load: --users (default 8,32,128) concurrent users, --stage-seconds each: throughput,
   p50/p95/p99, errors, the CPU of each process group (web workers, Redis, Celery worker, beat,
   Prometheus, demo mesh, the load generator itself) and of the whole machine, what saturates
   first, and the web and Redis CPU per request (less what they use idle, measured first).
2. Soak: --soak-minutes (default 30) of collections and browsing (saving and deleting bookmarks
   too): the RSS of web, worker and Redis sampled every 10 s; each minute's lowest sample makes
   the series whose least-squares slope is printed (after a warm-up of a fifth of the soak). A
   slope above --max-growth-mb-per-hour that adds up to more than --min-growth-mb fails the run.
3. Faults during load, one at a time: Prometheus killed and restarted; Prometheus hung (SIGSTOP)
   for --hang-seconds (90); the Kubernetes API answering 500, then garbage, then hanging; Redis
   restarted; the worker SIGKILLed mid-collection; beat killed and restarted. For each: the 5xx
   the users got, seconds until the pages said stale (or, for Redis, unavailable), seconds to
   recover once the fault ended, and a checksum of the users, teams and bookmarks rows before
   and after (the users only read during faults, so any change is the fault's).

It prints tables for the README and writes bench-load-results.json. Exit status 1 when the soak
grows past the bound, a checksum changes, or a 5xx other than Redis's documented 503 is seen.
`--workloads 300 --soak-minutes 2 --users 8,32` is a quick try.
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import demo  # noqa: E402  (scripts/demo.py: the stack and its children)

from meshdash.lib import processes  # noqa: E402
from tests.resilience.faults import FaultProxy  # noqa: E402

OUT_DIR = ROOT / "var" / "bench-load"
RESULTS = ROOT / "bench-load-results.json"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
WEB_WORKERS = 2  # scripts/demo.py start_web
GROUPS = ("web", "redis", "worker", "beat", "prometheus", "demo-mesh", "load generator")
STALE_BANNER = 'class="banner stale"'
TEAMS = ("payments", "search")
PHASES = ("load", "soak", "faults")


# --- Processes: CPU and memory of each child's process group, from /proc. -----------------


def proc_stats() -> dict[int, tuple[int, int]]:
    """pgid -> (CPU ticks, RSS bytes) summed over the group's live processes."""
    groups: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        pgid, ticks, rss = int(fields[2]), int(fields[11]) + int(fields[12]), int(fields[21])
        total = groups.setdefault(pgid, [0, 0])
        total[0] += ticks
        total[1] += rss * PAGE_BYTES
    return {pgid: (ticks, rss) for pgid, (ticks, rss) in groups.items()}


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Meter:
    """CPU seconds and RSS of each named process group between two readings."""

    def __init__(self, bench: "Bench"):
        self.bench = bench
        self.started = time.monotonic()
        self.cpu0 = self.cpu()
        self.machine0 = machine_ticks()

    def cpu(self) -> dict[str, float]:
        stats = proc_stats()
        return {
            name: stats.get(pgid, (0, 0))[0] / CLOCK_TICKS
            for name, pgid in self.bench.pgids().items()
        }

    def read(self) -> dict:
        seconds = time.monotonic() - self.started
        cpu1 = self.cpu()
        busy1, total1 = machine_ticks()
        busy0, total0 = self.machine0
        used = {name: max(0.0, cpu1.get(name, 0.0) - self.cpu0.get(name, 0.0)) for name in cpu1}
        return {
            "seconds": seconds,
            "cpu_seconds": used,
            "cores": {name: value / seconds for name, value in used.items()},
            "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
        }


def rss_mb(bench: "Bench") -> dict[str, float]:
    stats = proc_stats()
    return {name: stats.get(pgid, (0, 0))[1] / 2**20 for name, pgid in bench.pgids().items()}


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, MB) points, in MB per hour."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 60 * sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


# --- The stack. -------------------------------------------------------------------------------


class KubeFaults:
    """The fault proxy between the collectors and the demo's Kubernetes API. Collectors read the
    kubeconfig at each collection, so pointing the demo's kubeconfig at the proxy is enough."""

    def __init__(self, kubeconfig: Path):
        import yaml

        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        self.proxy = FaultProxy(cluster["server"])
        # A collector killed mid-request resets its connection: expected here, not worth a trace.
        self.proxy.handle_error = lambda request, client_address: None
        cluster["server"] = self.proxy.url
        staged = kubeconfig.with_suffix(".proxied")
        staged.write_text(yaml.safe_dump(config))
        staged.replace(kubeconfig)

    def stop(self) -> None:
        self.proxy.stop()


class Bench:
    def __init__(self, args):
        self.args = args
        self.stack = demo.Stack()
        self.locust: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.base = ""
        self.kube: KubeFaults | None = None

    def pgids(self) -> dict[str, int]:
        groups = {c.name: c.proc.pid for c in self.stack.children if c.proc.poll() is None}
        if self.locust is not None and self.locust.poll() is None:
            groups["load generator"] = self.locust.pid
        return groups

    def child(self, name: str) -> demo.Child:
        return next(c for c in self.stack.children if c.name == name)

    def respawn(self, name: str) -> demo.Child:
        """The child started again with the same command (same port, same data directory)."""
        old = self.child(name)
        processes.signal_group(old.proc, signal.SIGKILL)
        old.proc.wait()
        self.stack.children.remove(old)
        if old.log.exists():
            old.log.rename(old.log.with_suffix(f".{int(time.time())}.log"))
        return self.stack.start(name, list(old.proc.args), self.env)

    def start(self) -> None:
        workloads = self.args.workloads
        prometheus_port = processes.free_port()
        demo.start_stack(
            self.stack,
            self.env,
            workloads,
            demo.binary("redis-server"),
            demo.binary("prometheus"),
            prometheus_port,
        )
        self.kube = KubeFaults(Path(self.env["KUBECONFIG"]))
        web_port = processes.free_port()
        demo.start_web(self.stack, web_port, self.env)
        self.base = f"http://127.0.0.1:{web_port}"

    def stop(self) -> None:
        self.stop_locust()
        self.stack.stop()
        if self.kube is not None:
            self.kube.stop()

    def check_alive(self, allowed_dead: tuple[str, ...] = ()) -> None:
        for child in self.stack.children:
            if child.name not in allowed_dead and child.proc.poll() is not None:
                raise demo.DemoError(
                    f"{child.name} exited with code {child.proc.returncode}: see {child.log}"
                )

    # --- locust ---

    def start_locust(self, users: int, seconds: float, name: str, *, write: bool) -> Path:
        prefix = OUT_DIR / "locust" / name
        prefix.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "locust", "-f", str(ROOT / "scripts" / "locustfile.py"),
            "--headless", "--users", str(users), "--spawn-rate", str(users),
            "--run-time", f"{int(seconds)}s", "--host", self.base, "--csv", str(prefix),
            "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
        ]  # fmt: skip
        if not write:
            command += ["--exclude-tags", "write"]
        env = dict(
            self.env,
            BENCH_LOAD_USERS=str(OUT_DIR / "users.json"),
            BENCH_LOAD_TIMELINE=str(OUT_DIR / "timeline.jsonl"),
            BENCH_LOAD_THINK=self.args.think,
        )
        with open(prefix.with_suffix(".log"), "wb") as log:
            self.locust = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        return prefix

    def wait_locust(self, timeout: float) -> None:
        try:
            self.locust.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop_locust()

    def stop_locust(self) -> None:
        if self.locust is not None and self.locust.poll() is None:
            processes.signal_group(self.locust, signal.SIGTERM)
            try:
                self.locust.wait(30)
            except subprocess.TimeoutExpired:
                processes.signal_group(self.locust, signal.SIGKILL)
                self.locust.wait()


def locust_totals(prefix: Path) -> dict:
    import csv

    with open(f"{prefix}_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    total = next(row for row in rows if row["Name"] == "Aggregated")

    def number(key):
        value = total.get(key) or "0"
        return float(value) if value not in ("N/A", "") else 0.0

    return {
        "requests": int(number("Request Count")),
        "failures": int(number("Failure Count")),
        "rps": number("Requests/s"),
        "p50_ms": number("50%"),
        "p95_ms": number("95%"),
        "p99_ms": number("99%"),
        "by_page": {
            row["Name"]: {"requests": int(row["Request Count"]), "p95_ms": row["95%"]}
            for row in rows
            if row["Name"] != "Aggregated"
        },
    }


def statuses_between(start: float, end: float) -> dict[int, int]:
    counts: dict[int, int] = {}
    path = OUT_DIR / "timeline.jsonl"
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        point = json.loads(line)
        # Each line counts the second before its time.
        if start <= point["t"] <= end + 1.0:
            for status, count in point["status"].items():
                counts[int(status)] = counts.get(int(status), 0) + count
    return counts


def server_errors(counts: dict[int, int]) -> int:
    return sum(count for status, count in counts.items() if status >= 500 or status == 0)


# --- Users, teams, bookmarks and their checksum (Django, in this process). -------------------


def prepare_users(count: int) -> list[dict]:
    """``count`` users and a probe user, signed in (sessions in the database) with a write token
    each, in two teams, each with a private, a team and a public bookmark."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from meshdash.accounts.models import WRITE, ApiToken, TeamProfile
    from meshdash.bookmarks.models import Bookmark

    teams = []
    for name in TEAMS:
        team, _ = Group.objects.get_or_create(name=name)
        TeamProfile.objects.get_or_create(team=team, defaults={"namespaces": [f"{name}-0"]})
        teams.append(team)
    users = []
    for number in range(count + 1):
        username = "bench-probe" if number == count else f"bench-{number:03d}"
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            team = teams[number % len(teams)]
            user.groups.add(team)
            for visibility, url in (
                ("private", "/workloads/?sort=rps&dir=desc"),
                ("team", "/workloads/?health=critical"),
                ("everyone", "/namespaces/?sort=health"),
            ):
                path, _, query = url.partition("?")
                Bookmark.objects.create(
                    owner=user, title=f"{username} {visibility}", path=path, query=query,
                    visibility=visibility, team=team if visibility == "team" else None,
                )  # fmt: skip
        client = Client()
        client.force_login(user)
        _, token = ApiToken.issue(user, "bench-load", scope=WRITE)
        users.append(
            {
                "username": username,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "csrf": secrets.token_hex(16),
                "token": token,
            }
        )
    return users


def rows_checksum() -> str:
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from meshdash.accounts.models import TeamProfile
    from meshdash.bookmarks.models import Bookmark

    connection.close()  # a fresh read of what the web processes committed
    user_fields = [f.name for f in User._meta.concrete_fields if f.name != "last_login"]
    rows = [
        list(User.objects.order_by("pk").values_list(*user_fields)),
        list(User.groups.through.objects.order_by("pk").values_list()),
        list(Group.objects.order_by("pk").values_list()),
        list(TeamProfile.objects.order_by("pk").values_list()),
        list(TeamProfile.admins.through.objects.order_by("pk").values_list()),
        list(Bookmark.objects.order_by("pk").values_list()),
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]


# --- What a person sees: the probe. ----------------------------------------------------------


class Probe:
    """A signed-in user reading the API and the workload list: fresh, stale or unavailable."""

    def __init__(self, base: str, user: dict):
        self.base = base
        self.headers = {"Cookie": f"{user['session_cookie']}={user['session']}"}

    def get(self, path: str) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=self.headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError:
            return 0, ""

    def state(self) -> dict:
        status, body = self.get("/api/v1/workloads?per_page=1")
        snapshot = {}
        if status == 200:
            snapshot = json.loads(body).get("snapshot", {})
        page_status, page = self.get("/workloads/?per_page=25")
        return {
            "api": status,
            "page": page_status,
            "stale": bool(snapshot.get("stale")) or STALE_BANNER in page,
            "reason": snapshot.get("reason") or snapshot.get("failure_reason") or "",
            "taken_at": snapshot.get("taken_at"),
        }

    def fresh(self) -> bool:
        state = self.state()
        return state["api"] == 200 and state["page"] == 200 and not state["stale"]

    def says_trouble(self) -> bool:
        state = self.state()
        return state["stale"] or state["api"] == 503 or state["page"] == 503


def wait_for(check, timeout: float, interval: float = 0.5) -> float | None:
    """Seconds until ``check()`` is true, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return round(time.monotonic() - started, 1)
        time.sleep(interval)
    return None


# --- The phases. -------------------------------------------------------------------------------


WARM_UP_PATHS = (
    "/", "/workloads/", "/workloads/?sort=rps&dir=desc", "/namespaces/", "/bookmarks/",
    "/api/v1/workloads", "/api/v1/namespaces", "/api/v1/bookmarks",
)  # fmt: skip


def warm_up(probe: Probe, rounds: int = 5) -> None:
    """Each page type a few times in each web worker: the first requests import and compile."""
    for _ in range(rounds):
        for path in WARM_UP_PATHS:
            probe.get(path)


def idle_baseline(bench: Bench, seconds: float) -> dict:
    meter = Meter(bench)
    time.sleep(seconds)
    return meter.read()


def saturation(cores: dict[str, float], machine_busy: float) -> str:
    """The group nearest its ceiling: web workers run one request each (two workers), each
    Redis (snapshots, result cache) one command at a time (one core); SQLite runs inside the
    web workers."""
    shares = {
        "web workers": cores.get("web", 0.0) / min(WEB_WORKERS, os.cpu_count() or 1),
        "Redis": max(cores.get("redis", 0.0), cores.get("redis-cache", 0.0)),
    }
    first = max(shares, key=shares.get)
    ceiling = "2 cores" if first == "web workers" else "1 core"
    verdict = f"{first} ({shares[first]:.0%} of {ceiling})"
    if machine_busy > 0.9:
        # Everything on the machine counts: the stack, locust, and whatever else runs there.
        outside = max(0.0, machine_busy * (os.cpu_count() or 1) - sum(cores.values()))
        verdict = (
            f"the machine's CPU ({machine_busy:.0%} busy, {outside:.1f} cores of it outside "
            f"the stack and locust); then {verdict}"
        )
    return verdict


def run_load(bench: Bench, idle: dict) -> list[dict]:
    stages = []
    for users in [int(u) for u in bench.args.users.split(",")]:
        meter = Meter(bench)
        started = time.time()
        prefix = bench.start_locust(users, bench.args.stage_seconds, f"load-{users}", write=True)
        # Read while locust still runs, so that its own CPU is counted too.
        time.sleep(max(1, bench.args.stage_seconds - 1))
        usage = meter.read()
        bench.wait_locust(60)
        bench.check_alive()
        totals = locust_totals(prefix)
        statuses = statuses_between(started, time.time())
        per_request = {}
        for group in ("web", "redis", "redis-cache"):
            idle_rate = idle["cpu_seconds"].get(group, 0.0) / idle["seconds"]
            work = usage["cpu_seconds"].get(group, 0.0) - idle_rate * usage["seconds"]
            per_request[group] = 1000 * max(0.0, work) / max(1, totals["requests"])
        stage = {
            "users": users,
            **totals,
            "server_errors": server_errors(statuses),
            "statuses": statuses,
            "cores": usage["cores"],
            "machine_busy": usage["machine_busy"],
            "cpu_ms_per_request": per_request,
            "saturates_first": saturation(usage["cores"], usage["machine_busy"]),
        }
        print(
            f"  {users:>4} users: {totals['rps']:.1f} req/s, p50/p95/p99 {totals['p50_ms']:.0f}/"
            f"{totals['p95_ms']:.0f}/{totals['p99_ms']:.0f} ms, {totals['failures']} failures, "
            f"{stage['server_errors']} 5xx; web {usage['cores']['web']:.2f} cores, Redis "
            f"{usage['cores']['redis']:.2f}; {stage['saturates_first']}",
            flush=True,
        )
        stages.append(stage)
    return stages


def run_soak(bench: Bench) -> dict:
    minutes = bench.args.soak_minutes
    started = time.time()
    bench.start_locust(bench.args.soak_users, minutes * 60, "soak", write=True)
    samples: dict[str, list[tuple[float, float]]] = {g: [] for g in ("web", "worker", "redis")}
    begin = time.monotonic()
    while bench.locust.poll() is None and time.monotonic() - begin < minutes * 60 + 60:
        memory = rss_mb(bench)
        elapsed = (time.monotonic() - begin) / 60
        for group in samples:
            samples[group].append((elapsed, memory.get(group, 0.0)))
        bench.check_alive()
        time.sleep(10)
    bench.wait_locust(60)
    statuses = statuses_between(started, time.time())
    report = {"minutes": minutes, "users": bench.args.soak_users, "groups": {}, "failed": []}
    warmup = max(1, minutes // 5)
    report["warmup_minutes"] = warmup
    for group, points in samples.items():
        # Each minute's lowest sample: a leak raises it, a collection's passing peak does not.
        by_minute: dict[int, float] = {}
        for elapsed, mb in points:
            minute = int(elapsed)
            by_minute[minute] = min(mb, by_minute.get(minute, mb))
        series = sorted(by_minute.items())
        # Caches and heaps fill in the first minutes (the 1h window collects every 5 min).
        settled = series[warmup:]
        judged = len(settled) >= 2  # else too short a soak to tell a slope from the warm-up
        slope = slope_per_hour(settled if judged else series)
        growth = slope * (settled[-1][0] - settled[0][0]) / 60 if judged else 0.0
        report["groups"][group] = {
            "first_mb": round(series[0][1], 1) if series else None,
            "last_mb": round(series[-1][1], 1) if series else None,
            "slope_mb_per_hour": round(slope, 1),
            "fitted_growth_mb": round(growth, 1),
            "judged": judged,
            "per_minute_mb": [round(mb, 1) for _, mb in series],
        }
        # Both: a steep slope over a short soak may be noise of a few MB.
        if (
            judged
            and slope > bench.args.max_growth_mb_per_hour
            and growth > bench.args.min_growth_mb
        ):
            report["failed"].append(group)
    report["server_errors"] = server_errors(statuses)
    report["statuses"] = statuses
    for group, figures in report["groups"].items():
        print(
            f"  {group}: {figures['first_mb']} -> {figures['last_mb']} MB, slope "
            f"{figures['slope_mb_per_hour']} MB/h",
            flush=True,
        )
    return report


def lock_held(bench: Bench, window: str = "1m") -> bool:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(bench.env["REDIS_URL"], socket_timeout=2)
    try:
        return bool(client.exists(f"{settings.MESHDASH_REDIS_PREFIX}:{window}:lock"))
    except redis.RedisError:
        return False
    finally:
        client.close()


def faults(bench: Bench) -> list[tuple[str, object, object, float]]:
    """(name, start the fault, end it, least seconds it lasts) for each fault, in order. A fault
    lasts until the pages say stale (or its least time, if longer), at most --fault-seconds."""
    proxy = bench.kube.proxy

    def kill(name):
        def start():
            processes.signal_group(bench.child(name).proc, signal.SIGKILL)
            bench.child(name).proc.wait()

        return start

    def restart(name, ready=lambda: None):
        def end():
            bench.respawn(name)
            ready()

        return end

    def prom_ready():
        demo.wait_until(
            lambda: processes.http_ok(bench.env["PROMETHEUS_URL"] + "/-/ready"),
            "Prometheus",
            bench.child("prometheus"),
            300,
        )

    def redis_ready():
        port = int(bench.env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        demo.wait_until(lambda: processes.port_open(port), "Redis", bench.child("redis"), 30)

    def prometheus(signum):
        return lambda: processes.signal_group(bench.child("prometheus").proc, signum)

    def kube(**fault):
        def start():
            proxy.heal()
            for key, value in fault.items():
                setattr(proxy, key, value)

        return start

    def worker_mid_collection():
        # The 1m window's lock is held while a collection runs.
        wait_for(lambda: lock_held(bench), 120, interval=0.1)
        kill("worker")()

    hang = bench.args.hang_seconds
    return [
        ("Prometheus killed, restarted", kill("prometheus"), restart("prometheus", prom_ready), 0),
        ("Prometheus hung (SIGSTOP)", prometheus(signal.SIGSTOP), prometheus(signal.SIGCONT), hang),
        ("Kubernetes API answering 500", kube(status=500), proxy.heal, 0),
        ("Kubernetes API answering garbage", kube(garbage=True), proxy.heal, 0),
        ("Kubernetes API hanging", kube(delay=3600.0), proxy.heal, 0),
        ("Redis restarted", kill("redis"), restart("redis", redis_ready), 0),
        ("worker SIGKILLed mid-collection", worker_mid_collection, restart("worker"), 0),
        ("beat killed, restarted", kill("beat"), restart("beat"), 0),
    ]


def run_faults(bench: Bench, probe: Probe) -> list[dict]:
    bench.start_locust(bench.args.fault_users, 6 * 3600, "faults", write=False)
    reports = []
    try:
        for name, start, end, least in faults(bench):
            healthy = wait_for(probe.fresh, 300)
            before = rows_checksum()
            started_wall, started = time.time(), time.monotonic()
            start()
            stale_after = wait_for(probe.says_trouble, bench.args.fault_seconds)
            remaining = least - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
            ended = time.monotonic()
            end()
            recovered = wait_for(probe.fresh, 300)
            statuses = statuses_between(started_wall, time.time())
            after = rows_checksum()
            report = {
                "fault": name,
                "healthy_before": healthy is not None,
                "stale_after_s": stale_after,
                "lasted_s": round(ended - started, 1),
                "recovered_after_s": recovered,
                "server_errors": server_errors(statuses),
                "statuses": statuses,
                "rows_before": before,
                "rows_after": after,
                "rows_unchanged": before == after,
            }
            print(
                f"  {name}: stale after {stale_after} s, recovered {recovered} s after the end, "
                f"5xx {report['server_errors']} {statuses}, rows "
                f"{'unchanged' if before == after else 'CHANGED'}",
                flush=True,
            )
            reports.append(report)
            bench.check_alive()
    finally:
        bench.stop_locust()
    return reports


# --- Report. -------------------------------------------------------------------------------------


def print_tables(results: dict) -> None:
    print(f"\n{results['machine']}; demo mesh of {results['workloads']:,} workloads\n")
    if results.get("load"):
        print(
            "| users | req/s | p50 / p95 / p99 ms | errors | 5xx | web cores | Redis cores | "
            "worker cores | locust cores | machine busy | web / Redis CPU ms per request | "
            "saturates first |"
        )
        print(
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        )
    for s in results.get("load", []):
        cores = s["cores"]
        per_request = s["cpu_ms_per_request"]
        cells = [
            s["users"],
            f"{s['rps']:.1f}",
            f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f} / {s['p99_ms']:.0f}",
            s["failures"],
            s["server_errors"],
            *(f"{cores.get(group, 0):.2f}" for group in ("web", "redis", "worker")),
            f"{cores.get('load generator', 0):.2f}",
            f"{s['machine_busy']:.0%}",
            f"{per_request['web']:.1f} / "
            f"{per_request['redis'] + per_request.get('redis-cache', 0.0):.2f}",
            s["saturates_first"],
        ]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    soak = results.get("soak")
    if soak:
        print(
            f"\nSoak: {soak['minutes']} min at {soak['users']} users, {soak['server_errors']} 5xx\n"
        )
        print("| process group | RSS first minute | last minute | slope |")
        print("| --- | ---: | ---: | ---: |")
        for group, g in soak["groups"].items():
            slope = g["slope_mb_per_hour"]
            judged = "" if g["judged"] else " (soak too short to judge)"
            print(f"| {group} | {g['first_mb']} MB | {g['last_mb']} MB | {slope} MB/h{judged} |")
    if results.get("faults"):
        print("\n| fault | pages say stale after | recovered after the end | 5xx | rows |")
        print("| --- | ---: | ---: | ---: | --- |")
    for f in results.get("faults", []):
        stale = "never" if f["stale_after_s"] is None else f"{f['stale_after_s']} s"
        recovered = f"{f['recovered_after_s']} s" if f["recovered_after_s"] is not None else "no"
        rows = "unchanged" if f["rows_unchanged"] else "CHANGED"
        print(f"| {f['fault']} | {stale} | {recovered} | {f['server_errors']} | {rows} |")
    print()


def problems(results: dict) -> list[str]:
    found = []
    soak = results.get("soak", {"failed": [], "server_errors": 0})
    if soak["failed"]:
        found.append(f"soak: memory grows in {', '.join(soak['failed'])}")
    if soak["server_errors"]:
        found.append(f"soak: {soak['server_errors']} 5xx")
    for stage in results.get("load", []):
        if stage["server_errors"]:
            found.append(f"load at {stage['users']} users: {stage['server_errors']} 5xx")
    for fault in results.get("faults", []):
        if not fault["rows_unchanged"]:
            found.append(f"{fault['fault']}: users, teams or bookmarks changed")
        errors = dict(fault["statuses"])
        if fault["fault"].startswith("Redis"):
            errors.pop(503, None)  # documented: 503 with Retry-After while Redis is away
        unexpected = server_errors(errors)
        if unexpected:
            found.append(f"{fault['fault']}: {unexpected} unexpected 5xx")
        if fault["recovered_after_s"] is None:
            found.append(f"{fault['fault']}: no recovery within 300 s")
    return found


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown CPU",
    )  # fmt: skip
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GB"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", type=int, default=5000)
    parser.add_argument("--users", default="8,32,128", help="concurrent users of each load stage")
    parser.add_argument("--stage-seconds", type=int, default=60)
    parser.add_argument("--soak-minutes", type=int, default=30)
    parser.add_argument("--soak-users", type=int, default=32)
    parser.add_argument(
        "--max-growth-mb-per-hour",
        type=float,
        default=60.0,
        help="soak: fail when a group's RSS grows faster (and by more than --min-growth-mb)",
    )
    parser.add_argument("--min-growth-mb", type=float, default=10.0)
    parser.add_argument("--fault-users", type=int, default=8)
    parser.add_argument("--fault-seconds", type=int, default=180, help="longest a fault lasts")
    parser.add_argument("--hang-seconds", type=int, default=90)
    parser.add_argument("--think", default="0.5,2", help="pause between a user's clicks, s")
    parser.add_argument("--idle-seconds", type=int, default=30)
    parser.add_argument("--phases", default=",".join(PHASES), help="which to run, in this order")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if not re.fullmatch(r"\d+(,\d+)*", args.users):
        raise SystemExit("--users: a list of whole numbers, such as 8,32,128")
    phases = set(args.phases.split(","))
    if not phases <= set(PHASES):
        raise SystemExit(f"--phases: some of {','.join(PHASES)}")
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    demo.DEMO_DIR, demo.LOG_DIR, demo.MESH_DIR = OUT_DIR, OUT_DIR / "logs", OUT_DIR / "mesh"
    for directory in (demo.LOG_DIR, demo.MESH_DIR, OUT_DIR / "redis"):
        directory.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT_DIR / 'db.sqlite3'}")
    os.environ.setdefault("MESHDASH_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "meshdash.settings"
    demo.prepare_database()
    users = prepare_users(max(int(u) for u in args.users.split(",")))
    (OUT_DIR / "users.json").write_text(json.dumps(users[:-1]))
    bench = Bench(args)
    bench.env = dict(os.environ)
    results = {"machine": machine(), "workloads": args.workloads, "args": vars(args)}
    signal.signal(signal.SIGTERM, demo.interrupt)
    try:
        print(f"bench-load: starting the demo stack at {args.workloads} workloads", flush=True)
        bench.start()
        probe = Probe(bench.base, users[-1])
        if wait_for(probe.fresh, 900) is None:
            raise demo.DemoError("no fresh snapshot within 15 minutes of the start")
        warm_up(probe)
        print(f"bench-load: idle for {args.idle_seconds} s (the baseline CPU)", flush=True)
        idle = idle_baseline(bench, args.idle_seconds)
        results["idle_cores"] = idle["cores"]
        if "load" in phases:
            print("bench-load: load", flush=True)
            results["load"] = run_load(bench, idle)
        if "soak" in phases:
            print(f"bench-load: soak, {args.soak_minutes} min", flush=True)
            results["soak"] = run_soak(bench)
        if "faults" in phases:
            print("bench-load: faults", flush=True)
            results["faults"] = run_faults(bench, probe)
    except demo.DemoError as exc:
        print(f"bench-load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        bench.stop()
    RESULTS.write_text(json.dumps(results, indent=2))
    print_tables(results)
    found = problems(results)
    for problem in found:
        print(f"FAILED: {problem}")
    print(f"results in {RESULTS.relative_to(ROOT)}; logs in {OUT_DIR.relative_to(ROOT)}/")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
