"""docker-compose.yml names only commands, files and settings that exist in the project.

Docker cannot run in the test environment: each service's command is checked against the project
instead (manage.py commands through Django's registry and their own argument parsers, the Celery
app and its subcommands, gunicorn's options, the files mounted or referenced).
"""

import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, get_commands, load_command_class
from gunicorn.config import Config as GunicornConfig

from meshdash.demo.runner import write_kubeconfig

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OWN_IMAGE = [name for name, service in SERVICES.items() if "build" in service]
# Where the Dockerfile copies the checkout inside the image.
APP_DIR = "/app"


def commands_of(command) -> list[list[str]]:
    """The commands a service runs: ``sh -c "a && exec b"`` counts as a and b."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    return [
        [word for word in shlex.split(part) if word != "exec"]
        for part in re.split(r"&&|;", argv[2])
        if part.strip()
    ]


def all_commands() -> list[tuple[str, list[str]]]:
    found = [(name, argv) for name in OWN_IMAGE for argv in commands_of(SERVICES[name]["command"])]
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", dockerfile(), re.MULTILINE)
    found.append(("Dockerfile CMD", yaml.safe_load(dockerfile_cmd.group(1))))
    return found


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def check_manage_py(args: list[str]) -> None:
    name, *options = args
    commands = get_commands()
    assert name in commands, f"manage.py has no command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    parser.parse_args(options)


def check_script(path: str, args: list[str]) -> None:
    script = ROOT / path
    assert script.is_file(), f"{path} is missing"
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_parser().parse_args(args)


def check_celery(args: list[str]) -> None:
    assert args[:2] == ["-A", "meshdash"], args
    assert importlib.import_module("meshdash").celery_app.main == "meshdash"
    # Celery's own options (--quiet: no banner) come before the subcommand.
    subcommand = next(arg for arg in args[2:] if not arg.startswith("-"))
    assert subcommand in {"worker", "beat"}, args
    # Click parses every option before acting on --help: an unknown option fails here.
    result = subprocess.run(
        [sys.executable, "-m", "celery", *args, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def check_gunicorn(args: list[str]) -> None:
    parsed = GunicornConfig().parser().parse_args(args)
    (app,) = parsed.args
    module_name, _, attribute = app.partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute or "application"))


def check(argv: list[str]) -> None:
    program, *args = argv
    if program == "python" and args[0] == "manage.py":
        check_manage_py(args[1:])
    elif program == "python" and args[0].endswith(".py"):
        check_script(args[0], args[1:])
    elif program == "sh" and args[0].endswith(".sh"):
        assert (ROOT / args[0]).is_file(), f"{args[0]} is missing"
        if args[1:]:
            check(args[1:])
    elif program == "celery":
        check_celery(args)
    elif program == "gunicorn":
        assert shutil.which("gunicorn", path=os.path.dirname(sys.executable))
        check_gunicorn(args)
    else:
        pytest.fail(f"unknown program {program!r} in {argv}")


DEMO = {name for name, service in SERVICES.items() if "demo" in service.get("profiles", [])}


def test_it_has_the_services_of_the_stack():
    assert set(SERVICES) - DEMO == {"migrate", "web", "worker", "beat", "redis", "redis-cache"}
    assert {"demo-mesh", "demo-kubeconfig", "demo-login", "prometheus"} == DEMO
    assert set(OWN_IMAGE) == {
        "migrate",
        "web",
        "worker",
        "beat",
        "demo-mesh",
        "demo-kubeconfig",
        "demo-login",
    }


def test_a_deployment_without_the_demo_profile_needs_nothing_of_the_demo():
    demo_volumes = {"demo"}
    for name, service in SERVICES.items():
        if name in DEMO:
            continue
        assert not set(service.get("depends_on", {})) & DEMO, name
        assert not {v.split(":")[0] for v in service.get("volumes", [])} & demo_volumes, name
        assert not service.get("profiles"), name
    # Your Prometheus and your kubeconfig's directory, from the environment.
    environment = SERVICES["worker"]["environment"]
    assert environment["PROMETHEUS_URL"] == "${PROMETHEUS_URL:-http://prometheus:9090}"
    kube_dir = next(v for v in SERVICES["worker"]["volumes"] if v.endswith(":/app/var/kube:ro"))
    assert kube_dir.startswith("${MESHDASH_COMPOSE_KUBE_DIR:-kube}:")
    assert environment["KUBECONFIG"] == "/app/var/kube/config"


def test_it_migrates_once_before_the_web_server_starts():
    migrate = SERVICES["migrate"]
    assert commands_of(migrate["command"]) == [["python", "manage.py", "migrate", "--noinput"]]
    assert migrate["restart"] == "no"
    for name in ("web", "worker", "demo-login"):
        condition = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    # They share the database: SQLite in one volume.
    database = SERVICES["web"]["environment"]["DATABASE_URL"]
    for name in ("migrate", "web", "worker", "demo-login"):
        assert SERVICES[name]["environment"]["DATABASE_URL"] == database
        assert "data:/app/var/data" in SERVICES[name]["volumes"], name
    assert database == "sqlite:////app/var/data/db.sqlite3"
    assert commands_of(SERVICES["demo-login"]["command"]) == [
        ["python", "scripts/demo.py", "--prepare"]
    ]


def test_its_image_runs_as_a_numeric_non_root_user_owning_the_volumes():
    text = dockerfile()
    (user,) = re.findall(r"^USER (\d+)(?::\d+)?$", text, re.MULTILINE)
    assert int(user) != 0
    assert f"--uid {user}" in text
    made = re.search(r"mkdir -p ([^\\\n&]+)", text).group(1).split()
    mounted = {
        v.removesuffix(":ro").rsplit(":", 1)[1]
        for s in SERVICES.values()
        for v in s.get("volumes", [])
        if ":/app/var" in v
    }
    assert mounted <= set(made)
    # No moving tag: the images of a real deployment are pinned.
    for service in SERVICES.values():
        assert not service.get("image", "").endswith(":latest")


def redis_option(service: str, name: str) -> str:
    command = SERVICES[service]["command"]
    return command[command.index(f"--{name}") + 1]


def test_its_redis_evicts_only_the_result_cache():
    # Snapshots and the broker's queues refuse writes at their ceiling, never evict.
    assert redis_option("redis", "maxmemory-policy") == "noeviction"
    assert redis_option("redis", "maxmemory").endswith("mb")
    # The result cache is an instance of its own: maxmemory is per instance.
    assert redis_option("redis-cache", "maxmemory-policy") == "allkeys-lru"
    assert redis_option("redis-cache", "maxmemory").endswith("mb")
    for name in OWN_IMAGE:
        environment = SERVICES[name]["environment"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["MESHDASH_CACHE_REDIS_URL"] == "redis://redis-cache:6379/0"


def test_it_builds_one_image_from_the_dockerfile():
    images = {SERVICES[name].get("image") for name in OWN_IMAGE}
    builds = {str(SERVICES[name]["build"]) for name in OWN_IMAGE}
    assert len(images) == 1 and builds == {"."}
    text = dockerfile()
    assert text.startswith("#") and "\nFROM python:3.11-slim\n" in text
    assert "pip install -r requirements.txt" in text
    assert re.search(r"^gunicorn==", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert re.search(r"^COPY \. \.$", text, re.MULTILINE)
    assert f"WORKDIR {APP_DIR}" in text


def test_it_runs_exactly_one_beat():
    beats = [name for name, argv in all_commands() if argv[0] == "celery" and "beat" in argv]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_it_starts_the_application_once_redis_is_healthy():
    test = SERVICES["redis"]["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and "redis-cli" in test[1] and "ping" in test
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert SERVICES[name]["depends_on"]["redis-cache"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    "service_and_command", all_commands(), ids=lambda item: f"{item[0]}: {' '.join(item[1])}"
)
def test_it_names_commands_that_exist(service_and_command):
    _, argv = service_and_command
    check(argv)


def test_it_rejects_a_command_that_does_not_exist():
    with pytest.raises(AssertionError, match="no command"):
        check(["python", "manage.py", "demo_mess", "--workloads", "3"])
    with pytest.raises(CommandError, match="--no-such-option"):
        check(["python", "manage.py", "migrate", "--no-such-option"])
    with pytest.raises(AssertionError):
        check(["celery", "-A", "meshdash", "worker", "--no-such-option"])


def test_it_mounts_and_references_files_that_exist():
    referenced = []
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                referenced.append(ROOT / source)
        for value in service.get("environment", {}).values():
            if str(value).startswith(f"{APP_DIR}/") and not str(value).startswith(f"{APP_DIR}/var"):
                referenced.append(ROOT / str(value).removeprefix(f"{APP_DIR}/"))
    assert referenced, "nothing referenced: the check would be empty"
    for path in referenced:
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing"


def test_it_points_the_application_at_the_other_services(tmp_path):
    environment = SERVICES["worker"]["environment"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    # The demo's kubeconfig is copied into the volume the worker reads its kubeconfig from, with
    # the server pointed at the demo-mesh service, and copied again when the mesh restarts.
    sync = SERVICES["demo-kubeconfig"]
    kube_volume = next(v for v in sync["volumes"] if v.endswith(":/app/var/kube"))
    assert f"{kube_volume.split(':')[0]}:/app/var/kube:ro" in [
        v.replace("${MESHDASH_COMPOSE_KUBE_DIR:-kube}", "kube")
        for v in SERVICES["worker"]["volumes"]
    ]
    demo_command = SERVICES["demo-mesh"]["command"]
    assert f"demo:{option(demo_command, '--out-dir')}" in SERVICES["demo-mesh"]["volumes"]
    assert f"demo:{option(demo_command, '--out-dir')}:ro" in sync["volumes"]
    kube_port = option(demo_command, "--kube-port")
    write_kubeconfig(tmp_path / "kubeconfig", f"http://0.0.0.0:{kube_port}", "first-token")
    (tmp_path / "ready").write_text("")
    out = tmp_path / "kube" / "config"
    out.parent.mkdir()
    wrapper = sync["command"][1]
    proc = subprocess.Popen(
        ["sh", str(ROOT / wrapper)],
        env={**os.environ, "MESHDASH_COMPOSE_DEMO_DIR": str(tmp_path), "KUBECONFIG": str(out)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        config = wait_for_config(out, proc, "first-token")
        (cluster,) = config["clusters"]
        assert cluster["cluster"]["server"] == f"http://demo-mesh:{kube_port}"
        # The mesh restarted: a new token, then `ready` again.
        time.sleep(1.1)
        write_kubeconfig(tmp_path / "kubeconfig", f"http://0.0.0.0:{kube_port}", "second-token")
        (tmp_path / "ready").write_text("")
        wait_for_config(out, proc, "second-token")
    finally:
        proc.kill()
        proc.wait()


def wait_for_config(path: Path, proc: subprocess.Popen, token: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        if path.exists():
            config = yaml.safe_load(path.read_text())
            if config and config["users"][0]["user"]["token"] == token:
                return config
        time.sleep(0.2)
    raise AssertionError(f"{path} never held the token {token}")


def option(command: list[str], name: str) -> str:
    (value,) = [arg.split("=", 1)[1] for arg in command if arg.startswith(f"{name}=")]
    return value


def test_it_gives_prometheus_a_valid_config_scraping_the_demo_mesh():
    volume = next(v for v in SERVICES["prometheus"]["volumes"] if v.endswith("prometheus.yml:ro"))
    config_file = ROOT / volume.split(":")[0]
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `make bootstrap`"
    result = subprocess.run(
        [promtool, "check", "config", str(config_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(config_file.read_text())
    targets = [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]
    command = SERVICES["demo-mesh"]["command"]
    first = int(option(command, "--metrics-port"))
    shards = range(int(option(command, "--shards")))
    # The demo mesh serves its shards on consecutive ports from --metrics-port.
    assert targets == [f"demo-mesh:{first + shard}" for shard in shards]
