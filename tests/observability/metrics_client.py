"""Scraping meshdash's /metrics WSGI app in-process, and reading what it answered."""

from wsgiref.util import setup_testing_defaults

from prometheus_client.parser import text_string_to_metric_families

from meshdash.observability.server import metrics_app


def call(app, path="/metrics", remote="127.0.0.1", headers=None) -> tuple[str, str]:
    environ = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, REMOTE_ADDR=remote, REQUEST_METHOD="GET")
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    answered = []
    body = b"".join(app(environ, lambda status, headers: answered.append(status)))
    return answered[0], body.decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def scrape(**labels_by_name) -> dict[tuple[str, tuple], float]:
    status, text = call(metrics_app())
    assert status == "200 OK", text
    return samples(text)


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))
