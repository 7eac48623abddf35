"""Apps point one way: bookmarks may use the dashboard's public interface for frozen views
(meshdash.dashboard.freezing); the dashboard never imports bookmarks, and reads what bookmarks
shows through bookmarks' template tags. Nor do bookmarks' templates load a dashboard library."""

import ast
import re
from pathlib import Path

from django.template.backends.django import get_installed_libraries

ROOT = Path(__file__).resolve().parent.parent
LOAD_RE = re.compile(r"{%\s*load\s+(.+?)\s*%}")


def imports(package: str) -> dict[str, set[str]]:
    """Module file -> the meshdash modules it imports."""
    found = {}
    for path in (ROOT / "meshdash" / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {n for n in names if n.startswith("meshdash.")}
    return found


def test_the_dashboard_never_imports_bookmarks():
    for module, names in imports("dashboard").items():
        assert not [n for n in names if n.startswith("meshdash.bookmarks")], module


def test_bookmarks_use_only_the_dashboards_freezing_interface():
    allowed = ("meshdash.dashboard.freezing",)
    for module, names in imports("bookmarks").items():
        used = {n for n in names if n.startswith("meshdash.dashboard")}
        assert all(n.startswith(allowed) for n in used), (module, used)


def test_bookmarks_templates_load_no_dashboard_library():
    libraries = get_installed_libraries()  # name -> module
    loaded = set()
    for path in (ROOT / "templates" / "bookmarks").glob("*.html"):
        for load in LOAD_RE.findall(path.read_text()):
            words = load.split()
            loaded.update(words[words.index("from") + 1 :] if "from" in words else words)
    assert loaded
    for name in loaded:
        assert not libraries[name].startswith("meshdash.dashboard"), name
