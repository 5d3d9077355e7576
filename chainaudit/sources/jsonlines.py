"""Bounded, strict reading of line-oriented JSON files, and canonical JSON lines.

Shared by every file adapter (chainaudit NDJSON exports, DynamoDB Export to
S3 data files, PostgreSQL COPY output) so that they agree on the rules of
EXP-2:

* a line is at most :data:`MAX_LINE_BYTES` bytes, checked *while reading*, so
  one huge line cannot exhaust memory;
* gzip is detected by its magic bytes and read transparently; a truncated or
  corrupt gzip stream is an :class:`~chainaudit.errors.InputError` naming the
  file;
* JSON is parsed strictly: UTF-8 only, no duplicate member names, no
  ``NaN``/``Infinity``, no lone surrogates.

:func:`canonical_json` produces RFC 8785 (JCS) bytes for the JSON subset that
chainaudit's line formats use (objects, arrays, strings, booleans, null and
integers of magnitude below 2**53). It is the ``rfc8785`` library's output,
byte for byte, for that subset (a property test pins this), at about a tenth
of the cost, which matters for exports of a million lines.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from chainaudit.errors import InputError
from chainaudit.primitives import strictjson

#: EXP-2: the longest line a reader accepts, in bytes, excluding the LF.
#: A DynamoDB item is at most 400 KB; base64 and JSON escaping stay well
#: below 1 MiB, so a longer line is never a real item.
MAX_LINE_BYTES = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 1 << 16
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_MAX_SAFE_INT = (1 << 53) - 1
_HIGH_BYTE = re.compile(rb"[\xee-\xff]")
_TOO_DEEP = f"malformed JSON: nested deeper than {strictjson.MAX_DEPTH} levels"
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, decompressing gzip when its magic bytes say so."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 (returned to the caller)
        try:
            magic = raw.read(2)
            raw.seek(0)
        except OSError:
            raw.close()
            raise
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if magic == _GZIP_MAGIC:
        raw.close()
        # gzip.open owns the file it opens and closes it with the stream.
        return cast(IO[bytes], gzip.open(path, "rb"))
    return raw


class _GzipStream(gzip.GzipFile):
    """A gzip reader that closes the stream it decompresses when it is closed."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(fileobj=stream, mode="rb")
        self._owned = stream

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


def decompressed(stream: io.BufferedReader) -> IO[bytes]:
    """``stream`` (read from its start, never seeked), decompressed when its
    first bytes are gzip's magic; closing the result closes ``stream``."""
    try:
        magic = stream.peek(2)[:2]
    except BaseException:
        stream.close()
        raise
    if magic == _GZIP_MAGIC:
        return cast(IO[bytes], _GzipStream(stream))
    return cast(IO[bytes], stream)


def iter_lines(
    path: Path | str,
    max_line_bytes: int = MAX_LINE_BYTES,
    *,
    opener: Callable[[], io.BufferedReader] | None = None,
    span: tuple[int, int, int] | None = None,
    name: str | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, bytes)`` for every line, LF included when present.

    Only the last line can lack its LF (the file ended there). A line longer
    than ``max_line_bytes`` raises :class:`InputError` after reading at most
    ``max_line_bytes + 1`` bytes of it. Line numbers start at 1.

    ``opener``, when given, returns the stored bytes as a stream (an S3
    object's body) and ``path`` is only the name messages give it; gzip is
    detected on the stream the same way (:func:`decompressed`).

    ``span = (start, end, first_line)`` reads only the lines of bytes
    ``start`` to ``end`` of an uncompressed file, both at line starts, the
    first being line ``first_line`` (a part of the file for one worker).

    ``name``: what messages call the file (default ``path``).
    """
    label = str(path) if name is None else name
    f = open_binary(Path(path)) if opener is None else decompressed(opener())
    lineno = 0
    left = -1
    if span is not None:
        f.seek(span[0])
        lineno, left = span[2] - 1, span[1] - span[0]
    try:
        while left:
            lineno += 1
            try:
                line = f.readline(max_line_bytes + 1)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise InputError(
                    f"{label}:{lineno}", f"truncated or corrupt gzip stream ({exc})"
                ) from None
            except OSError as exc:
                raise InputError(f"{label}:{lineno}", f"read error: {exc}") from None
            if not line:
                return
            if len(line) > max_line_bytes and not (
                len(line) == max_line_bytes + 1 and line.endswith(b"\n")
            ):
                raise InputError(
                    f"{label}:{lineno}", f"line is longer than the limit of {max_line_bytes} bytes"
                )
            if left > 0:
                left = max(0, left - len(line))
            yield lineno, line
    finally:
        f.close()


def count_remaining_lines(lines: Iterator[tuple[int, bytes]]) -> int:
    """Drain ``lines`` and return how many there were (used after a trailer)."""
    return sum(1 for _ in lines)


def parse_json_line(line: bytes, where: str, *, check_duplicates: bool = True) -> Any:
    """Parse one line (without its LF) strictly; raises :class:`InputError` at ``where``.

    ``check_duplicates=False`` skips the (slow) duplicate-name check; only for
    callers that then prove the line canonical, which rules duplicates out.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"not valid UTF-8 (byte {exc.start})") from None
    try:
        # json.loads with keyword arguments builds a new decoder per call;
        # reuse two, keeping json.loads's one check of its own (the BOM).
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        # chainaudit.primitives.strictjson's decoders also bound numbers (CLI-4).
        obj = (strictjson.STRICT_DECODER if check_duplicates else strictjson.DECODER).decode(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InputError(where, f"malformed JSON: {reason}") from None
    except RecursionError:
        raise InputError(where, _TOO_DEEP) from None
    if line.count(b"[") + line.count(b"{") > strictjson.MAX_DEPTH and strictjson.too_deep(obj):
        raise InputError(where, _TOO_DEEP)
    if _SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(obj):
        raise InputError(where, "malformed JSON: a string holds a lone surrogate (not UTF-8)")
    return obj


def _has_lone_surrogate(obj: Any) -> bool:
    if isinstance(obj, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in obj)
    if isinstance(obj, list):
        return any(_has_lone_surrogate(v) for v in obj)
    if isinstance(obj, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in obj.items())
    return False


def _utf16_key(s: str) -> bytes:
    # RFC 8785 section 3.2.3: members are sorted by their UTF-16 code units.
    return s.encode("utf-16-be", "surrogatepass")


def _sorted_copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sorted_copy(obj[k]) for k in sorted(obj, key=_utf16_key)}
    if isinstance(obj, list | tuple):
        return [_sorted_copy(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        if abs(obj) > _MAX_SAFE_INT:
            raise ValueError(f"integer {obj} is outside the exactly representable range")
        return obj
    raise TypeError(f"{type(obj).__name__} is not allowed in a canonical line")


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 bytes of ``obj`` (no trailing LF) for chainaudit's JSON subset.

    Precondition: numbers in ``obj`` are integers of magnitude below 2**53
    (chainaudit's lines hold numbers only in header and trailer counts).
    Raises UnicodeEncodeError for lone surrogates.

    Fast path: Python's ``sort_keys`` orders members by code point, RFC 8785
    by UTF-16 code unit; the two orders differ only for keys holding
    characters from U+E000 up, whose UTF-8 starts with a byte >= 0xEE. Only
    output containing such a byte is re-encoded with the exact ordering.
    """
    out = _FAST_ENCODER.encode(obj).encode("utf-8")
    if _HIGH_BYTE.search(out) is None:
        return out
    text = json.dumps(_sorted_copy(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")
