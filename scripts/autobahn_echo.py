"""An echo endpoint for the Autobahn TestSuite, built on relevo's real server.

Everything a client's bytes meet is the production code: uvicorn's listener,
the front door, the WebSocket transport, the frame parser, the session's
command queue and the hub. Only the command dispatch is replaced: each text
message is sent back as it came, and each binary message too (relevo's own
protocol refuses binary; the suite's framing cases need it echoed).

Run with the project's Python from the repository root; prints
``listening on PORT`` once ready and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relevo.hub.hub import Hub  # noqa: E402
from relevo.hub.session import Session  # noqa: E402
from relevo.protocol import ws  # noqa: E402
from relevo.server.app import RelevoServer, create_broker  # noqa: E402
from relevo.server.config import settings_from_mapping  # noqa: E402
from relevo.transport.websocket import WebSocketConnection  # noqa: E402

SETTINGS = {
    "server": {"host": "127.0.0.1", "port": 0, "log_level": "warning"},
    "auth": {"secret": "autobahn-echo-secret-0123456789abcdef", "api_key": "autobahn"},
    "limits": {
        # Case 7.1.6 sends 256 KiB; 9.x (excluded) up to 16 MiB.
        "max_frame_bytes": 16 * 1024 * 1024,
        "max_outbound_bytes": 64 * 1024 * 1024,
        # The suite sends back to back; the echo does no work to rate-limit.
        "command_burst": 100_000,
        "commands_per_second": 100_000.0,
    },
}


class EchoHub(Hub):
    async def handle_frame(self, session: Session, text: bytes) -> None:
        session.send(text)


def echo_binary(self: WebSocketConnection, data: bytes) -> None:
    if not self.closing and self.transport is not None:
        self.transport.write(ws.binary_frame(data))


async def main() -> None:
    WebSocketConnection.binary_received = echo_binary  # type: ignore[method-assign]
    settings = settings_from_mapping(SETTINGS)
    server = RelevoServer(settings, hub=EchoHub(settings, create_broker(settings)))
    await server.start()
    print(f"listening on {server.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
