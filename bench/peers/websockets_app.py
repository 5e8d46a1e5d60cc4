"""`websockets` peer: rooms are sets of connections; a publication is
serialised once and sent with ``websockets.broadcast()`` (one frame, written
to every connection without awaiting).

usage: bench/.deps/venv/bin/python websockets_app.py PORT
"""

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = {}


async def handler(ws: ServerConnection) -> None:
    room: str | None = None
    try:
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "join":
                if room is not None:
                    rooms[room].discard(ws)
                room = str(msg["room"])
                rooms.setdefault(room, set()).add(ws)
                await ws.send(json.dumps({"type": "joined", "room": room}))
            elif msg.get("type") == "pub":
                members = rooms.get(str(msg["room"]))
                if members:
                    out = json.dumps({"type": "msg", "room": msg["room"], "data": msg["data"]})
                    broadcast(members, out)
    finally:
        if room is not None:
            rooms[room].discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, backlog=4096) as server:
        print(f"websockets listening on 127.0.0.1:{port}", file=sys.stderr)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
