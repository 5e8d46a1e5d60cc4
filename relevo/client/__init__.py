"""Python SDK: publish from a backend (sync or async) and subscribe with recovery.

from relevo.client import RelevoClient
RelevoClient("http://127.0.0.1:8000", api_key).publish("gtr", "CLIENT_IN_GESTION", {"id": 4})

async with Subscriber("ws://127.0.0.1:8000/ws", token=tok, channels=["gtr"]) as sub:
    async for pub in sub:
        ...
"""

from relevo.client.http import AsyncRelevoClient, RelevoClient, RelevoHTTPError
from relevo.client.subscriber import Subscriber, SubscriberPublication, SubscriberStopped

__all__ = [
    "AsyncRelevoClient",
    "RelevoClient",
    "RelevoHTTPError",
    "Subscriber",
    "SubscriberPublication",
    "SubscriberStopped",
]
