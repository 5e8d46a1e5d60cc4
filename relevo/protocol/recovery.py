"""Pure recovery logic: given what a client has seen and what history holds,
decide whether the gap can be closed exactly."""

from __future__ import annotations

from relevo.protocol.types import Publication, StreamPosition

__all__ = ["is_recovered", "merge_buffered"]


def is_recovered(since: StreamPosition, top: StreamPosition, missed: list[Publication]) -> bool:
    """True when ``missed`` is exactly every publication after ``since`` up to ``top``.

    ``missed`` is what history returned for offsets greater than ``since.offset``.
    Anything else (another epoch, a position from the future, a trimmed head)
    is a gap the client must close by reloading its snapshot.
    """
    if since.epoch != top.epoch or since.offset > top.offset:
        return False
    if since.offset == top.offset:
        return True
    if not missed or missed[0].offset != since.offset + 1:
        return False
    return missed[-1].offset == top.offset and len(missed) == top.offset - since.offset


def merge_buffered(top_offset: int, buffered: list[Publication]) -> list[Publication]:
    """Publications that arrived live while history was read: keep the ones
    history did not already cover, in order, without duplicates."""
    seen: set[int] = set()
    out: list[Publication] = []
    for pub in buffered:
        if pub.offset > top_offset and pub.offset not in seen:
            seen.add(pub.offset)
            out.append(pub)
    out.sort(key=lambda p: p.offset)
    return out
