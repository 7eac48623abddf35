"""Reading Prometheus text exposition in the tests: (name, labels) -> value."""

import re

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"not a sample line: {line[:200]!r}")
        name, labels, value, _timestamp = match.groups()
        pairs = _LABEL.findall(labels or "")
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError(f"duplicate label names: {line[:200]!r}")
        key = (name, frozenset(pairs))
        if key in samples:
            raise ValueError(f"duplicate series: {line[:200]!r}")
        samples[key] = float(value)
    return samples


def total(samples, name: str, group: tuple[str, ...], **match: str) -> dict[tuple, float]:
    """sum by (group) (name{match}) over parsed samples; a value "!x" matches anything but x."""
    sums: dict[tuple, float] = {}
    for (sample_name, labels), value in samples.items():
        if sample_name != name:
            continue
        labels = dict(labels)
        if any(
            labels.get(k, "") == v[1:] if v.startswith("!") else labels.get(k, "") != v
            for k, v in match.items()
        ):
            continue
        key = tuple(labels.get(k, "") for k in group)
        sums[key] = sums.get(key, 0.0) + value
    return sums
