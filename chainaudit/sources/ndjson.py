"""chainaudit NDJSON export, format version 1: writer and streaming reader.

An export is a header line, one RFC 8785 line per record in ascending
``(pk, sk)`` order, and a trailer line holding per-kind counts and a digest
over the exact bytes of every preceding line (``docs/export.md``, EXP-1..7).
The same records therefore give the same bytes whatever store they came
from, and a missing, added, edited or reordered line, or a cut file, is
detected.

>>> from pathlib import Path; import tempfile
>>> p = Path(tempfile.mkdtemp()) / "x.ndjson"
>>> write_export(p, [], source="test", created_at="2026-01-01T00:00:00Z").counts
{'entity': 0, 'dek': 0, 'audit': 0, 'lines': 1}
>>> list(NdjsonSource(p).read())
[]

Reading streams line by line with bounded memory. Integrity findings
(EXPORT_TRUNCATED, EXPORT_DIGEST_MISMATCH, ...) can only be known at the end
of the file, so they are yielded *after* the records (EXP-7): a caller must
treat the run's verdict as a whole, never act on a record before the stream
has ended.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import blake3
import orjson

from chainaudit.errors import InputError
from chainaudit.findings import Finding, codes
from chainaudit.outfile import destination
from chainaudit.primitives.strictjson import REFUSED, quick_loads
from chainaudit.records.item import (
    item_from_record,
    record_from_item,
    typed_from_json,
    typed_to_json,
)
from chainaudit.records.model import AuditEvent, EntityRecord, Record, WrappedDek
from chainaudit.sources import SourceItem
from chainaudit.sources.jsonlines import (
    MAX_LINE_BYTES,
    canonical_json,
    count_remaining_lines,
    iter_lines,
    parse_json_line,
)
from chainaudit.sources.sortrun import sorted_lines

#: EXP-1
FORMAT_TYPE = "chainaudit-export"
FORMAT_VERSION = 1
TRAILER_TYPE = "trailer"
#: EXP-4: the kinds of record line, in the order the trailer counts them.
KINDS = ("entity", "dek", "audit")
#: EXP-6: digest algorithms a v1 export may name; SHA-256 is the default.
DIGESTS: dict[str, Callable[[], Any]] = {"sha256": hashlib.sha256, "blake3": blake3.blake3}
DEFAULT_DIGEST = "sha256"

_HEADER_KEYS = frozenset({"type", "version", "source", "created_at", "algorithms"})
_TRAILER_KEYS = frozenset({"type", "counts", "digest"})
_COUNT_KEYS = frozenset((*KINDS, "lines"))
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z\Z"
)
_DIGEST_TEXT = re.compile(r"([a-z0-9]+):([0-9a-f]{64})\Z")
#: A set type tag in a record line (EXP-4: members must be in canonical order).
_SET_TAG = re.compile(rb'"[SNB]S":')
_CANONICAL_UINT = re.compile(r"[1-9][0-9]*\Z")
#: The smallest export a parallel read cuts into parts (chainaudit.audit).
PARALLEL_MIN_BYTES = 1 << 20
#: How many lines a cut is searched over before that share is given up.
CUT_SEARCH_LINES = 10_000


def _partition_key(line: bytes) -> str | None:
    """``item.pk.S`` of a record line when it has both keys as strings, else None."""
    obj = quick_loads(line)
    if type(obj) is not dict:
        return None
    item = obj.get("item")
    if type(item) is not dict:
        return None
    pk, sk = item.get("pk"), item.get("sk")
    if type(pk) is not dict or type(sk) is not dict or type(sk.get("S")) is not str:
        return None
    value = pk.get("S")
    return value if type(value) is str else None


#: Whether records lines are read through :meth:`NdjsonSource._fast_record` first;
#: the tests turn it off to compare with the reference reading.
FAST_PATH = True
#: In every line with a set tag (``"SS":[``, ``"NS":[``, ``"BS":[``), and in
#: no other valid one: names and ``M`` keys are followed by an object, and a
#: string cannot hold an unescaped quote.
_SET_OPEN = b'S":['
#: A byte that starts the UTF-8 of U+E000 or above (see _fast_record).
_HIGH_BYTE = re.compile(rb"[\xee-\xff]")


def kind_of(record: Record) -> str:
    """The EXP-4 kind of a record."""
    if isinstance(record, EntityRecord):
        return "entity"
    if isinstance(record, WrappedDek):
        return "dek"
    return "audit"


def _kind_of_result(result: Record | Finding) -> str | None:
    if isinstance(result, EntityRecord | WrappedDek | AuditEvent):
        return kind_of(result)
    return None


# --- writing -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What :func:`write_export` wrote: the trailer's counts and digest."""

    path: Path
    counts: dict[str, int]
    digest: str


def header_line(source: str, created_at: str, algorithms: dict[str, str] | None = None) -> bytes:
    """The EXP-3 header line (with its LF). ``algorithms['digest']`` defaults to sha256."""
    algos = {"digest": DEFAULT_DIGEST, **(algorithms or {})}
    _check_header_values(source, created_at, algos, "header")
    obj = {
        "type": FORMAT_TYPE,
        "version": FORMAT_VERSION,
        "source": source,
        "created_at": created_at,
        "algorithms": algos,
    }
    return canonical_json(obj) + b"\n"


def record_line(record: Record) -> tuple[bytes, bytes, bytes]:
    """``(pk, sk, line)`` of a record: its EXP-4 line (with LF) and its sort key as UTF-8."""
    item = item_from_record(record)
    obj = {"kind": kind_of(record), "item": {k: typed_to_json(v) for k, v in item.items()}}
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    return pk.encode("utf-8"), sk.encode("utf-8"), canonical_json(obj) + b"\n"


def trailer_line(counts: dict[str, int], digest: str) -> bytes:
    """The EXP-6 trailer line (with its LF)."""
    return canonical_json({"type": TRAILER_TYPE, "counts": counts, "digest": digest}) + b"\n"


def write_export(
    path: Path | str,
    records: Iterable[Record | Finding],
    *,
    source: str,
    created_at: str,
    algorithms: dict[str, str] | None = None,
    run_bytes: int = 64 << 20,
) -> ExportSummary:
    """Write ``records`` as a v1 export at ``path`` (EXP-8).

    Records are sorted by ``(pk, sk)`` (an external merge sort: at most
    ``run_bytes`` of lines are held in memory). ``path`` is written through
    :mod:`chainaudit.outfile`: a regular file atomically (a temporary name
    beside it, fsynced and renamed, so an interrupted write never leaves a
    file that looks complete), a device, FIFO or ``-`` (stdout) directly, a
    symbolic link's target rather than the link. A path ending in ``.gz`` is
    gzip-compressed reproducibly (no name, mtime 0).

    A :class:`Finding` in ``records`` (an item its source could not map)
    raises :class:`InputError`: an export that silently dropped it would not
    be a faithful copy. Two records with the same key raise ValueError.
    """
    path = Path(path)
    head = header_line(source, created_at, algorithms)
    digest_name = {"digest": DEFAULT_DIGEST, **(algorithms or {})}["digest"]
    hasher = DIGESTS[digest_name]()
    counts = dict.fromkeys(KINDS, 0)

    def keyed() -> Iterator[tuple[bytes, bytes, bytes]]:
        for rec in records:
            if isinstance(rec, Finding):
                raise InputError(rec.source or rec.where, f"cannot export: {rec}")
            counts[kind_of(rec)] += 1
            yield record_line(rec)

    dest = destination(path, "the export")
    # Sort runs go beside a regular file, never into /dev or a FIFO's directory.
    scratch = Path(dest.scratch_dir or tempfile.gettempdir())
    # A new export is created 0600, as before: it names every record's address.
    with dest.open(create_mode=0o600) as raw:
        out: IO[bytes] = raw
        if path.name.endswith(".gz"):
            out = cast(IO[bytes], gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0))
        lines = 1
        out.write(head)
        hasher.update(head)
        previous: tuple[bytes, bytes] | None = None
        for pk, sk, line in sorted_lines(keyed(), run_bytes, scratch):
            if previous == (pk, sk):
                raise ValueError(f"two records share the key pk={pk!r} sk={sk!r}")
            previous = (pk, sk)
            out.write(line)
            hasher.update(line)
            lines += 1
        final = {**counts, "lines": lines}
        digest = f"{digest_name}:{hasher.hexdigest()}"
        out.write(trailer_line(final, digest))
        if out is not raw:
            out.close()
    return ExportSummary(path, final, digest)


# --- reading -----------------------------------------------------------------


@dataclass
class _ReadState:
    """Running facts of one read, checked against the trailer at the end."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: int = 1
    previous_key: tuple[bytes, bytes] | None = None
    out_of_order: int = 0
    first_out_of_order: int = 0
    not_canonical: int = 0
    first_not_canonical: int = 0
    #: The first keyed line's key (a worker's span compares it with the span before).
    first_key: tuple[bytes, bytes] | None = None


ReadState = _ReadState


@dataclass
class Stop:
    """Why the record lines ended: ``eof`` (no trailer), ``truncated`` (a last
    line without LF, at ``line``) or ``trailer`` (at ``line``, its bytes
    ``raw``); ``offset`` counts the bytes of the record lines read."""

    kind: str = "eof"
    line: int = 0
    raw: bytes = b""
    offset: int = 0


class NdjsonSource:
    """Read a chainaudit NDJSON export (plain or gzip) as records and findings.

    Records carry ``origin = "<path>:<line>"``. Bad input (malformed JSON,
    wrong types, oversized lines, an unknown version) raises
    :class:`InputError` naming the file and line; integrity faults are
    findings yielded at the end of the stream (EXP-7).
    """

    #: REP-4: which export checks apply to this source.
    kind = "export"
    #: CLI-5: records come sorted by key (EXP-5), so each dialogue's records
    #: arrive together and the audit reads the export once, holding one
    #: dialogue at a time (an unsorted file is read again, spooled).
    grouped = True
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "the export's trailer (counts and a digest of every line), which is not signed: whoever rewrote the file could recompute it"
    )

    def __init__(
        self,
        path: Path | str,
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        opener: Callable[[], io.BufferedReader] | None = None,
    ) -> None:
        #: The file; with ``opener`` (which returns the stored bytes, e.g. an
        #: S3 object's body) only the name messages and origins give it.
        self.path: Path | str = Path(path) if opener is None else str(path)
        self.opener = opener
        #: What findings and errors call the file (``-`` for standard input,
        #: whose bytes are read from a private temporary copy).
        self.label = str(self.path)
        self.max_line_bytes = max_line_bytes
        #: The parsed header, available once :meth:`read` has started.
        self.header: dict[str, Any] | None = None
        #: While a record is being consumed, its item's canonical JSON as the
        #: record digest hashes it (:func:`chainaudit.records.digest.canonical_record_json`)
        #: when the line shows it: a canonical line whose values are strings,
        #: binary and canonical integers only. Else None. (A shortcut the
        #: commitment check takes; tests/test_fast_paths.py holds it to that.)
        self.item_json: bytes | None = None

    def describe(self) -> str:
        return f"ndjson:{self.path}"

    def read(self) -> Iterator[SourceItem]:
        """Stream every record of the export, then its integrity findings."""
        lines = iter_lines(self.path, self.max_line_bytes, opener=self.opener, name=self.label)
        first = next(lines, None)
        if first is None or not first[1].endswith(b"\n"):
            raise InputError(f"{self.label}:1", "no complete header line: empty or truncated export")
        self.header = self._parse_header(first[1])
        hasher = DIGESTS[self.header["algorithms"]["digest"]]()
        hasher.update(first[1])
        state = _ReadState()
        stop = Stop()
        yield from self._body(lines, state, hasher, stop)
        trailer = None
        if stop.kind == "trailer":
            trailer = parse_json_line(stop.raw[:-1], f"{self.label}:{stop.line}")
        yield from self.end_findings(
            state, stop, trailer, hasher.hexdigest(), lambda: count_remaining_lines(lines)
        )

    def read_span(
        self, start: int, end: int, first_line: int, state: _ReadState, stop: Stop
    ) -> Iterator[SourceItem]:
        """The records of the lines in bytes ``start`` to ``end`` (line starts,
        the first being line ``first_line``), as :meth:`read` yields them, but
        without the end-of-file findings: ``state`` and ``stop`` say what
        :meth:`end_findings` needs (a worker's part of a parallel read)."""
        lines = iter_lines(
            self.path, self.max_line_bytes, span=(start, end, first_line), name=self.label
        )
        yield from self._body(lines, state, None, stop)

    # -- parts, for a parallel read (chainaudit.audit) --------------------------

    def spans(self, n: int) -> list[tuple[int, int, int]] | None:
        """Cut the record lines into at most ``n`` spans ``(start, end, first
        line)`` for :meth:`read_span`, each cut at a line start where the
        partition key changes, so no dialogue or chain is split; None for a
        file that cannot be cut (compressed, not local, smaller than
        :data:`PARALLEL_MIN_BYTES`) or has no complete header line.

        Each cut is searched from an even share of the bytes onwards, over at
        most :data:`CUT_SEARCH_LINES` lines; the line numbers of the cuts come
        from counting line feeds up to them (a read at memory speed).
        """
        if self.opener is not None or n < 2:
            return None
        path = Path(self.path)
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                if f.read(2) == b"\x1f\x8b" or size < PARALLEL_MIN_BYTES:
                    return None
                f.seek(0)
                header = f.readline(self.max_line_bytes + 1)
                if not header.endswith(b"\n"):
                    return None
                self.header = self._parse_header(header)
                cuts = [len(header)]
                for k in range(1, n):
                    cut = self._cut_after(f, len(header) + k * (size - len(header)) // n)
                    if cut is not None and cut > cuts[-1]:
                        cuts.append(cut)
                lines = [2]
                f.seek(0)
                done, count = 0, 0
                for cut in cuts[1:]:
                    while done < cut:
                        chunk = f.read(min(1 << 20, cut - done))
                        if not chunk:
                            return None
                        count += chunk.count(b"\n")
                        done += len(chunk)
                    lines.append(count + 1)
        except OSError:
            return None  # the one-process read reports it
        ends = [*cuts[1:], size]
        return [(start, end, line) for start, end, line in zip(cuts, ends, lines, strict=True)]

    def _cut_after(self, f: IO[bytes], offset: int) -> int | None:
        """The first line start at or after ``offset`` between two keyed record
        lines of different partitions, or None."""
        f.seek(offset - 1)
        f.readline(self.max_line_bytes + 1)  # to the next line start
        pos = f.tell()
        previous: str | None = None
        for _ in range(CUT_SEARCH_LINES):
            line = f.readline(self.max_line_bytes + 1)
            if not line.endswith(b"\n"):
                return None
            pk = _partition_key(line)
            if pk is not None and previous is not None and pk != previous:
                return pos
            previous = pk
            pos += len(line)
        return None

    def last_line_start(self) -> int | None:
        """Where the file's last line begins (the trailer's place in an intact
        export), when the file ends with a line feed; else None."""
        path = Path(self.path)
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            back = min(size, self.max_line_bytes + 2)
            f.seek(size - back)
            tail = f.read(back)
        if not tail.endswith(b"\n"):
            return None
        at = tail.rfind(b"\n", 0, len(tail) - 1)
        if at < 0:
            return None if back < size else 0
        return size - back + at + 1

    def digest_of_prefix(self, offset: int) -> str:
        """The header's digest algorithm over the file's first ``offset`` bytes (hex)."""
        if self.header is None:
            raise RuntimeError("digest_of_prefix() before the header was read")
        hasher = DIGESTS[self.header["algorithms"]["digest"]]()
        with open(Path(self.path), "rb") as f:
            left = offset
            while left:
                chunk = f.read(min(1 << 20, left))
                if not chunk:
                    break
                hasher.update(chunk)
                left -= len(chunk)
        return str(hasher.hexdigest())

    def count_lines_from(self, offset: int, first_line: int) -> int:
        """How many lines follow byte ``offset`` (those after a trailer), read
        as :meth:`read` reads them (so a line over the limit is an input error)."""
        size = Path(self.path).stat().st_size
        if offset >= size:
            return 0
        return count_remaining_lines(
            iter_lines(
                self.path, self.max_line_bytes, span=(offset, size, first_line), name=self.label
            )
        )

    def _body(
        self,
        lines: Iterator[tuple[int, bytes]],
        state: _ReadState,
        hasher: Any,
        stop: Stop,
    ) -> Iterator[SourceItem]:
        """The record lines, up to the trailer, a line cut short, or the end."""
        for lineno, raw in lines:
            self.item_json = None
            where = f"{self.label}:{lineno}"
            if not raw.endswith(b"\n"):
                stop.kind, stop.line = "truncated", lineno
                return
            # Duplicate names are ruled out by the canonical check in _record,
            # which re-parses strictly when a line is not canonical.
            obj = quick_loads(raw) if FAST_PATH else REFUSED
            fast = obj is not REFUSED
            if not fast:
                obj = parse_json_line(raw[:-1], where, check_duplicates=False)
            if isinstance(obj, dict) and "type" in obj:
                stop.kind, stop.line, stop.raw = "trailer", lineno, raw
                return
            if hasher is not None:
                hasher.update(raw)
            state.lines += 1
            stop.offset += len(raw)
            done = self._fast_record(obj, raw, lineno, where, state) if fast else None
            if done is not None:
                yield from done
                continue
            if fast:  # the reference reading of a line the fast path left alone
                obj = parse_json_line(raw[:-1], where, check_duplicates=False)
            yield from self._record(obj, raw, lineno, where, state)

    def end_findings(
        self,
        state: _ReadState,
        stop: Stop,
        trailer: Any,
        hexdigest: str,
        count_after: Callable[[], int],
    ) -> Iterator[Finding]:
        """EXP-7: the findings after the records: order and canonical form, then
        a truncation or the trailer's (``trailer`` its strictly parsed value,
        ``hexdigest`` of every line before it, ``count_after()`` the number
        of lines after it)."""
        yield from self._summary_findings(state)
        if stop.kind == "truncated":
            yield Finding(
                codes.EXPORT_TRUNCATED,
                f"{self.label}:{stop.line}",
                "the file ends inside a line, before the trailer",
                source=self.label,
            )
        elif stop.kind == "trailer":
            yield from self._check_trailer(trailer, f"{self.label}:{stop.line}", hexdigest, state)
            after = count_after()
            if after:
                yield Finding(
                    codes.EXPORT_TRAILING_DATA,
                    f"{self.label}:{stop.line + 1}",
                    f"{after} line(s) after the trailer",
                    expected="0",
                    actual=str(after),
                    source=self.label,
                )
        else:
            yield Finding(
                codes.EXPORT_TRUNCATED,
                f"{self.label}:{state.lines + 1}",
                "the file ends without a trailer line",
                source=self.label,
            )

    # -- one line -------------------------------------------------------------

    def _fast_record(
        self, obj: Any, raw: bytes, lineno: int, where: str, state: _ReadState
    ) -> list[SourceItem] | None:
        """:meth:`_record` for the common line, or None to leave it to :meth:`_record`.

        ``obj`` is ``orjson``'s parse of ``raw``. Handled here: a canonical
        record line (EXP-3) without a byte from U+E000 up, whose item holds
        valid typed values; for such a line the result is exactly
        :meth:`_record`'s. Anything else (an input error, a line that is not
        canonical, sets) returns None *before* ``state`` is touched, and
        :meth:`_record` reads the line from the standard library's parse, so
        every error and notice stays the reference reader's.

        Why the shortcuts are exact: a line that gets past the typed-value
        checks holds no JSON number (typed values carry numbers as strings),
        so ``orjson``'s value equals the standard library's; for such values
        ``orjson``'s sorted compact output is :func:`canonical_json`'s
        whenever the line has no byte >= 0xEE (below U+E000, code-point
        order of names is UTF-16 order), which ``tests/test_ndjson.py``
        checks; and two equal names cannot survive a byte-exact re-encoding.
        """
        if type(obj) is not dict or len(obj) != 2:
            return None
        kind = obj.get("kind")
        raw_item = obj.get("item")
        if type(kind) is not str or kind not in KINDS or type(raw_item) is not dict:
            return None
        if "" in raw_item or _SET_OPEN in raw:
            return None
        if not raw.isascii() and _HIGH_BYTE.search(raw) is not None:
            return None
        if orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) != raw[:-1]:
            return None
        # The item is mapped in place: strings stay as parsed, the rest become
        # typed_from_json's canonical values (binary as bytes).
        plain = True  # only S, B and canonical N values (see item_json)
        for name, value in raw_item.items():
            if type(value) is dict and len(value) == 1 and type(value.get("S")) is str:
                continue  # a string: already canonical
            try:
                typed = raw_item[name] = typed_from_json(value, name)
            except ValueError:
                return None
            if plain and "B" not in typed:
                number = typed.get("N")
                plain = type(number) is str and (
                    number == "0" or _CANONICAL_UINT.match(number) is not None
                )
        state.counts[kind] += 1
        duplicate = self._check_order(raw_item, lineno, where, state)
        result = record_from_item(raw_item, where, canonical=True)
        if plain:  # the line is {"item":ITEM,"kind":KIND}: ITEM is already the digest's JSON
            self.item_json = raw[8 : len(raw) - 12 - len(kind)]
        out: list[SourceItem] = [result]
        if duplicate is not None:
            out.append(duplicate)
        actual_kind = _kind_of_result(result)
        if actual_kind is not None and actual_kind != kind:
            out.append(
                Finding(
                    codes.EXPORT_KIND_MISMATCH,
                    where,
                    "the line's kind is not the kind its item maps to",
                    expected=actual_kind,
                    actual=kind,
                    source=where,
                )
            )
        return out

    def _record(
        self, obj: Any, raw: bytes, lineno: int, where: str, state: _ReadState
    ) -> Iterator[SourceItem]:
        if not isinstance(obj, dict):
            raise InputError(where, "a record line is an object with exactly 'kind' and 'item'")
        canonical = _canonical_or_none(obj) == raw[:-1]
        if not canonical:
            obj = parse_json_line(raw[:-1], where)  # EXP-3: now reject duplicate names
        if set(obj) != {"kind", "item"}:
            raise InputError(where, "a record line is an object with exactly 'kind' and 'item'")
        kind = obj["kind"]
        if kind not in KINDS:
            raise InputError(where, f"unknown record kind {kind!r} (expected one of {KINDS})")
        state.counts[kind] += 1
        raw_item = obj["item"]
        if not isinstance(raw_item, dict):
            raise InputError(where, "'item' must be an object of typed attributes")
        item = {}
        for name, value in raw_item.items():
            if name == "":
                raise InputError(where, "an attribute name is empty")
            if type(value) is dict and len(value) == 1 and type(value.get("S")) is str:
                item[name] = value  # a string: already canonical (typed_from_json's fast path)
                continue
            try:
                item[name] = typed_from_json(value, f"item.{name}")
            except ValueError as exc:
                raise InputError(where, str(exc)) from None
        if canonical and _SET_TAG.search(raw) is not None:
            # EXP-4: set members in another order than MODEL-3's are not the
            # writer's bytes either, although the JSON text is JCS-canonical.
            canonical = {k: typed_to_json(v) for k, v in item.items()} == raw_item
        if not canonical:
            state.not_canonical += 1
            state.first_not_canonical = state.first_not_canonical or lineno
        duplicate = self._check_order(raw_item, lineno, where, state)
        result = record_from_item(item, where, canonical=True)  # values from typed_from_json
        yield result
        if duplicate is not None:
            yield duplicate
        actual_kind = _kind_of_result(result)
        if actual_kind is not None and actual_kind != kind:
            yield Finding(
                codes.EXPORT_KIND_MISMATCH,
                where,
                "the line's kind is not the kind its item maps to",
                expected=actual_kind,
                actual=kind,
                source=where,
            )

    def _check_order(
        self, raw_item: dict[str, Any], lineno: int, where: str, state: _ReadState
    ) -> Finding | None:
        """EXP-5: keys strictly ascend; a repeat is reported at once, disorder once at the end."""
        pk, sk = raw_item.get("pk"), raw_item.get("sk")
        pks = pk.get("S") if isinstance(pk, dict) else None
        sks = sk.get("S") if isinstance(sk, dict) else None
        if not (isinstance(pks, str) and isinstance(sks, str)):
            return None
        key = (pks.encode("utf-8"), sks.encode("utf-8"))
        previous, state.previous_key = state.previous_key, key
        if previous is None:
            state.first_key = key
            return None
        if key > previous:
            return None
        if key == previous:
            return Finding(
                codes.EXPORT_DUPLICATE_KEY,
                where,
                "this line repeats the (pk, sk) of the line before it",
                source=where,
            )
        state.out_of_order += 1
        state.first_out_of_order = state.first_out_of_order or lineno
        return None

    # -- header and trailer ---------------------------------------------------

    def _parse_header(self, raw: bytes) -> dict[str, Any]:
        where = f"{self.label}:1"
        obj = parse_json_line(raw[:-1], where)
        if not isinstance(obj, dict) or obj.get("type") != FORMAT_TYPE:
            raise InputError(
                where, f"not a chainaudit export (line 1 must be a {FORMAT_TYPE!r} header)"
            )
        version = obj.get("version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise InputError(
                where, f"unsupported export version {version!r} (this reader implements 1)"
            )
        if set(obj) != _HEADER_KEYS:
            raise InputError(where, f"header members must be exactly {sorted(_HEADER_KEYS)}")
        _check_header_values(obj["source"], obj["created_at"], obj["algorithms"], where)
        return obj

    def _check_trailer(
        self, obj: dict[str, Any], where: str, hexdigest: str, state: _ReadState
    ) -> Iterator[Finding]:
        if obj.get("type") != TRAILER_TYPE or set(obj) != _TRAILER_KEYS:
            raise InputError(
                where, "a trailer is an object with exactly 'type', 'counts', 'digest'"
            )
        counts, digest = obj["counts"], obj["digest"]
        if (
            not isinstance(counts, dict)
            or set(counts) != _COUNT_KEYS
            or not all(type(v) is int and v >= 0 for v in counts.values())
        ):
            raise InputError(
                where, f"trailer counts must be non-negative integers for {sorted(_COUNT_KEYS)}"
            )
        m = _DIGEST_TEXT.match(digest) if isinstance(digest, str) else None
        if m is None:
            raise InputError(where, "trailer digest must be '<algorithm>:<64 lowercase hex>'")
        algorithm = cast(dict[str, Any], self.header)["algorithms"]["digest"]
        actual_counts = {**{k: state.counts[k] for k in KINDS}, "lines": state.lines}
        if counts != actual_counts:
            yield Finding(
                codes.EXPORT_COUNT_MISMATCH,
                where,
                "the trailer's counts differ from the lines present",
                expected=_counts_text(counts),
                actual=_counts_text(actual_counts),
                source=self.label,
            )
        expected_digest = f"{algorithm}:{hexdigest}"
        if not hmac.compare_digest(digest.encode("ascii"), expected_digest.encode("ascii")):
            yield Finding(
                codes.EXPORT_DIGEST_MISMATCH,
                where,
                "the digest over the preceding lines differs from the trailer's",
                expected=digest,
                actual=expected_digest,
                source=self.label,
            )

    def _summary_findings(self, state: _ReadState) -> Iterator[Finding]:
        if state.out_of_order:
            yield Finding(
                codes.EXPORT_OUT_OF_ORDER,
                f"{self.label}:{state.first_out_of_order}",
                f"{state.out_of_order} line(s) sort before the line preceding them",
                source=self.label,
                extra={"count": state.out_of_order},
            )
        if state.not_canonical:
            yield Finding(
                codes.EXPORT_NOT_CANONICAL,
                f"{self.label}:{state.first_not_canonical}",
                f"{state.not_canonical} record line(s) are not RFC 8785 canonical",
                source=self.label,
                extra={"count": state.not_canonical},
            )


def _canonical_or_none(obj: Any) -> bytes | None:
    """Canonical bytes of a parsed line, or None when it holds values outside the subset."""
    try:
        return canonical_json(obj)
    except (TypeError, ValueError):  # floats, huge integers, lone surrogates
        return None


def _counts_text(counts: dict[str, Any]) -> str:
    return ",".join(f"{k}={counts.get(k)}" for k in (*KINDS, "lines"))


def _check_header_values(source: Any, created_at: Any, algorithms: Any, where: str) -> None:
    if not isinstance(source, str) or not source:
        raise InputError(where, "header 'source' must be a non-empty string")
    if not isinstance(created_at, str) or not _TIMESTAMP.match(created_at):
        raise InputError(where, "header 'created_at' must be an RFC 3339 UTC timestamp (…Z)")
    if not isinstance(algorithms, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in algorithms.items()
    ):
        raise InputError(where, "header 'algorithms' must map names to strings")
    if algorithms.get("digest") not in DIGESTS:
        raise InputError(
            where,
            f"unsupported digest algorithm {algorithms.get('digest')!r} "
            f"(supported: {', '.join(sorted(DIGESTS))})",
        )
