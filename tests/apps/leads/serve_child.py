"""A leads server in its own process, for the restart test: it can be
killed (SIGKILL, as a crash) and started again on the same SQLite file and
port, and the state must survive.

    python -m tests.apps.leads.serve_child --db leads.db --port 8123 [--timeout 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from relevo.apps.leads.kinds import USER

from .conftest import seed_users, start_leads_server


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--options", default="{}")
    args = p.parse_args()
    srv = await start_leads_server(Path(args.db), json.loads(args.options), port=args.port)
    if not await srv.records.find(USER, {}, limit=1):
        await seed_users(srv.records)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready {srv.url}", flush=True)
    await stop.wait()
    await srv.server.stop()


if __name__ == "__main__":
    asyncio.run(main())
