"""The worked example examples/django-cargue (seed 003) as people use it:
Django's runserver and ``manage.py relevo_relay`` as processes, on a fresh
PostgreSQL database, a real relevo; a vendor ticks V on the phone page
(390 px) and the dispatcher of the vendor's grupo sees the row change
without a reload. The other grupo's dispatcher is not sent it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.apps.browsing import DESK, PHONE, Contexts, contexts, screenshot
from tests.conftest import API_KEY, SECRET
from tests.contrib.conftest import free_port, new_database, start_relevo, subprocess_env
from tests.helpers import timeout

__all__ = ["contexts"]

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django-cargue"


def manage(*args: str) -> list[str]:
    return [sys.executable, str(EXAMPLE / "manage.py"), *args]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The example's URL, with relevo, runserver and the relay running."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    relevo = start_relevo(server={"allowed_origins": [origin]})
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with new_database() as db, tempfile.TemporaryDirectory() as logs:
            env = subprocess_env(
                DJANGO_SETTINGS_MODULE="cargue_project.settings",
                CARGUE_DB=db,
                RELEVO_URL=relevo.url,
                RELEVO_API_KEY=API_KEY,
                RELEVO_TOKEN_SECRET=SECRET,
            )
            for step in (["migrate", "-v0"], ["seed_cargue"]):
                subprocess.run(
                    manage(*step),
                    env=env,
                    check=True,
                    timeout=timeout(120),
                    capture_output=True,
                )
            for name, args in (
                ("runserver", ["runserver", f"127.0.0.1:{port}", "--noreload"]),
                ("relay", ["relevo_relay", "--interval", "0.1"]),
            ):
                log = open(Path(logs) / f"{name}.log", "wb")  # noqa: SIM115
                procs.append(subprocess.Popen(manage(*args), env=env, stdout=log, stderr=log))
            deadline = time.monotonic() + timeout(60)
            while True:
                try:
                    if httpx.get(f"{origin}/login/", timeout=timeout(5)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError((Path(logs) / "runserver.log").read_text())
                time.sleep(0.1)
            yield origin
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout(30))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        relevo.stop()


async def sign_in(page: Page, url: str, user: str, screen: str) -> None:
    await page.goto(f"{url}/login/")
    await page.get_by_label("Usuario").fill(user)
    await page.get_by_label("Contraseña").fill("cargue123")
    await page.get_by_role("button", name="Ingresar").click()
    await page.wait_for_url(f"**/{screen}/")
    await page.wait_for_function("window.__cargueReady === true")


async def test_vendor_tick_reaches_the_dispatcher_of_the_grupo(
    site: str, contexts: Contexts
) -> None:
    _, phone = await contexts.page(**PHONE)
    _, desk = await contexts.page(**DESK)
    _, other_desk = await contexts.page(**DESK)
    await sign_in(phone, site, "v1", "vendedor")
    await sign_in(desk, site, "despacho1", "despacho")
    await sign_in(other_desk, site, "despacho2", "despacho")
    await expect(desk.locator("#conexion")).to_have_text("Conectado")

    item = phone.locator(".lineas li").first
    linea = await item.get_attribute("data-linea")
    tick = item.locator(".tick")
    cell = desk.locator(f'tr[data-linea="{linea}"] td.v')
    await expect(tick).to_have_attribute("aria-pressed", "false")
    await expect(cell).to_have_text("—")

    await tick.tap()
    await expect(tick).to_have_attribute("aria-pressed", "true")
    await expect(cell).to_have_text("✓")
    await expect(cell).to_have_class("v is-on")
    await screenshot(phone, "django-cargue-vendedor")
    await screenshot(desk, "django-cargue-despacho")

    await tick.tap()  # and back: the order holds
    await expect(tick).to_have_attribute("aria-pressed", "false")
    await expect(cell).to_have_text("—")
    # The sur dispatcher has no row of v1 and got no event for it.
    assert await other_desk.locator(f'tr[data-linea="{linea}"]').count() == 0
    assert await desk.evaluate("document.querySelectorAll('tr.flash').length") >= 1
    assert await other_desk.evaluate("document.querySelectorAll('tr.flash').length") == 0


async def test_a_vendor_cannot_tick_another_vendors_line(site: str, contexts: Contexts) -> None:
    _, v2 = await contexts.page(**PHONE)
    _, v1 = await contexts.page(**PHONE)
    await sign_in(v1, site, "v1", "vendedor")
    linea = await v1.locator(".lineas li").first.get_attribute("data-linea")
    await sign_in(v2, site, "v2", "vendedor")
    status = await v2.evaluate(
        """async (linea) => (await fetch(`/api/lineas/${linea}/v`, {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json",
                      "X-CSRFToken": document.body.dataset.csrf},
            body: JSON.stringify({v: true}),
        })).status""",
        linea,
    )
    assert status == 404
