from __future__ import annotations

from relevo.protocol.recovery import is_recovered, merge_buffered
from relevo.protocol.types import Publication, StreamPosition


def pubs(*offsets: int) -> list[Publication]:
    return [Publication("c", o, "e", b"1", 0, "e1") for o in offsets]


def test_recovered_only_when_the_gap_is_closed_exactly() -> None:
    top = StreamPosition("e1", 10)
    assert is_recovered(StreamPosition("e1", 10), top, [])
    assert is_recovered(StreamPosition("e1", 7), top, pubs(8, 9, 10))
    assert not is_recovered(StreamPosition("e1", 7), top, pubs(9, 10))  # head trimmed
    assert not is_recovered(StreamPosition("e1", 7), top, pubs(8, 9))  # limit cut it short
    assert not is_recovered(StreamPosition("e0", 7), top, pubs(8, 9, 10))  # other epoch
    assert not is_recovered(StreamPosition("e1", 11), top, [])  # from the future


def test_merge_buffered_drops_what_history_covered() -> None:
    assert [p.offset for p in merge_buffered(10, pubs(9, 10, 12, 11, 12))] == [11, 12]
