"""`make readme`: rewrite the README's "Checks" reference from the checks' own docstrings.

The text between the two markers below is ``meshdash.mesh.checks.docs.markdown()``: each
check's docstring (what it detects, why it matters, the fix) and the thresholds table.
``--check`` changes nothing and exits 1 when the README differs (tests/test_readme_checks.py
keeps them equal).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meshdash.mesh.checks.docs import markdown  # noqa: E402

README = ROOT / "README.md"
BEGIN = "<!-- checks:begin (make readme writes this part from the checks' docstrings) -->"
END = "<!-- checks:end -->"


def section(text: str) -> str:
    """What the README holds between the markers (ValueError when they are missing)."""
    start = text.index(BEGIN) + len(BEGIN)
    return text[start : text.index(END, start)].strip("\n") + "\n"


def rewritten(text: str) -> str:
    """``text`` with the part between the markers replaced by ``markdown()``."""
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END, start)
    return f"{text[:start]}\n\n{markdown()}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    text = README.read_text()
    new = rewritten(text)
    if args.check:
        if new != text:
            print("README.md's Checks section is not current: run `make readme`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
