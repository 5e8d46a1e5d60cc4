"""python-socketio peer (ASGI, served by uvicorn): ``enter_room`` on join
(the handler's return value is the ack), ``emit(..., room=)`` on publish.

usage: bench/.deps/venv/bin/uvicorn pysocketio_app:app --app-dir bench/peers \
           --host 127.0.0.1 --port PORT
"""

from typing import Any

import socketio

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])
app = socketio.ASGIApp(sio)


@sio.on("join")
async def join(sid: str, room: Any) -> str:
    await sio.enter_room(sid, str(room))
    return "ok"


@sio.on("pub")
async def pub(sid: str, msg: dict[str, Any]) -> None:
    await sio.emit("m", msg["data"], room=str(msg["room"]))
