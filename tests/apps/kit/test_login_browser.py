"""The one login page (``/static/ui/login.html``), served as ``/<app>/login``
for every app: in demo mode a person picks a user and lands on that role's
screen, signed in where the app's pages look for the session; outside demo
mode it says where tokens come from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.apps.browsing import DESK, Contexts, contexts  # noqa: F401
from tests.web.fullserver import FullServer, start_full_server

pytestmark = pytest.mark.browser

PICKS = [
    # app, login URL, user, where that user lands, the name its top bar shows
    ("leads", "/leads/login", "g1", "/leads/gtr", "Ana Pérez"),
    ("cargue", "/cargue/", "v1", "/cargue/vendedor", "Carlos Ruiz"),
    ("inbox", "/inbox/login", "ana@condorito", "/inbox/", "Ana Torres"),
    ("turnos", "/turnos/login", "supervisor", "/turnos/admin", "Laura Méndez"),
]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable[[bool], Awaitable[FullServer]]]:
    """Every app, as ``relevo demo`` (``True``) or ``relevo serve`` mounts them."""
    started: list[FullServer] = []

    async def run(demo: bool) -> FullServer:
        started.append(await start_full_server(tmp_path / f"{len(started)}.db", demo=demo))
        return started[-1]

    yield run
    for srv in started:
        await srv.stop()


async def test_each_app_signs_a_demo_user_in_on_the_same_page(
    start: Callable[[bool], Awaitable[FullServer]],
    contexts: Contexts,  # noqa: F811
) -> None:
    full = await start(True)
    for app, login, user, lands, name in PICKS:
        _, page = await contexts.page(**DESK)
        await page.goto(full.url + login)
        await page.wait_for_function(f"window.__{app}Ready === true")
        assert await page.evaluate("document.querySelectorAll('script').length") == 1
        await page.locator(f'[data-user="{user}"]').click()
        await page.wait_for_url(f"**{lands}")
        await expect(page.locator("header.topbar .user-chip")).to_contain_text(name)
        # back on the login page, the open session is offered
        await page.goto(full.url + login)
        await expect(page.locator("#notice")).to_contain_text(name)


async def test_outside_demo_mode_the_page_asks_for_a_password_only(
    start: Callable[[bool], Awaitable[FullServer]],
    contexts: Contexts,  # noqa: F811
) -> None:
    # Sign-in (accounts) is on wherever the server has records and a secret:
    # the password form, and no demo picker.
    bare = await start(False)
    for _, login, *_ in PICKS:
        _, page = await contexts.page(**DESK)
        await page.goto(bare.url + login)
        await expect(page.locator("#login-form")).to_be_visible()
        await expect(page.locator("[data-user]")).to_have_count(0)


async def test_the_top_bar_names_relevo_once_and_the_app_beside_it(
    start: Callable[[bool], Awaitable[FullServer]],
    contexts: Contexts,  # noqa: F811
) -> None:
    # relevo's own sign-in (/login, every app) is "relevo", not "relevo | relevo";
    # an app's sign-in keeps its name beside the brand.
    full = await start(True)
    _, page = await contexts.page(**DESK)
    for login, app in [("/login", None), ("/leads/login", "Leads"), ("/inbox/login", "Bandeja")]:
        await page.goto(full.url + login)
        brand = page.locator("header.topbar .brand")
        await expect(brand).to_be_visible()
        await page.wait_for_function("() => document.title.endsWith('Entrar')")
        text = " ".join((await brand.inner_text()).split())
        if app is None:
            await expect(brand.locator(".brand-app")).to_have_count(0)
            assert text.lower().count("relevo") == 1, text
        else:
            await expect(brand.locator(".brand-app")).to_have_text(app)
            assert text.lower().count("relevo") == 1, text
