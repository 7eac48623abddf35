"""The README's "Checks" reference is what the checks' docstrings say (scripts/readme_checks.py
writes it), and the docstrings say what the checks' defaults are."""

import importlib.util
import re
from dataclasses import fields
from pathlib import Path

import pytest

from meshdash.mesh.checks.docs import check_doc, markdown
from meshdash.mesh.checks.engine import CHECKS
from meshdash.mesh.checks.thresholds import ENV_PREFIX, CheckThresholds

ROOT = Path(__file__).resolve().parents[1]


def readme_tool():
    spec = importlib.util.spec_from_file_location(
        "readme_checks", ROOT / "scripts/readme_checks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_holds_what_the_checks_docstrings_say():
    tool = readme_tool()
    assert tool.section((ROOT / "README.md").read_text()) == markdown(), (
        "README.md's Checks section is not current: run `make readme`"
    )
    assert tool.main(["--check"]) == 0


def test_the_tool_rewrites_a_stale_section_and_only_it():
    tool = readme_tool()
    stale = f"# Title\n\nbefore\n\n{tool.BEGIN}\nold text\n{tool.END}\n\nafter\n"
    new = tool.rewritten(stale)
    assert tool.section(new) == markdown()
    assert new.startswith("# Title\n\nbefore\n\n") and new.endswith(f"{tool.END}\n\nafter\n")
    assert tool.rewritten(new) == new


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_each_check_says_what_it_detects_why_it_matters_and_the_fix(check_id):
    doc = check_doc(check_id)
    assert doc.startswith("**") and f"(`{check_id}`)." in doc.splitlines()[0]
    for part in ("Detects", "Why it matters:", "Fix:"):
        assert part in doc, (check_id, part)


def test_the_thresholds_table_names_every_setting_with_its_default():
    text = markdown()
    defaults = CheckThresholds()
    for f in fields(CheckThresholds):
        row = f"| `{ENV_PREFIX}{f.name.upper()}` | {getattr(defaults, f.name)} |"
        assert row in text


# A threshold named in a docstring with its default: "`memory_share_warning` (80 %", "`x`, 70 %".
NAMED_DEFAULT = re.compile(r"`(\w+)`(?: \(|, )(\d+(?:\.\d+)?)\s*(%|s\b)?")


def test_the_docstrings_give_each_thresholds_actual_default():
    defaults = CheckThresholds()
    names = {f.name for f in fields(CheckThresholds)}
    text = "\n".join(check_doc(check_id) for check_id in CHECKS)
    checked = set()
    for name, number, unit in NAMED_DEFAULT.findall(text.replace("\n", " ")):
        if name not in names:
            continue
        said = float(number)
        if unit == "%":
            said /= 100
        elif unit == "s" and name.endswith("_ms"):
            said *= 1000
        assert said == pytest.approx(getattr(defaults, name)), name
        checked.add(name)
    # Every threshold but the bounds of the engine itself is explained next to its check.
    assert names - checked <= {"max_findings_per_check", "memory_growth_min_points"}
