"""Django Channels 4 peer, served by daphne: one AsyncJsonWebsocketConsumer;
join = ``group_add``, publish = ``group_send`` to the room's group, and each
member's ``room_message`` handler sends the event to its socket.

The channel layer is chosen by BENCH_CHANNEL_LAYER: ``memory`` (the
InMemoryChannelLayer, one process only) or ``redis`` (channels_redis against
BENCH_REDIS_URL, default redis://127.0.0.1:6379/15). redis-py 6+ caps an
asyncio pool at 100 connections and raises past that, so the pool size is set
in channels_redis's documented host-dict form (BENCH_REDIS_MAX_CONNECTIONS).

usage: cd bench/peers && BENCH_CHANNEL_LAYER=memory \
           ../.deps/venv/bin/daphne -e tcp:port=PORT:interface=127.0.0.1:backlog=4096 \
           channels_app:application
"""

import os
from typing import Any

import django
from django.conf import settings

LAYERS = {
    "memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "redis": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                    "max_connections": int(os.environ.get("BENCH_REDIS_MAX_CONNECTIONS", "1000")),
                }
            ],
            "prefix": "relevo-bench",
        },
    },
}

settings.configure(
    DEBUG=False,
    SECRET_KEY="relevo-bench-peer",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    ROOT_URLCONF=__name__,
    CHANNEL_LAYERS={"default": LAYERS[os.environ.get("BENCH_CHANNEL_LAYER", "memory")]},
)
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns: list[Any] = []


class RoomConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    room: str | None = None

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if content.get("type") == "join":
            if self.room is not None:
                await self.channel_layer.group_discard(self.room, self.channel_name)
            self.room = str(content["room"])
            await self.channel_layer.group_add(self.room, self.channel_name)
            await self.send_json({"type": "joined", "room": self.room})
        elif content.get("type") == "pub":
            await self.channel_layer.group_send(
                str(content["room"]),
                {"type": "room.message", "room": content["room"], "data": content["data"]},
            )

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "msg", "room": event["room"], "data": event["data"]})

    async def disconnect(self, code: int) -> None:
        if self.room is not None:
            await self.channel_layer.group_discard(self.room, self.channel_name)


application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter([path("ws/", RoomConsumer.as_asgi())]),
    }
)
