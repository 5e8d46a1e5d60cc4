"""The Redis broker's publish batcher (relevo/broker/_redis_batch.py): the
publishes of one loop pass go to Redis as one pipeline, and pipelines reach
Redis in the order their publishes were asked.

The second is what keeps "a channel's offsets follow the order its
publications were sent": two pipelines in flight at once travel on two
pooled connections, and Redis runs whichever arrives first. The bench's S1
on Redis showed it (a thousand subscribers each saw a later publication
before an earlier one, nine times in a step). ``send`` below is a stand-in
for a pipeline whose round trip takes longer for a bigger batch, as on a
loaded node."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from relevo.broker._redis_batch import PublishBatcher, Results
from relevo.broker.base import HistoryOptions, PublishItem
from relevo.protocol.types import Publication

OPTS = HistoryOptions(size=10, ttl=60.0)


class FakeRedis:
    """Applies each pipeline after a delay that grows with its size, and
    gives each publication the channel's next offset as it is applied."""

    def __init__(self) -> None:
        self.applied: list[bytes] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, items: Sequence[PublishItem]) -> Results:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001 * len(items))
            out: Results = []
            for item in items:
                self.applied.append(item.data)
                out.append(Publication("c", len(self.applied), "e", item.data, 0, "ep"))
            return out
        finally:
            self.in_flight -= 1


def _item(n: int) -> PublishItem:
    return PublishItem("c", "e", str(n).encode(), OPTS)


async def test_pipelines_reach_redis_in_the_order_their_publishes_were_asked() -> None:
    redis = FakeRedis()
    batcher = PublishBatcher(redis.send)
    pending: list[asyncio.Task[Publication]] = []
    loop = asyncio.get_running_loop()
    for burst in (20, 1, 15, 2, 30, 1, 1, 8):  # big and small passes, back to back
        for _ in range(burst):
            pending.append(loop.create_task(batcher.publish(_item(len(pending)))))
        await asyncio.sleep(0)  # the next burst comes in a later pass
    pubs = await asyncio.gather(*pending)
    sent = [str(n).encode() for n in range(len(pending))]
    assert redis.applied == sent
    assert [p.data for p in pubs] == sent
    assert [p.offset for p in pubs] == list(range(1, len(sent) + 1))
    assert redis.most_in_flight == 1


async def test_a_failed_pipeline_fails_its_own_publishes_and_the_next_one_goes() -> None:
    calls: list[int] = []

    async def send(items: Sequence[PublishItem]) -> Results:
        calls.append(len(items))
        if len(calls) == 1:
            await asyncio.sleep(0.01)
            raise ConnectionError("redis went away")
        return [Publication("c", n, "e", i.data, 0, "ep") for n, i in enumerate(items, 1)]

    batcher = PublishBatcher(send)
    loop = asyncio.get_running_loop()
    first = [loop.create_task(batcher.publish(_item(n))) for n in range(3)]
    await asyncio.sleep(0)
    second = [loop.create_task(batcher.publish(_item(n))) for n in range(3, 5)]
    for task in first:
        with pytest.raises(ConnectionError):
            await task
    assert [p.data for p in await asyncio.gather(*second)] == [b"3", b"4"]
    assert calls == [3, 2]
