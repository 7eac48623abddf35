#!/usr/bin/env python
"""`make demo`: the whole meshdash stack on a simulated mesh, in the foreground until Ctrl-C.

Starts Redis (REDIS_URL when set, otherwise a private redis-server), the demo mesh, a Prometheus
scraping it, a Celery worker, Celery beat and the web server, after migrating the database and
creating the login demo/demo; before the workers, meshdash's history gets the demo mesh's last
two weeks (`manage.py demo_history`), so the memory-growth check and the long charts show them.
Each child runs in its own process group with its log under var/demo/logs/; if one dies,
everything stops. `--prepare` only migrates and creates the login;
`--dev` (`make dev`) serves with Django's autoreloading runserver and DEBUG on.
"""

import argparse
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshdash.lib import processes  # noqa: E402
from meshdash.lib.processes import free_port, http_ok, port_open, signal_group  # noqa: E402

DEMO_DIR = ROOT / "var" / "demo"
LOG_DIR = DEMO_DIR / "logs"
MESH_DIR = DEMO_DIR / "mesh"
LOGIN = ("demo", "demo")
DEMO_HISTORY_DAYS = 14
STOP_GRACE_SECONDS = 10.0


def scrape_interval(workloads: int) -> str:
    """Short enough for traffic to show in the first snapshots (increase() over 1m needs two
    scrapes); long enough at thousands of workloads (about 110 series each) for Prometheus to
    keep up on two cores beside everything else."""
    return "5s" if workloads <= 1000 else "15s"


class DemoError(Exception):
    """A reason to stop the demo, printed as is."""


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path


@dataclass
class Stack:
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: list, env: dict[str, str]) -> Child:
        log = LOG_DIR / f"{name}.log"
        # Own session and process group: Ctrl-C reaches only us, and we stop each child whole.
        child = Child(name, processes.start(args, log, env), log)
        self.children.append(child)
        return child

    def dead(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def stop(self) -> None:
        """Stops what uses Redis first, then Redis: SIGTERM to each process group, SIGKILL to
        what is left after the grace period."""
        users = [c for c in reversed(self.children) if not c.name.startswith("redis")]
        redis = [c for c in self.children if c.name.startswith("redis")]
        for tier in (users, redis):
            running = [c for c in tier if c.proc.poll() is None]
            for child in running:
                signal_group(child.proc, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for child in running:
                try:
                    child.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    print(f"  {child.name} did not stop in {STOP_GRACE_SECONDS:.0f} s: killing it")
            for child in tier:
                # The group may outlive its leader (a Celery pool, gunicorn workers).
                signal_group(child.proc, signal.SIGKILL)
                child.proc.wait()


def env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DemoError(f"{name}={raw!r} is not a port number")
    return int(raw)


def env_workloads() -> int:
    raw = os.environ.get("MESHDASH_DEMO_WORKLOADS", "").strip() or "300"
    # The demo mesh needs a few workloads to build its call graph from.
    if not raw.isdigit() or int(raw) < 4:
        raise DemoError(f"MESHDASH_DEMO_WORKLOADS={raw!r}: give a whole number, at least 4")
    return int(raw)


def require_free(port: int, what: str, variable: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise DemoError(
                f"port {port} for {what} is taken ({exc.strerror}): stop what listens there "
                f"(`ss -ltnp 'sport = :{port}'` shows it) or set {variable} to another port"
            ) from exc


def wait_until(check, what: str, child: Child | None, timeout: float) -> None:
    try:
        processes.wait_until(check, timeout, 0.2, proc=child.proc if child else None)
    except processes.ProcessExited:
        raise DemoError(
            f"{child.name} exited with code {child.proc.returncode} while starting: "
            f"see {child.log.relative_to(ROOT)}"
        ) from None
    except TimeoutError:
        raise DemoError(
            f"{what} not ready after {timeout:.0f} s"
            + (f": see {child.log.relative_to(ROOT)}" if child else "")
        ) from None


def binary(name: str) -> str:
    try:
        return processes.binary(name)
    except processes.MissingBinary as exc:
        raise DemoError(str(exc)) from None


def prepare_database() -> None:
    """Migrates the database, collects the static files (hashed names, compressed copies: what
    gunicorn serves with a year's cache lifetime) and creates (or resets) the login demo/demo."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshdash.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username=LOGIN[0])
    user.set_password(LOGIN[1])
    user.is_active = True
    user.save()


def seed_history() -> None:
    """meshdash's history filled with the demo mesh's last weeks (its pods' proxy memory and
    leaves, from the model), so that the memory-growth check and the long charts have them:
    before the workers start, once per mesh (a restart fills only the time it was stopped)."""
    from django.core.management import call_command

    call_command("demo_history", mesh_dir=str(MESH_DIR), days=DEMO_HISTORY_DAYS)


class Web:
    """The demo's own browser: signs in as demo/demo and reads the workload API."""

    def __init__(self, base: str, login_path: str):
        self.base = base
        self.login_path = login_path
        self.signed_in = False
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def sign_in(self) -> None:
        self.opener.open(self.base + self.login_path, timeout=5).read()
        token = next((c.value for c in self.cookies if c.name == "csrftoken"), "")
        form = urllib.parse.urlencode(
            {"username": LOGIN[0], "password": LOGIN[1], "csrfmiddlewaretoken": token}
        ).encode()
        self.opener.open(self.base + self.login_path, data=form, timeout=5).read()

    def workloads_listed(self) -> int:
        """Workloads in the current snapshot, as the API serves them; 0 while there is none."""
        try:
            if not self.signed_in:
                self.sign_in()
                self.signed_in = True
            url = self.base + "/api/v1/workloads?per_page=1"
            with self.opener.open(url, timeout=5) as response:
                if response.headers.get_content_type() != "application/json":
                    self.signed_in = False  # sent to the login page: the session is gone
                    return 0
                return int(json.load(response).get("total") or 0)
        except urllib.error.HTTPError as exc:
            self.signed_in = exc.code not in (401, 403)
            return 0
        except (OSError, ValueError):
            return 0


def run(dev: bool = False) -> int:
    started = time.monotonic()
    workloads = env_workloads()
    web_port = env_port("MESHDASH_DEMO_PORT", 8000)
    prometheus_port = env_port("MESHDASH_DEMO_PROMETHEUS_PORT", 9090)
    require_free(web_port, "the web server", "MESHDASH_DEMO_PORT")
    require_free(prometheus_port, "Prometheus", "MESHDASH_DEMO_PROMETHEUS_PORT")
    redis_server = None if os.environ.get("REDIS_URL") else binary("redis-server")
    prometheus = binary("prometheus")

    # Metrics of an earlier run (perhaps of another mesh size) would only slow Prometheus's start.
    shutil.rmtree(DEMO_DIR / "prometheus", ignore_errors=True)
    for directory in (LOG_DIR, MESH_DIR, DEMO_DIR / "redis", DEMO_DIR / "prometheus"):
        directory.mkdir(parents=True, exist_ok=True)
    print(f"meshdash demo: migrating the database; login {LOGIN[0]} / {LOGIN[1]}", flush=True)
    prepare_database()
    from django.conf import settings
    from django.shortcuts import resolve_url

    login_path = resolve_url(settings.LOGIN_URL)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="meshdash.settings")
    stack = Stack()
    try:
        start_stack(stack, env, workloads, redis_server, prometheus, prometheus_port)
        start_web(stack, web_port, env, dev)
        base = f"http://127.0.0.1:{web_port}"
        print(
            f"""
  dashboard   {base}/   login {LOGIN[0]} / {LOGIN[1]}
  prometheus  {env["PROMETHEUS_URL"]}/
  redis       {env["REDIS_URL"]}{"" if redis_server is None else " (private)"}
  cache redis {env.get("MESHDASH_CACHE_REDIS_URL") or env["REDIS_URL"]}
  demo mesh   {workloads} workloads, scraped every {scrape_interval(workloads)}
  kubeconfig  {env["KUBECONFIG"]}{DEV_NOTE if dev else ""}
  logs        {LOG_DIR}/{{{",".join(c.name for c in stack.children)}}}.log
  Ctrl-C stops everything. Waiting for the first snapshot...""",
            flush=True,
        )
        watch(stack, Web(base, login_path), started)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except DemoError as exc:
        print(f"meshdash demo: {exc}; stopping everything", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C (or SIGTERM) must not leave children behind half-stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("stopped")


def start_stack(
    stack: Stack,
    env: dict[str, str],
    workloads: int,
    redis_server: str | None,
    prometheus: str,
    prometheus_port: int,
) -> None:
    """Redis, the demo mesh, Prometheus, the Celery worker and beat; sets their URLs in env."""
    if redis_server:
        # Snapshots and Celery's queues: never evicted; past the ceiling Redis refuses writes
        # (collections fail, the pages say stale) rather than drop a snapshot or a task.
        env["REDIS_URL"] = start_redis(
            stack, "redis", redis_server, f"{redis_store_megabytes(workloads)}mb", "noeviction"
        )
        # Filtered views' cached results only: anything in it may go.
        env["MESHDASH_CACHE_REDIS_URL"] = start_redis(
            stack, "redis-cache", redis_server, f"{REDIS_CACHE_MEGABYTES}mb", "allkeys-lru"
        )

    # A `ready` left by an earlier run must not be taken for this one's.
    ready = processes.demo_mesh_ready(MESH_DIR)
    ready.unlink(missing_ok=True)
    mesh_command = processes.demo_mesh_command(
        MESH_DIR, workloads, scrape_interval=scrape_interval(workloads)
    )
    mesh = stack.start("demo-mesh", mesh_command, env)
    wait_until(ready.exists, "the demo mesh", mesh, 300)
    env["KUBECONFIG"] = str(MESH_DIR / "kubeconfig")
    seed_history()

    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    prometheus_command = processes.prometheus_command(
        MESH_DIR / "prometheus.yml", DEMO_DIR / "prometheus", prometheus_port, server=prometheus
    )
    prom = stack.start("prometheus", prometheus_command, env)
    wait_until(lambda: http_ok(prometheus_url + "/-/ready"), "Prometheus", prom, 60)
    env["PROMETHEUS_URL"] = prometheus_url

    worker_args = ["--loglevel", "INFO", "--concurrency", "2", "--hostname", "demo-worker@%h"]
    stack.start("worker", processes.celery_command("worker", *worker_args), env)
    beat_args = ["--loglevel", "INFO", "--schedule", DEMO_DIR / "celerybeat-schedule"]
    stack.start("beat", processes.celery_command("beat", *beat_args), env)


# README, "Redis": the snapshot store's ceiling grows with the mesh (about 22 MB per 1,000
# workloads in steady state, measured by make bench), with room for replaced versions.
REDIS_CACHE_MEGABYTES = 64


def redis_store_megabytes(workloads: int) -> int:
    return 256 + 64 * -(-workloads // 1000)


def start_redis(stack: Stack, name: str, server: str, maxmemory: str, policy: str) -> str:
    """A private redis-server without persistence, with its memory ceiling; its URL."""
    port = free_port()
    directory = DEMO_DIR / name
    directory.mkdir(parents=True, exist_ok=True)
    args = processes.redis_command(
        port, directory, maxmemory=maxmemory, policy=policy, server=server
    )
    redis = stack.start(name, args, dict(os.environ))
    wait_until(lambda: port_open(port), name, redis, 20)
    return f"redis://127.0.0.1:{port}/0"


def watch(stack: Stack, browser: "Web", started: float) -> None:
    """Says "ready" once the API lists workloads; returns never, raises when a child dies."""
    listed = 0
    while True:
        dead = stack.dead()
        if dead is not None:
            raise DemoError(f"{dead.name} exited with code {dead.proc.returncode}: see {dead.log}")
        if not listed:
            listed = browser.workloads_listed()
            if listed:
                print(
                    f"ready: {listed} workloads listed at {browser.base}/, "
                    f"{time.monotonic() - started:.1f} s after start",
                    flush=True,
                )
        time.sleep(1.0 if listed else 0.5)


def start_web(stack: Stack, port: int, env: dict[str, str], dev: bool = False) -> Child:
    """gunicorn with two workers; Django's runserver only if gunicorn does not come up. With
    ``dev``, Django's runserver reloading the code at each change, with DEBUG on."""
    python = sys.executable
    if dev:
        dev_env = dict(env, MESHDASH_DEBUG="true")
        web = stack.start("web", [python, "manage.py", "runserver", f"127.0.0.1:{port}"], dev_env)
        wait_until(lambda: port_open(port), "runserver", web, 30)
        return web
    gunicorn_args = f"meshdash.wsgi --bind 127.0.0.1:{port} --workers 2 --access-logfile -"
    web = stack.start("web", [python, "-m", "gunicorn", *gunicorn_args.split()], env)
    try:
        wait_until(lambda: port_open(port), "gunicorn", web, 30)
        return web
    except DemoError as exc:
        print(f"{exc}; falling back to Django's runserver")
        stack.children.remove(web)
        signal_group(web.proc, signal.SIGKILL)
        web.proc.wait()
    runserver_args = f"runserver 127.0.0.1:{port} --noreload --insecure".split()
    web = stack.start("web", [python, "manage.py", *runserver_args], env)
    wait_until(lambda: port_open(port), "runserver", web, 30)
    return web


DEV_NOTE = """
  web         Django's runserver with DEBUG on, reloading at each change of the code or a
              template; the worker and beat keep the code they started with (Ctrl-C and
              start again after a change to what collects)"""


def interrupt(signum, frame):
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only migrate the database and create the login demo/demo",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="serve with Django's autoreloading runserver and DEBUG on (make dev)",
    )
    return parser


def main() -> int:
    args = build_parser().parse_args()
    # meshdash refuses its built-in secret key outside debugging: a key of this run's own.
    if not (os.environ.get("MESHDASH_SECRET_KEY") or os.environ.get("MESHDASH_SECRET_KEY_FILE")):
        os.environ["MESHDASH_SECRET_KEY"] = secrets.token_urlsafe(50)
    # Ctrl-C stops the demo even when started from a shell that ignores SIGINT in the
    # background; SIGTERM (from a supervisor) stops it the same way.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        if args.prepare:
            prepare_database()
            print(f"database migrated; login {LOGIN[0]} / {LOGIN[1]}")
            return 0
        return run(dev=args.dev)
    except DemoError as exc:
        print(f"meshdash demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
