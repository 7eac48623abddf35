"""The checks as the README documents them: each check's docstring is its text."""

import inspect
from dataclasses import fields

from meshdash.mesh.checks.engine import CHECKS
from meshdash.mesh.checks.thresholds import ENV_PREFIX, CheckThresholds


def check_doc(check_id: str) -> str:
    """What the check detects, why it matters and the fix, as Markdown."""
    return inspect.getdoc(CHECKS[check_id]) or ""


def markdown() -> str:
    """Every check's text, then the thresholds with their settings and defaults."""
    parts = [check_doc(check_id) for check_id in CHECKS]
    rows = ["| setting | default |", "|---|---|"]
    defaults = CheckThresholds()
    for f in fields(CheckThresholds):
        rows.append(f"| `{ENV_PREFIX}{f.name.upper()}` | {getattr(defaults, f.name)} |")
    return "\n\n".join(parts + ["\n".join(rows)]) + "\n"
