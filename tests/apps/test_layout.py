"""One app shape (STYLE.md, rule 16): every app has the same files, and takes
its plumbing — errors, body reader, pages, the demo login, options, the
pages' session and API code, the login page — from the kit, never a copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relevo.apps import KNOWN_APPS

ROOT = Path(__file__).resolve().parents[2] / "relevo"
APPS = ROOT / "apps"
UI = ROOT / "server" / "static" / "ui"
SHAPE = ("__init__.py", "kinds.py", "service.py", "http.py", "options.py", "demo.py")
PLUMBING = ("errors.py", "web.py", "pages.py", "extension.py", "standalone.py", "ratelimit.py")


@pytest.mark.parametrize("app", KNOWN_APPS)
def test_every_app_has_the_same_files(app: str) -> None:
    folder = APPS / app
    missing = [name for name in SHAPE if not (folder / name).is_file()]
    assert not missing, f"{app} lacks {missing}"
    assert (folder / "static" / "common.js").is_file()
    copies = [name for name in PLUMBING if (folder / name).exists()]
    assert not copies, f"{app} has its own plumbing: {copies} (use relevo/apps/kit)"
    assert not (folder / "static" / "login.html").exists(), "one login page: /static/ui/login.html"


@pytest.mark.parametrize("app", KNOWN_APPS)
def test_no_app_writes_a_helper_of_the_kit_again(app: str) -> None:
    for path in sorted((APPS / app).glob("*.py")):
        text = path.read_text()
        where = path.relative_to(ROOT.parent)
        assert "relevo.server" not in text or "bench" in path.name, f"{where} imports upward"
        assert not re.search(r"\.extra = ", text), f"{where} sets exc.extra (use kit.errors)"
        assert not re.search(r"^class \w+\((ProtocolError|NotFound|Conflict)", text, re.M), where
        assert not re.search(r"ConfigError\(f\"\{where\}: (unknown|expected)", text), where
        assert "def read_json" not in text, f"{where} reads bodies itself (kit.http.read_json)"
    for path in sorted((APPS / app / "static").glob("*.js")):
        text = path.read_text()
        where = path.relative_to(ROOT.parent)
        for copy in ("class ApiError", "function claims(", "atob(", "function saveSession("):
            assert copy not in text, f"{where}: {copy!r} is the UI kit's (/static/ui/session.js)"


def test_admin_page_takes_the_session_module_too() -> None:
    admin = (ROOT / "server" / "static" / "admin.js").read_text()
    assert "class ApiError" not in admin
    assert "/static/ui/session.js" in admin
    assert (UI / "session.js").is_file()
    assert (UI / "login.html").is_file()
