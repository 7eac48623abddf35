"""The local servers `make demo`, `make bench`, `make bench-load` and the tests run beside
meshdash: how to start them (Redis, the demo mesh, Prometheus, Celery), wait until they serve,
and stop them.

Standard library only, and no Django: scripts import it before any settings exist, and the
tests' fixtures start servers with it before Django is set up.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


class MissingBinary(RuntimeError):
    """A server's program is not installed."""


class ProcessExited(RuntimeError):
    """The process being waited on exited before it was ready."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        super().__init__(f"process {proc.args!r} exited with {proc.returncode}")


def binary(name: str) -> str:
    """The path of the program ``name``; MissingBinary when it is not installed."""
    path = shutil.which(name)
    if path is None:
        raise MissingBinary(
            f"{name} is missing: run `make bootstrap` (it installs Debian's {name})"
        )
    return path


def free_port() -> int:
    """A loopback TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """``url`` answers 200 (a server's readiness endpoint)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def wait_until(
    condition: Callable[[], object],
    timeout: float,
    interval: float = 0.05,
    what: str = "",
    proc: subprocess.Popen | None = None,
):
    """Calls ``condition`` until it returns something true and returns that, or raises
    TimeoutError after ``timeout`` seconds (ProcessExited as soon as ``proc`` exits). Wait on a
    condition with a deadline, never for a fixed time: a loaded machine makes any fixed time
    too short now and then."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise ProcessExited(proc)
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{what or getattr(condition, '__name__', condition)} not true after {timeout} s"
            )
        time.sleep(interval)


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    wait_until(
        lambda: port_open(port), timeout, what=f"a server listening on {LOOPBACK}:{port}", proc=proc
    )


def wait_for_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Waits until ``url`` answers 200."""
    wait_until(
        lambda: http_ok(url, timeout=1),
        timeout,
        interval=0.1,
        what=f"{url} answering 200",
        proc=proc,
    )


def start(
    args: Sequence,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    *,
    own_group: bool = True,
    append: bool = False,
    cwd: Path = ROOT,
) -> subprocess.Popen:
    """``args`` run in the checkout, its output (both streams) written to ``log`` (emptied first
    unless ``append``; discarded without a log). With ``own_group`` it leads a session and
    process group of its own: Ctrl-C in the terminal reaches only the caller, and ``stop`` ends
    the whole group (a Celery pool, gunicorn's workers); without, it shares the caller's group
    and dies with it."""
    if log is None:
        out = subprocess.DEVNULL
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab" if append else "wb")  # noqa: SIM115 (the child holds it; closed below)
    try:
        return subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    finally:
        if log is not None:
            out.close()


def signal_group(proc: subprocess.Popen, signum: int) -> None:
    """``signum`` to the process group ``proc`` leads (gone already: nothing)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def leads_group(proc: subprocess.Popen) -> bool:
    try:
        return proc.poll() is None and os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it still runs after ``timeout`` seconds; waits for it. Sent to
    the whole group when ``proc`` leads one (``start``'s own_group), to ``proc`` alone otherwise."""
    if proc is None or proc.poll() is not None:
        return
    group = leads_group(proc)
    send = (lambda signum: signal_group(proc, signum)) if group else proc.send_signal
    send(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()
    if group:
        signal_group(proc, signal.SIGKILL)  # what the leader left behind


# --- The servers' command lines.


def redis_command(
    port: int,
    data_dir: Path,
    *,
    maxmemory: str = "",
    policy: str = "",
    logfile: Path | None = None,
    server: str = "redis-server",
) -> list[str]:
    """A redis-server on loopback ``port`` that keeps nothing on disk (no RDB, no AOF): a
    restart loses every key. ``maxmemory`` and ``policy`` as README's "Redis" says to run it."""
    args = [server, "--port", str(port), "--bind", LOOPBACK, "--dir", str(data_dir)]
    args += ["--save", "", "--appendonly", "no"]
    if maxmemory:
        args += ["--maxmemory", maxmemory, "--maxmemory-policy", policy or "noeviction"]
    if logfile is not None:
        args += ["--logfile", str(logfile)]
    return args


def prometheus_command(
    config_file: Path,
    data_dir: Path,
    port: int,
    *,
    retention: str = "2h",
    server: str = "prometheus",
    extra: Sequence[str] = (),
) -> list[str]:
    """A Prometheus on loopback ``port`` with its TSDB in ``data_dir``."""
    return [
        server,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={LOOPBACK}:{port}",
        f"--storage.tsdb.retention.time={retention}",
        *extra,
    ]


def demo_mesh_command(
    out_dir: Path, workloads: int, *, seed: int = 1, shards: int = 8, scrape_interval: str = "10s"
) -> list[str]:
    """``manage.py demo_mesh`` on free loopback ports, writing its kubeconfig, Prometheus
    configuration and, once it serves, ``ready`` (``demo_mesh_ready``) into ``out_dir``."""
    options = f"--workloads {workloads} --seed {seed} --host {LOOPBACK} --kube-port 0"
    options += f" --metrics-port 0 --shards {shards} --scrape-interval {scrape_interval}"
    return [sys.executable, "manage.py", "demo_mesh", *options.split(), "--out-dir", str(out_dir)]


def demo_mesh_ready(out_dir: Path) -> Path:
    """The file the demo mesh writes once it serves (remove it before a start)."""
    return Path(out_dir) / "ready"


def celery_command(*args: str) -> list[str]:
    """``celery -A meshdash ARGS`` with this Python."""
    return [sys.executable, "-m", "celery", "-A", "meshdash", *map(str, args)]
