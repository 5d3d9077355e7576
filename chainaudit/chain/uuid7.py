"""UUIDv7 event ids: strict parsing, embedded time, ordering (CHAIN-6).

An ``event_id`` is hashed and sorted as a string, so exactly one spelling is
accepted: 36 characters, lowercase hex in groups 8-4-4-4-12, version nibble
7, variant bits ``10`` (RFC 9562). Pure: no clock, no randomness.

>>> u = parse("01890a5d-ac96-774b-bcce-b302099a8057")
>>> u is not None and unix_ms(u)
1688096058518
>>> parse("01890A5D-AC96-774B-BCCE-B302099A8057") is None
True
"""

from __future__ import annotations

import re

_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def parse(text: object) -> int | None:
    """The 128-bit value of a canonical UUIDv7, or None if ``text`` is not one."""
    if not isinstance(text, str) or not _CANONICAL.match(text):
        return None
    return int(text.replace("-", ""), 16)


def unix_ms(value: int) -> int:
    """The Unix time in milliseconds held in the first 48 bits (RFC 9562 §5.7)."""
    return value >> 80


def make(ms: int, rand_a: int, rand_b: int) -> str:
    """Build a canonical UUIDv7 from its parts (used by vector generators and tests).

    ``ms`` fills 48 bits, ``rand_a`` 12 bits, ``rand_b`` 62 bits.
    """
    if not (0 <= ms < 1 << 48 and 0 <= rand_a < 1 << 12 and 0 <= rand_b < 1 << 62):
        raise ValueError("UUIDv7 part out of range")
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    h = f"{value:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
