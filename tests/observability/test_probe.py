"""`manage.py probe worker|beat`: 0 for a live process, 1 for a dead, hung or unreachable one."""

import io
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from meshdash.observability import beat, heartbeat
from tests import servers

NODE = "celery@probe-test"


def probe(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("probe", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def beat_at(name: str, at: float) -> None:
    heartbeat.write(name, now=at, force=True)


def running(task_id: str, pid: int, started: float, task_name: str = "collect_window") -> None:
    heartbeat.redis_client().hset(
        heartbeat.key("running", NODE), f"{pid}:{task_id}", f"{started!r} {task_name}"
    )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(autouse=True)
def clean(redis_client):
    heartbeat._written_at.clear()
    yield


def test_it_passes_a_worker_whose_main_loop_beat_recently():
    beat_at(heartbeat.worker_name(NODE), time.time() - 3)
    code, out, err = probe("worker", "--node", NODE)
    assert code == 0, err
    assert "alive, last heartbeat 3 s ago" in out


def test_it_fails_a_worker_whose_heartbeat_is_stale():
    beat_at(heartbeat.worker_name(NODE), time.time() - 100)
    code, out, err = probe("worker", "--node", NODE, "--max-age", "60")
    assert code == 1
    assert "last heartbeat 100 s ago, more than 60 s" in err
    assert "hung" in err


def test_it_fails_a_worker_that_never_beat():
    code, _, err = probe("worker", "--node", NODE)
    assert code == 1
    assert f"worker {NODE}: no heartbeat" in err


def test_it_fails_with_a_clear_message_when_redis_is_down(settings):
    settings.REDIS_URL = f"redis://:secret@127.0.0.1:{servers.free_port()}/0"
    code, _, err = probe("worker", "--node", NODE)
    assert code == 1
    assert "cannot read the heartbeat: Redis at 127.0.0.1:" in err
    assert "does not answer" in err
    assert "secret" not in err
    code, _, err = probe("beat")
    assert code == 1 and "does not answer" in err


def test_it_fails_a_worker_whose_task_runs_past_its_time_while_the_loop_beats():
    beat_at(heartbeat.worker_name(NODE), time.time())
    running("t-1", os.getpid(), time.time() - 200)
    code, _, err = probe("worker", "--node", NODE, "--max-task-seconds", "120")
    assert code == 1
    assert f"task collect_window [t-1] has run 200 s in process {os.getpid()}" in err


def test_it_forgets_a_task_whose_process_died_without_saying():
    beat_at(heartbeat.worker_name(NODE), time.time())
    running("t-2", dead_pid(), time.time() - 500)
    code, _, err = probe("worker", "--node", NODE)
    assert code == 0, err
    assert heartbeat.redis_client().hlen(heartbeat.key("running", NODE)) == 0


def test_it_excuses_a_silent_loop_that_runs_a_task_within_its_time():
    # The solo pool runs tasks in the main loop: no heartbeat while a collection runs.
    beat_at(heartbeat.worker_name(NODE), time.time() - 90)
    running("t-3", os.getpid(), time.time() - 80)
    code, out, err = probe("worker", "--node", NODE, "--max-age", "60")
    assert code == 0, err
    assert "busy with collect_window for 80 s" in out


def test_the_default_node_is_celerys_default_node_name(monkeypatch):
    monkeypatch.setattr(heartbeat.socket, "gethostname", lambda: "meshdash-worker-7d9f")
    beat_at(heartbeat.worker_name("celery@meshdash-worker-7d9f"), time.time())
    assert probe("worker")[0] == 0


def test_it_passes_a_beat_that_ticked_recently_and_fails_a_stale_or_missing_one():
    code, _, err = probe("beat")
    assert code == 1 and "beat: no heartbeat" in err
    beat_at(heartbeat.BEAT, time.time() - 10)
    assert probe("beat")[0] == 0
    beat_at(heartbeat.BEAT, time.time() - 130)
    code, _, err = probe("beat")
    assert code == 1 and "last tick 130 s ago, more than 120 s" in err
    assert probe("beat", "--max-age", "200")[0] == 0


def test_celerys_heartbeat_signal_refreshes_the_worker_heartbeat_at_most_every_few_seconds():
    sender = SimpleNamespace(eventer=SimpleNamespace(hostname=NODE))
    heartbeat._on_heartbeat_sent(sender=sender)
    key = heartbeat.key("heartbeat", heartbeat.worker_name(NODE))
    first = heartbeat.redis_client().get(key)
    assert first is not None and abs(float(first) - time.time()) < 5
    heartbeat._on_heartbeat_sent(sender=sender)  # 2 s later in real life: not written again
    assert heartbeat.redis_client().get(key) == first
    assert 0 < heartbeat.redis_client().ttl(key) <= heartbeat.KEY_TTL_SECONDS


def test_a_task_is_listed_as_running_between_prerun_and_postrun():
    task = SimpleNamespace(name="meshdash.collectors.tasks.collect_window")
    task.request = SimpleNamespace(hostname=NODE)
    heartbeat._on_task_prerun(task_id="abc", task=task)
    entries = heartbeat.redis_client().hgetall(heartbeat.key("running", NODE))
    assert list(entries) == [f"{os.getpid()}:abc".encode()]
    heartbeat._on_task_postrun(task_id="abc", task=task)
    assert heartbeat.redis_client().hlen(heartbeat.key("running", NODE)) == 0


def test_a_worker_starting_again_forgets_what_its_previous_life_was_running():
    running("old", os.getpid(), time.time() - 1000)
    heartbeat._on_worker_ready(sender=SimpleNamespace(hostname=NODE))
    assert heartbeat.redis_client().hlen(heartbeat.key("running", NODE)) == 0
    assert probe("worker", "--node", NODE)[0] == 0


def test_beats_scheduler_writes_the_heartbeat_on_each_tick(tmp_path):
    from meshdash.celery import app

    scheduler = beat.HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    try:
        assert probe("beat")[0] == 1
        interval = scheduler.tick()
        assert 0 < interval <= 30
        assert probe("beat")[0] == 0
    finally:
        scheduler.close()
