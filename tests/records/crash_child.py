"""Run by test_outbox in a subprocess: one transition, with the fault hook set
(``RELEVO_RECORDS_FAULT``) to SIGKILL the process at one point of its way:
``after_commit`` (before any publish) or ``after_publish`` (before the outbox
row is marked sent). An optional fourth argument is a Redis broker URL, so the
publication outlives the process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
# This tree's relevo, whatever the interpreter has installed (a worktree).
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]

from records.sample_kinds import ALL  # noqa: E402

from relevo.broker.base import Broker  # noqa: E402
from relevo.broker.memory import MemoryBroker  # noqa: E402
from relevo.broker.redis import RedisBroker  # noqa: E402
from relevo.hub.hub import Hub  # noqa: E402
from relevo.records import Records  # noqa: E402
from relevo.settings import Settings  # noqa: E402


async def main(url: str, schema: str, lead_id: str, broker_url: str = "") -> None:
    broker: Broker = RedisBroker(broker_url) if broker_url else MemoryBroker()
    hub = Hub(Settings(), broker)
    await hub.start()
    records = Records(url, ALL, schema=schema or None)
    records.attach(hub)
    await records.start()
    await records.transition("lead", lead_id, "assign", {"asesor_id": 4}, by="system")
    await records.wait_published()
    print("survived the fault hook", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
