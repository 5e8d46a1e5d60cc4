"""Run by test_outbox in a subprocess: one transition, with the fault hook set
to SIGKILL the process right after the commit and before any publish."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.sample_kinds import ALL  # noqa: E402

from relevo.broker.memory import MemoryBroker  # noqa: E402
from relevo.hub.hub import Hub  # noqa: E402
from relevo.records import Records  # noqa: E402
from relevo.settings import Settings  # noqa: E402


async def main(url: str, schema: str, lead_id: str) -> None:
    hub = Hub(Settings(), MemoryBroker())
    await hub.start()
    records = Records(url, ALL, schema=schema or None)
    records.attach(hub)
    await records.start()
    await records.transition("lead", lead_id, "assign", {"asesor_id": 4}, by="system")
    print("survived the fault hook", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
