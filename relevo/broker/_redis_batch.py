"""Publishes asked in one event-loop pass go to Redis together.

A round trip per publish — redis-py's command path, a pooled connection,
one ``EVALSHA`` — cost a node on Redis about 0.4 ms of its loop each: it
saturated at ~2,000 publications a second where the memory broker took
ten times more. Like the write coalescing of the fan-out
(docs/decisions/0004-write-coalescing.md), what arrives while the node is
busy goes out in one go: the first publish of a pass schedules a send at
the end of the pass, and every publish asked until then joins it, in order.
An idle node sends each publish alone, one pass later than before.

One pipeline is in flight at a time: two would travel on two pooled
connections, and Redis runs whichever arrives first, so a channel's offsets
could follow another order than its publishes (the bench's S1 on Redis saw
a later publication reach a thousand subscribers before an earlier one).
Publishes asked while a pipeline is out wait for it and go in the next,
which is sent as soon as it returns: under load the batches grow instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from relevo.broker.base import PublishItem
from relevo.protocol.types import Publication

__all__ = ["PublishBatcher", "Results", "run_scripts"]

Results = list[Publication | Exception]
"""What a pipeline gave each item: its publication, or its own error."""
Waiter = asyncio.Future[Publication]


class PublishBatcher:
    def __init__(self, send: Callable[[Sequence[PublishItem]], Awaitable[Results]]) -> None:
        self._send = send
        self._items: list[PublishItem] = []
        self._waiting: list[Waiter] = []
        self._scheduled = False
        self._task: asyncio.Task[None] | None = None

    async def publish(self, item: PublishItem) -> Publication:
        loop = asyncio.get_running_loop()
        if not self._scheduled and self._task is None:
            self._scheduled = True
            loop.call_soon(self._flush)
        future: asyncio.Future[Publication] = loop.create_future()
        self._items.append(item)
        self._waiting.append(future)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        if self._task is not None or not self._items:
            return  # the pipeline out sends these when it returns
        items, self._items = self._items, []
        waiting, self._waiting = self._waiting, []
        self._task = asyncio.get_running_loop().create_task(self._run(items, waiting))
        self._task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._task = None
        self._flush()

    async def _run(
        self, items: list[PublishItem], waiting: list[asyncio.Future[Publication]]
    ) -> None:
        try:
            results = await self._send(items)
        except BaseException as exc:  # the connection failed: every item fails with it
            for future in waiting:
                if not future.done():
                    future.set_exception(
                        exc if isinstance(exc, Exception) else asyncio.CancelledError()
                    )
            if not isinstance(exc, Exception):
                raise
            return
        for future, result in zip(waiting, results, strict=True):
            if future.done():
                continue  # its caller went away (cancelled); the publish happened
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


async def run_scripts(
    client: Any, script: AsyncScript, calls: list[tuple[list[str], list[Any]]]
) -> list[Any]:
    """``script`` once per ``(keys, args)``, in one pipeline (one round trip
    per Redis node; a node runs its calls in order), each call's result or
    error in its place. A node that lost its script cache (a restart, a
    failover) refuses all its calls: the script is loaded and just those run."""
    results: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in range(2):
        pipe = client.pipeline(transaction=False)
        for i in todo:
            keys, args = calls[i]
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        for i, result in zip(todo, await pipe.execute(raise_on_error=False), strict=True):
            results[i] = result
        todo = [i for i in todo if isinstance(results[i], NoScriptError)]
        if not todo or attempt:
            break
        await client.script_load(script.script)
    return results
