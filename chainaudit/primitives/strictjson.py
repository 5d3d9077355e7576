"""JSON parsing that fails with a ValueError and a short reason, never otherwise.

Every file chainaudit reads (export lines, checkpoints, trusted keys,
manifests, proofs, leaves, vector answers) is parsed here, so that no input
can end a run in a traceback (docs/cli.md CLI-4):

* nesting is bounded: a document nested deeper than :data:`MAX_DEPTH`
  arrays and objects is refused. DynamoDB allows 32 levels of nested
  ``M``/``L`` values, which take at most 2 x 32 + 4 levels in any of
  chainaudit's line formats, so no real item comes near the bound; a bound
  keeps every recursive walk of a parsed value far from Python's recursion
  limit;
* numbers are bounded: an integer of more than :data:`MAX_INT_DIGITS` digits,
  or a number beyond the double range (``1e999999``), is refused instead of
  leaking Python's own limits;
* ``NaN``/``Infinity`` literals are refused; with ``unique=True`` (the
  default) so are duplicate member names.

The checks cost nothing on ordinary lines: depth is only measured when a
line holds more brackets than the bound.

:func:`fast_loads` is the hot path of the line readers: ``orjson`` (a
compiled parser, several times faster than the standard library's) for the
documents it parses exactly as :func:`loads` does, this module's decoder
for everything else, so every error message is the standard library's.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

#: The deepest nesting of arrays and objects any reader accepts (CLI-4).
MAX_DEPTH = 100
#: The longest integer (in digits, sign excluded) any reader accepts; Python's
#: own default limit on int/str conversion.
MAX_INT_DIGITS = 4300


class JsonError(ValueError):
    """A document that is not strict, bounded JSON; ``msg`` is the reason."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonError(f"duplicate member name {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonError(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 24 else text[:21] + "..."
        raise JsonError(f"number {shown} is beyond the double range")
    return value


#: What ``json.loads(text, ...)`` would build; two decoders, reused (building
#: one per call is measurable on a million lines).
STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_reject_constant,
    parse_int=_bounded_int,
    parse_float=_finite_float,
)
DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_bounded_int, parse_float=_finite_float
)


def too_deep(obj: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``obj`` nests arrays and objects deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(obj, 1)] if isinstance(obj, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def loads(text: str | bytes, *, unique: bool = True) -> Any:
    """Parse ``text`` (a str, or UTF-8 bytes) strictly; raises :class:`JsonError`.

    ``unique=False`` skips the (slow) duplicate-name check, for callers that
    rule duplicates out another way.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not valid UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise JsonError("starts with a UTF-8 byte order mark")
    try:
        obj = (STRICT_DECODER if unique else DECODER).decode(text)
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg}: line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # anything else the decoder or a hook raised
        raise JsonError(str(exc)) from None
    if text.count("[") + text.count("{") > MAX_DEPTH and too_deep(obj):
        raise JsonError(f"nested deeper than {MAX_DEPTH} levels")
    return obj


#: What :func:`quick_loads` returns for a document it leaves to the reference parser.
REFUSED: Any = object()


def quick_loads(data: bytes) -> Any:
    """``orjson``'s value of ``data``, or :data:`REFUSED` for what it does not parse
    exactly as this module's decoder would (see :func:`fast_loads`)."""
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH:
        return REFUSED
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return REFUSED


def fast_loads(data: bytes) -> Any:
    """Parse ``data`` (UTF-8 bytes) as :func:`loads` with ``unique=False`` does,
    faster; raises :class:`JsonError` with :func:`loads`'s message.

    ``orjson`` parses a document when it can and the bounds allow: it
    refuses everything :func:`loads` refuses (invalid UTF-8, a byte order
    mark, ``NaN``/``Infinity``, a number beyond the double range, control
    characters in strings) and also lone surrogates, which this module
    accepts; each refusal is re-parsed here so the error, or the value, is
    exactly :func:`loads`'s. A document with more brackets than
    :data:`MAX_DEPTH` goes to :func:`loads` directly. Duplicate names keep
    the last value in both parsers.

    One difference remains, and callers must rule it out: an integer of more
    than 64 bits comes back from ``orjson`` as a float. Use this only where
    a number is refused anyway (chainaudit's record lines hold none: typed
    values carry numbers as strings) or every number's type is checked.
    """
    value = quick_loads(data)
    return loads(data, unique=False) if value is REFUSED else value
