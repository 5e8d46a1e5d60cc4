"""The path relevo rejected, measured beside it: a Starlette WebSocket endpoint
on uvicorn (uvloop, httptools, the `websockets` protocol implementation) where a
publication is encoded once and then sent with one ASGI ``send_text()`` per
subscriber — the per-subscriber ASGI send that docs/decisions/0001 compares
against relevo's single pre-built frame written to every transport.

usage: python asgi_app.py PORT   (relevo's own venv: it has starlette and uvicorn)
"""

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

rooms: dict[str, set[WebSocket]] = {}


async def endpoint(ws: WebSocket) -> None:
    await ws.accept()
    room: str | None = None
    try:
        while True:
            msg = json.loads(await ws.receive_text())
            if msg.get("type") == "join":
                if room is not None:
                    rooms[room].discard(ws)
                room = str(msg["room"])
                rooms.setdefault(room, set()).add(ws)
                await ws.send_text(json.dumps({"type": "joined", "room": room}))
            elif msg.get("type") == "pub":
                out = json.dumps({"type": "msg", "room": msg["room"], "data": msg["data"]})
                for member in list(rooms.get(str(msg["room"]), ())):
                    try:
                        await member.send_text(out)
                    except (WebSocketDisconnect, RuntimeError):
                        rooms[str(msg["room"])].discard(member)
    except WebSocketDisconnect:
        pass
    finally:
        if room is not None:
            rooms[room].discard(ws)


app = Starlette(routes=[WebSocketRoute("/", endpoint)])

if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        ws="websockets",
        log_level="warning",
        backlog=4096,
    )
