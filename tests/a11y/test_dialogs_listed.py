"""Every dialog, confirmation, prompt and drawer a page can open is walked
by an axe test: the names in the static files (tests/a11y/dialogs.py) are
exactly the names the axe tests open. A new dialog without an axe walk fails
here, and so does a walk of a dialog that no longer exists."""

from __future__ import annotations

from tests.a11y.dialogs import declared, raw_dialogs, walked


def test_every_overlay_call_names_its_overlay_once() -> None:
    names, unnamed = declared()
    assert names, "no overlay found: has the UI kit's overlay.js moved?"
    assert not unnamed, f"overlay calls without `name` as their first key: {unnamed}"
    twice = {n: where for n, where in names.items() if len(where) > 1}
    assert not twice, f"one name, several overlays: {twice}"


def test_pages_open_dialogs_only_through_the_ui_kit() -> None:
    # a <dialog> made by hand would carry no name, and no walk would be asked of it
    assert not raw_dialogs(), f"dialogs made outside ui/overlay.js: {raw_dialogs()}"


def test_every_named_overlay_is_walked_by_an_axe_test() -> None:
    names, _ = declared()
    walks = walked()
    missing = sorted(set(names) - set(walks))
    stale = sorted(set(walks) - set(names))
    assert not missing, f"dialogs no axe test opens: {[(n, names[n][0]) for n in missing]}"
    assert not stale, f"axe walks of dialogs that no page opens: {stale}"
