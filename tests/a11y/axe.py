"""axe-core (WCAG 2.1 A and AA) inside a page Chromium has open.

axe-core comes from the npm registry into ``tests/a11y/node_modules``
(``npm ci`` in this folder; ``.ci/run`` does it). The pages' CSP allows only
their own scripts, so contexts that audit are opened with ``bypass_csp``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.helpers import missing_service

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SETTLED = (
    "() => document.getAnimations().every((a) => a.playState !== 'running'"
    " || a.effect?.getTiming().iterations === Infinity)"
)

_RUN = """async ([tags, include]) => {
  const context = include ? { include: [include] } : document;
  const result = await window.axe.run(context, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({
      target: n.target.join(" "),
      summary: (n.failureSummary || "").split("\\n").slice(0, 3).join(" "),
    })),
  }));
}"""


def axe_source() -> str:
    if not AXE.exists():
        missing_service(f"{AXE} is missing: run `npm ci` in tests/a11y")
    return AXE.read_text()


async def violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """What axe finds on the page as it is now (or inside ``include``), once
    its animations have settled (a dialog fading in is not yet its colours)."""
    await page.wait_for_function(SETTLED)
    if not await page.evaluate("() => !!window.axe"):
        await page.add_script_tag(content=axe_source())
    found: list[dict[str, Any]] = await page.evaluate(_RUN, [TAGS, include])
    return found


def report(where: str, found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node['summary']}")
    return "\n".join(lines)


async def dialog_violations(page: Page, name: str) -> list[dict[str, Any]]:
    """What axe finds inside the open overlay named ``name`` (its
    ``data-dialog``, see tests/a11y/dialogs.py); waits for it to open."""
    selector = f'dialog[open][data-dialog="{name}"]'
    await page.locator(selector).wait_for()
    return await violations(page, selector)
