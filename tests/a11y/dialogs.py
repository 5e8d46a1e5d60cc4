"""The overlays the pages open, found in the static files, and the ones the
axe tests open.

Every page opens its dialogs, confirmations, prompts and drawers through the
UI kit (``relevo/server/static/ui/overlay.js``), and every call names its
overlay first (``ui.dialog({ name: "leads-edit", ... })``), which the page
marks ``data-dialog="leads-edit"``. The axe tests open each one in Chromium
and audit it with ``axe_dialog(page, "<name>")``, which first checks that
the open dialog carries that name.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = ROOT / "relevo" / "server" / "static" / "ui" / "overlay.js"
_CALL = re.compile(r"\b(?:dialog|confirm|prompt|drawer)\(\{")
_NAMED = re.compile(r'\b(?:dialog|confirm|prompt|drawer)\(\{\s*name:\s*"([a-z][a-z0-9-]*)"')
_RAW = re.compile(r'showModal\(|<dialog\b|\bh\(\s*"dialog"|createElement\(\s*"dialog"')
_WALK = re.compile(r'\baxe_dialog\(\s*\w+\s*,\s*"([a-z][a-z0-9-]*)"')


def static_files() -> list[Path]:
    found = [
        p
        for ext in ("js", "html")
        for p in (ROOT / "relevo").rglob(f"*.{ext}")
        if "static" in p.parts and p != OVERLAY
    ]
    return sorted(found)


def declared() -> tuple[dict[str, list[str]], list[str]]:
    """Each overlay's name → where it is opened; and the calls with no name."""
    names: dict[str, list[str]] = {}
    unnamed: list[str] = []
    for path in static_files():
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        calls, named = list(_CALL.finditer(text)), list(_NAMED.finditer(text))
        for m in named:
            names.setdefault(m.group(1), []).append(where)
        starts = {m.start() for m in named}
        for m in calls:
            if m.start() not in starts:
                line = text.count("\n", 0, m.start()) + 1
                unnamed.append(f"{where}:{line}")
    return names, unnamed


def raw_dialogs() -> list[str]:
    """Dialogs a page makes itself, outside the UI kit (so without a name)."""
    found = []
    for path in static_files():
        text = path.read_text(encoding="utf-8")
        for m in _RAW.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)}")
    return found


def walked() -> dict[str, list[str]]:
    """Each name an axe test opens → the test files that do."""
    names: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in _WALK.finditer(text):
            names.setdefault(m.group(1), []).append(str(path.relative_to(ROOT)))
    return names
