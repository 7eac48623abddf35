"""Signed-in people browsing meshdash, for `make bench-load` (scripts/bench_load.py runs it).

Each simulated user holds the session and API token of one prepared user (the JSON file named
by BENCH_LOAD_USERS) and, between pauses, does what people do: opens the overview, a workload
list with some sort or filter, then mostly follows the links of the page in front of them
(sorts, pages, namespaces, workload pages), now and then reads the bookmarks page, calls the
JSON API with their token, and (tag ``write``) saves a view and deletes it again.

Every answer's status is counted per second into BENCH_LOAD_TIMELINE (one JSON line a second),
so that the benchmark can tell how many 5xx a fault caused and when.
"""

import html
import itertools
import json
import os
import random
import re
import threading
import time
from collections import Counter

from locust import FastHttpUser, between, events, tag, task

USERS = json.loads(open(os.environ["BENCH_LOAD_USERS"]).read())  # noqa: SIM115
TIMELINE = os.environ.get("BENCH_LOAD_TIMELINE", "")
THINK = tuple(float(s) for s in os.environ.get("BENCH_LOAD_THINK", "0.5,2").split(","))
SORTS = ("health", "name", "namespace", "rps", "success_rate", "p99", "meshed")
HEALTH = ("critical", "warning", "no-traffic", "not-meshed", "healthy")
LINK = re.compile(r'href="(/[^"]*)"')
# Links a person follows while looking at the mesh; never logout, admin or static files.
BROWSABLE = re.compile(r"^/(\?|workloads/|namespaces/|bookmarks/$)")
_next_user = itertools.count()
_counts: Counter = Counter()
_counts_lock = threading.Lock()


def kind_of(path: str) -> str:
    """The request's name in the statistics: the kind of page, not its URL."""
    path, _, query = path.partition("?")
    if path.startswith("/api/"):
        parts = path.rstrip("/").split("/")
        return "api " + ("/".join(parts[3:4]) + (" detail" if len(parts) > 4 else ""))
    if path == "/":
        return "overview"
    if path == "/workloads/":
        return "workload list"
    if path.startswith("/workloads/"):
        return "workload detail"
    if path == "/namespaces/":
        return "namespace list"
    if path.startswith("/namespaces/"):
        return "namespace page"
    if path.startswith("/bookmarks/"):
        return "bookmarks"
    return "other"


@events.request.add_listener
def count_status(response=None, exception=None, **_kwargs):
    status = getattr(response, "status_code", None) or 0
    with _counts_lock:
        _counts[status] += 1


def _write_timeline(stop: threading.Event) -> None:
    with open(TIMELINE, "a") as out:
        while not stop.wait(1.0):
            with _counts_lock:
                counts = dict(_counts)
                _counts.clear()
            out.write(json.dumps({"t": round(time.time(), 1), "status": counts}) + "\n")
            out.flush()


_stop_timeline = threading.Event()


@events.init.add_listener
def start_timeline(environment, **_kwargs):
    if TIMELINE:
        threading.Thread(target=_write_timeline, args=(_stop_timeline,), daemon=True).start()


@events.quitting.add_listener
def stop_timeline(environment, **_kwargs):
    _stop_timeline.set()


class Person(FastHttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        me = USERS[next(_next_user) % len(USERS)]
        self.name = me["username"]
        self.cookies = f"{me['session_cookie']}={me['session']}; csrftoken={me['csrf']}"
        self.csrf = me["csrf"]
        self.token = me["token"]
        self.links: list[str] = []
        self.open("/")

    def open(self, path: str):
        with self.client.get(
            path, headers={"Cookie": self.cookies}, name=kind_of(path), catch_response=True
        ) as response:
            if response.status_code == 200:
                links = [html.unescape(link) for link in LINK.findall(response.text or "")]
                self.links = [link for link in links if BROWSABLE.match(link)] or self.links
                response.success()
            else:
                response.failure(f"status {response.status_code}")
        return response

    def api(self, path: str, method: str = "GET", body=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        with self.client.request(
            method, path, headers=headers, json=body, name=kind_of(path), catch_response=True
        ) as response:
            if response.status_code < 400:
                response.success()
            else:
                response.failure(f"status {response.status_code}")
            return response

    @task(10)
    def follow_a_link(self):
        if not self.links:
            return self.open("/")
        return self.open(random.choice(self.links))

    @task(3)
    def open_a_list(self):
        params = {"sort": random.choice(SORTS), "dir": random.choice(("asc", "desc"))}
        if random.random() < 0.3:
            params["health"] = random.choice(HEALTH)
        if random.random() < 0.2:
            params["q"] = random.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        if random.random() < 0.2:
            params["page"] = str(random.randint(2, 20))
        query = "&".join(f"{key}={value}" for key, value in params.items())
        self.open(f"/workloads/?{query}")

    @task(2)
    def overview(self):
        self.open("/")

    @task(1)
    def namespaces(self):
        self.open("/namespaces/?sort=" + random.choice(("health", "name", "rps", "workloads")))

    @task(1)
    def bookmarks(self):
        self.open("/bookmarks/")

    @task(3)
    def read_the_api(self):
        sort = random.choice(SORTS)
        response = self.api(f"/api/v1/workloads?sort={sort}&per_page=25")
        items = response.json().get("items", []) if response.status_code == 200 else []
        if items:
            item = random.choice(items)
            self.api(f"/api/v1/workloads/{item['namespace']}/{item['kind']}/{item['name']}")
        if random.random() < 0.3:
            self.api("/api/v1/namespaces?sort=health")

    @tag("write")
    @task(1)
    def save_a_view_and_drop_it(self):
        url = random.choice(self.links) if self.links else "/workloads/?sort=rps"
        created = self.api(
            "/api/v1/bookmarks", "POST", {"title": f"{self.name} at {time.time():.0f}", "url": url}
        )
        if created.status_code == 201:
            self.open("/bookmarks/")
            self.api(f"/api/v1/bookmarks/{created.json()['id']}", "DELETE")
