"""How deeply a JSON text nests, measured without decoding it.

msgspec decodes recursively and stops only at the interpreter's recursion
limit, so the depth it accepts depends on how deep the caller's stack already
is. The protocol bounds nesting itself, before decoding, so a frame is refused
the same way wherever it is parsed. Only texts with more openers than the
limit are scanned, and the scan runs at C speed (``bytes`` methods and one
regex match): a few linear passes over the frame.
"""

from __future__ import annotations

import functools
import re

__all__ = ["nests_deeper_than"]

_AS_PARENS = bytes.maketrans(b"[]{}", b"()()")
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


@functools.lru_cache(maxsize=4)
def _balanced_within(limit: int) -> re.Pattern[bytes]:
    """Balanced parentheses nested at most ``limit`` deep. Bounded nesting is a
    regular language; with possessive repeats each byte is looked at once."""
    pattern = b""
    for _ in range(limit):
        pattern = rb"(?:\(" + pattern + rb"\))*+"
    return re.compile(pattern)


def _without_strings(text: bytes) -> bytes:
    # Drop the escapes that could hide a quote (``\\`` first, so ``\\"`` ends
    # a string), then every other piece between quotes is a string's inside.
    text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(text.split(b'"')[::2])


def nests_deeper_than(text: bytes, limit: int) -> bool:
    """Whether valid JSON ``text`` opens more than ``limit`` arrays/objects
    inside one another. For invalid JSON the answer may be ``True`` when
    brackets do not pair up; the decoder would refuse such text anyway."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False  # fewer openers than the limit: cannot nest deeper
    brackets = _without_strings(text).translate(_AS_PARENS, _NOT_BRACKETS)
    return _balanced_within(limit).fullmatch(brackets) is None
