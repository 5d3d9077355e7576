"""DynamoDB store: parallel Scan, per-dialogue Query, never-overwriting imports.

Layout (the brief, STORE-2): table ``blue_dialogues``, hash key ``pk`` (S),
range key ``sk`` (S); wrapped DEKs at ``dialogue#D`` / ``dek#V``, the crypto
audit log at ``audit#C`` / ``event#E``. The low-level client is used, not
the resource API, so values keep their type tags, numbers stay decimal
strings and binary stays ``bytes``: items go to
:func:`chainaudit.records.item.record_from_item` untouched.

Reads (STORE-5): a full Scan runs ``segments`` parallel segments on one
shared client (its connection pool sized to the segments), each paging
until no ``LastEvaluatedKey`` is left (an empty page with a key does not
end it). Pages cross a bounded queue, so memory stays flat. Anything that
survives botocore's standard retries, throttling included, raises
:class:`StoreError`: the caller never gets a silent partial result.

Imports (STORE-7): BatchGetItem classifies a batch (present keys are
compared, never rewritten), then each absent item is written with a
conditional PutItem (``attribute_not_exists(pk)``). BatchWriteItem is not
used because it cannot be conditional: during a dual-write period it could
overwrite a differing record written after our read. A PutItem that loses
that race reads the winner back and compares.

Timeouts (STORE-12): botocore's connect and read timeouts bound every
request; a request that timed out is not retried (retrying a stalled server
multiplied the wait by the attempts), and a failed read or import does not
wait for the other threads' requests, so a stalled server ends the run
within ``connect + read`` seconds.

The same code reaches AWS by changing only ``endpoint_url``, ``region`` and
the credentials (omit them to use the default credential chain).
"""

from __future__ import annotations

import copy
import decimal
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.exceptions

from chainaudit.errors import ChainauditError, ConflictError, InputError, StoreError
from chainaudit.records.item import item_from_record, record_from_item
from chainaudit.records.model import Item, Record, WrappedDek
from chainaudit.sources import ImportReport, Source, SourceItem, ddb_pages
from chainaudit.sources.awsconfig import config_problem
from chainaudit.sources.migration import (
    RecordKey,
    batched,
    dedupe_batch,
    not_representable,
    settle_existing,
    walk_values,
)
from chainaudit.sources.timeouts import StoreTimeouts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TABLE = "blue_dialogues"
#: DynamoDB's limit on keys in one BatchGetItem request.
BATCH_GET_LIMIT = 100

_END = object()

#: Request failures that mean the server did not answer in time (STORE-12).
_TIMEOUTS = (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError)


def _no_retry_after_timeout(caught_exception: Exception | None = None, **_: Any) -> None:
    """``needs-retry`` hook: a timed-out request is not retried (STORE-12).

    botocore's standard mode retries timeouts like any transient error, so a
    stalled server cost ``max_attempts`` read timeouts plus backoff per
    request (5 x 60 s). Raising here ends the request with its timeout;
    throttling and other transient errors are still retried as before.
    """
    if isinstance(caught_exception, _TIMEOUTS):
        raise caught_exception


def dynamodb_number(text: str) -> str:
    """The form DynamoDB stores and returns a number in: fixed-point, no
    exponent, no leading or trailing zeros (``"3.50"`` -> ``"3.5"``,
    ``"1e3"`` -> ``"1000"``). STORE-2."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60  # DynamoDB allows 38 significant digits; never round here
        value = decimal.Decimal(text)
        if value.is_zero():
            return "0"
        return format(value.normalize(), "f")


#: STORE-2: DynamoDB's number limits (38 significant digits, 1E-130 .. 9.99E+125).
MAX_SIGNIFICANT_DIGITS = 38
MAX_EXPONENT = 125
MIN_EXPONENT = -130


def number_problem(text: str) -> str | None:
    """Why DynamoDB would reject or rewrite the number ``text``, or None."""
    value = decimal.Decimal(text)  # exact: construction never rounds
    if value.is_zero():
        return None if text == "0" else f"number {text!r} would come back as '0'"
    digits = "".join(map(str, value.as_tuple().digits)).strip("0")
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        return f"number {text!r} has more than {MAX_SIGNIFICANT_DIGITS} significant digits"
    if not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        return f"number {text!r} is outside DynamoDB's range"
    normal = dynamodb_number(text)
    if normal != text:
        return f"number {text!r} would come back as {normal!r}"
    return None


def not_verbatim_reason(item: Item) -> str | None:
    """Why DynamoDB would not store ``item`` byte for byte, or None (STORE-7)."""
    for path, tag, value in walk_values(item):
        if tag == "N":
            problem = number_problem(value)
            if problem is not None:
                return f"{problem} (at {path})"
    return None


class _Canonical(list[Item]):
    """Items read by :mod:`chainaudit.sources.ddb_pages`: canonical values, fresh dicts."""


def _page_items(page: Any) -> list[Item]:
    """A Scan or Query page's items, marked :class:`_Canonical` when
    :mod:`chainaudit.sources.ddb_pages` read them."""
    items: list[Item] = page.get("Items", [])
    return _Canonical(items) if page.get(ddb_pages.CANONICAL) else items


class DynamoDBStore:
    """A chainaudit store in one DynamoDB table.

    ``segments``: parallel Scan segments (1 = sequential). ``page_size``:
    Scan/Query ``Limit``; with the queue of ``2 * segments`` pages it bounds
    the items held in memory while reading (None = DynamoDB's 1 MB pages). ``max_attempts``:
    botocore standard-mode attempts per request, throttling included.
    ``batch_attempts``: rounds for ``UnprocessedKeys`` before giving up, with
    exponential backoff and full jitter capped at ``backoff_cap`` seconds.
    ``sleep`` is injectable so tests need not wait (time is a parameter).
    ``timeouts``: botocore's connect and read timeouts (STORE-12), applied to
    the client this store creates; a timed-out request is not retried.
    """

    #: REP-4: which export checks apply to this source.
    kind = "store"
    #: REP-7: what this source itself offers against a removed record.
    integrity_basis = (
        "nothing signed: the table's current contents only"
    )
    #: CLI-5: :meth:`read` hands on each partition's items together, so the
    #: audit reads the table once, grouped.
    grouped = True

    def __init__(
        self,
        table: str = DEFAULT_TABLE,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        segments: int = 4,
        page_size: int | None = 1000,
        consistent_read: bool = True,
        max_attempts: int = 5,
        batch_size: int = BATCH_GET_LIMIT,
        write_workers: int = 8,
        batch_attempts: int = 8,
        backoff_base: float = 0.05,
        backoff_cap: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        client: DynamoDBClient | None = None,
        timeouts: StoreTimeouts | None = None,
        profile: str | None = None,
    ) -> None:
        if segments < 1 or write_workers < 1 or batch_attempts < 1:
            raise ValueError("segments, write_workers and batch_attempts must be at least 1")
        if not 1 <= batch_size <= BATCH_GET_LIMIT:
            raise ValueError(f"batch_size must be between 1 and {BATCH_GET_LIMIT}")
        self.table = table
        self.endpoint_url = endpoint_url
        self.segments = segments
        self.page_size = page_size
        self.consistent_read = consistent_read
        self.batch_size = batch_size
        self.write_workers = write_workers
        self.batch_attempts = batch_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.timeouts = timeouts or StoreTimeouts()
        #: What a part of a parallel read (:meth:`split`) needs to make its own client.
        self._client_args: dict[str, Any] | None = None
        if client is None:
            self._client_args = {
                "endpoint_url": endpoint_url,
                "max_attempts": max_attempts,
                "access_key_id": access_key_id,
                "secret_access_key": secret_access_key,
                "session_token": session_token,
                "region": region,
                "profile": profile,
            }
            client = self._new_client()
        self.client: DynamoDBClient = client

    def _new_client(self) -> DynamoDBClient:
        """A client of its own, configured as this store's options say."""
        args = self._client_args
        assert args is not None
        config = botocore.config.Config(
            # STORE-5: one client shared by every segment thread and writer.
            max_pool_connections=max(self.segments, self.write_workers) + 2,
            retries={"mode": "standard", "max_attempts": args["max_attempts"]},
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
        )
        try:
            session = boto3.session.Session(
                aws_access_key_id=args["access_key_id"],
                aws_secret_access_key=args["secret_access_key"],
                aws_session_token=args["session_token"],
                region_name=args["region"],
                profile_name=args["profile"],
            )
            client = session.client("dynamodb", endpoint_url=args["endpoint_url"], config=config)
        except (botocore.exceptions.BotoCoreError, ValueError) as exc:
            problem = config_problem(exc)  # CLI-3: the local configuration, exit 2
            if problem is None:
                raise
            raise InputError(f"dynamodb://{self.table}", problem) from None
        client.meta.events.register(
            "needs-retry.dynamodb",
            _no_retry_after_timeout,
            unique_id="chainaudit-no-retry-after-timeout",
        )
        ddb_pages.install(client)  # pages read from the wire, not through botocore's parser
        return client

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"dynamodb://{self.table}{where}"

    def _fail(self, action: str, exc: Exception) -> ChainauditError:
        problem = config_problem(exc)
        if problem is not None:  # found before any request left: exit 2 (CLI-3)
            return InputError(self.describe(), problem)
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            if err.get("Code") == "ResourceNotFoundException":
                return StoreError(f"{self.describe()}: table {self.table!r} does not exist")
            detail = f"{err.get('Code', '?')}: {err.get('Message', '')}"
        elif isinstance(exc, botocore.exceptions.ConnectTimeoutError):
            detail = f"{self.timeouts.connect_expired()} ({exc})"
        elif isinstance(exc, botocore.exceptions.ReadTimeoutError):
            detail = f"{self.timeouts.read_expired()} ({exc})"
        else:
            detail = str(exc)
        return StoreError(f"{self.describe()}: {action} failed: {detail}")

    # -- table -----------------------------------------------------------------

    def create_table(self, *, wait_delay: float = 1.0, wait_attempts: int = 300) -> None:
        """Create the table with the brief's key schema (on-demand billing)
        and wait until it is ACTIVE. An existing table is left as it is."""
        try:
            self.client.create_table(
                TableName=self.table,
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        except self.client.exceptions.ResourceInUseException:
            pass
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("CreateTable", exc) from None
        try:
            self.client.get_waiter("table_exists").wait(
                TableName=self.table,
                # botocore sleeps Delay seconds as given; fractions work (the stub says int).
                WaiterConfig={"Delay": wait_delay, "MaxAttempts": wait_attempts},  # type: ignore[typeddict-item]
            )
        except botocore.exceptions.WaiterError as exc:
            raise self._fail("waiting for ACTIVE", exc) from None

    # -- reading ---------------------------------------------------------------

    def read(self) -> Iterator[SourceItem]:
        """Every item of the table once, from a parallel Scan (STORE-5).

        Items of one partition key live in one segment and arrive in
        ascending sort-key order (checked while streaming); segments are
        interleaved page by page (STORE-6), so the items of each partition
        are handed on together once the segment has moved past it: the audit
        then reads the table once, grouped (CLI-5).
        """
        yield from self._read_segments(tuple(range(self.segments)), self.segments)

    @contextmanager
    def split(self, n: int) -> Iterator[list[Source] | None]:
        """``n`` parts for ``verify --workers n`` (:class:`~chainaudit.sources.Splittable`):
        part ``i`` scans the segments ``i, i + n, ...`` of the table's Scan
        in ``max(segments, n)`` segments (rounded up to a multiple of ``n``),
        through a client of its own. A partition lies in one segment, so in
        one part. None when the store was given a client (it cannot be cloned)."""
        if n < 2 or self._client_args is None:
            yield None
            return
        total = -(-max(self.segments, n) // n) * n
        yield [_SegmentPart(self, tuple(range(i, total, n)), total) for i in range(n)]

    def _read_segments(self, mine: tuple[int, ...], total: int) -> Iterator[SourceItem]:
        """The items of the Scan segments ``mine`` out of ``total``, each
        partition's items together."""
        if len(mine) == 1:
            yield from self._records(self._scan_segment(mine[0], threading.Event(), total))
            return
        pages: queue.Queue[Any] = queue.Queue(maxsize=2 * len(mine))
        stop = threading.Event()

        def put(value: Any) -> bool:
            while not stop.is_set():
                try:
                    pages.put(value, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def worker(segment: int) -> None:
            try:
                for page in self._scan_segment(segment, stop, total):
                    if not put((segment, page)):
                        return
            except BaseException as exc:  # handed to the consumer, never lost
                put(exc)
            put((segment, _END))

        threads = [
            threading.Thread(target=worker, args=(s,), daemon=True, name=f"scan-{s}")
            for s in mine
        ]
        for t in threads:
            t.start()
        done = 0
        # CLI-5: a partition's items come together within its segment, but
        # segments' pages interleave; each segment's last partition waits for
        # its next page, so every partition is handed on whole.
        open_partition: dict[int, list[Item]] = {}
        try:
            while done < len(mine):
                value = pages.get()
                if isinstance(value, BaseException):
                    raise value
                segment, page = value
                held = open_partition.pop(segment, [])
                if page is _END:
                    done += 1
                    yield from self._records([held])
                    continue
                for item in page:
                    if held and held[0]["pk"]["S"] != item["pk"]["S"]:
                        yield from self._records([held])
                        held = []
                    if not held:
                        held = _Canonical() if type(page) is _Canonical else []
                    elif type(held) is _Canonical and type(page) is not _Canonical:
                        held = list(held)  # a partition across pages of both kinds
                    held.append(item)
                open_partition[segment] = held
        finally:
            stop.set()
            if done == len(mine):
                for t in threads:
                    t.join()
            # Otherwise (a segment failed, or the caller stopped reading) a
            # thread may still wait on a request of a stalled server: it ends
            # by its own timeout and, seeing `stop`, hands nothing on. Joining
            # it would add up to one more read timeout to the failure (STORE-12).

    def _scan_segment(
        self, segment: int, stop: threading.Event, total: int
    ) -> Iterator[list[Item]]:
        """The pages of one segment of ``total``, with the sort order of each
        partition checked."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": self.consistent_read,
        }
        if total > 1:
            kwargs.update(Segment=segment, TotalSegments=total)
        if self.page_size:
            kwargs["Limit"] = self.page_size
        prev: RecordKey | None = None
        while not stop.is_set():
            try:
                page = self.client.scan(**kwargs)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise self._fail(f"Scan segment {segment}/{total}", exc) from None
            items = _page_items(page)
            for item in items:
                key = (item["pk"]["S"], item["sk"]["S"])
                if prev is not None and key[0] == prev[0] and key[1] <= prev[1]:
                    raise StoreError(
                        f"{self.describe()}: Scan returned partition {key[0]!r} out of "
                        "sort-key order; use per-dialogue reads (STORE-6)"
                    )
                prev = key
            if items:
                yield items
            # An empty page with a LastEvaluatedKey is not the end (STORE-5).
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _records(self, pages: Iterable[list[Item]]) -> Iterator[SourceItem]:
        for page in pages:
            # Items read by ddb_pages hold canonical values in fresh dicts.
            canonical = type(page) is _Canonical
            for item in page:
                yield record_from_item(item, self._origin(item), canonical=canonical)

    def _origin(self, item: Item) -> str:
        pk = item.get("pk", {}).get("S", "?")
        sk = item.get("sk", {}).get("S", "?")
        return f"dynamodb:{self.table}(pk={pk!r}, sk={sk!r})"

    def read_partition(self, pk: str) -> Iterator[SourceItem]:
        """One partition in sort-key order, by Query (STORE-6)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": self.consistent_read,
        }
        if self.page_size:
            kwargs["Limit"] = self.page_size
        while True:
            try:
                page = self.client.query(**kwargs)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise self._fail(f"Query {pk!r}", exc) from None
            yield from self._records([_page_items(page)])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def read_dialogue(self, dialogue: str) -> Iterator[SourceItem]:
        """The entities and wrapped DEKs of one dialogue (escaped id), in sk order."""
        yield from self.read_partition(f"dialogue#{dialogue}")

    def read_chain(self, chain_id: str) -> Iterator[SourceItem]:
        """The events of one crypto-audit chain, in event_id order."""
        yield from self.read_partition(f"audit#{chain_id}")

    # -- importing -------------------------------------------------------------

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        """Import verbatim, never overwriting (STORE-7).

        Batches of ``batch_size``: one consistent BatchGetItem finds the keys
        already present (compared, counted unchanged or reported as
        IMPORT_CONFLICT); the absent items are written by conditional PutItem
        on ``write_workers`` threads. Every write is durable when PutItem
        returns, so an interruption loses nothing and a re-run finishes.
        """
        report = ImportReport()
        sink = self.describe()
        failed = threading.Event()

        def put(entry: tuple[RecordKey, Item]) -> tuple[RecordKey, Item, Item | str | None]:
            if failed.is_set():
                raise StoreError(f"{sink}: import stopped after an earlier failure")
            try:
                return self._put_new(*entry)
            except BaseException:
                failed.set()
                raise

        pool = ThreadPoolExecutor(self.write_workers, thread_name_prefix="put")
        try:
            for batch in batched(records, self.batch_size):
                items = dedupe_batch(batch, report, sink)
                for key, item in list(items.items()):
                    reason = not_verbatim_reason(item)
                    if reason is not None:
                        report.conflicts.append(not_representable(key, reason, sink))
                        del items[key]
                stored = self._batch_get(list(items))
                absent: list[tuple[RecordKey, Item]] = []
                for key, item in items.items():
                    if key in stored:
                        settle_existing(key, stored[key], item, report, sink)
                    else:
                        absent.append((key, item))
                for key, item, outcome in pool.map(put, absent):
                    if outcome is None:
                        report.written += 1
                    elif isinstance(outcome, str):
                        report.conflicts.append(not_representable(key, outcome, sink))
                    else:
                        settle_existing(key, outcome, item, report, sink)
        except BaseException:
            # Queued writes are dropped; one still waiting on a stalled server
            # ends by its own timeout. Waiting for it here would add up to one
            # more read timeout to the failure (STORE-12).
            failed.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return report

    def _put_new(self, key: RecordKey, item: Item) -> tuple[RecordKey, Item, Item | str | None]:
        """Write ``item`` if its key is absent. Returns None when written, the
        stored item when the key was taken, or the server's reason when it
        refused this item's content (e.g. over 400 KB)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
            return key, item, None
        except self.client.exceptions.ConditionalCheckFailedException:
            pass
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            if err.get("Code") == "ValidationException":
                # The item itself is invalid for DynamoDB (size, depth...):
                # a fact about this record, reported like any other (STORE-7).
                return key, item, f"DynamoDB refused it: {err.get('Message', '')}"
            raise self._fail(f"PutItem {key}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(f"PutItem {key}", exc) from None
        # Lost a race with another writer: read the winner and compare.
        stored = self._batch_get([key])
        if key not in stored:
            raise StoreError(f"{self.describe()}: {key} failed its condition but is absent")
        return key, item, stored[key]

    def _batch_get(self, keys: Sequence[RecordKey]) -> dict[RecordKey, Item]:
        """Consistent BatchGetItem of up to 100 keys, retrying UnprocessedKeys
        with exponential backoff and full jitter; StoreError when they persist."""
        found: dict[RecordKey, Item] = {}
        if not keys:
            return found
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys],
                "ConsistentRead": True,
            }
        }
        for attempt in range(self.batch_attempts):
            try:
                response = self.client.batch_get_item(RequestItems=request)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise self._fail("BatchGetItem", exc) from None
            responses: dict[str, list[Item]] = response.get("Responses", {})  # type: ignore[assignment]
            for item in responses.get(self.table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            unprocessed: dict[str, Any] = response.get("UnprocessedKeys") or {}
            if not unprocessed.get(self.table, {}).get("Keys"):
                return found
            request = dict(unprocessed)
            if attempt + 1 < self.batch_attempts:
                ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
                self.sleep(random.uniform(0, ceiling))
        left = len(request[self.table]["Keys"])
        raise StoreError(
            f"{self.describe()}: BatchGetItem left {left} key(s) unprocessed after "
            f"{self.batch_attempts} attempts (throttled); nothing was skipped silently"
        )

    # -- crypto-shredding (KEY-6) ---------------------------------------------

    def replace_dek(self, old: WrappedDek, new: WrappedDek) -> bool:
        """Compare-and-set one wrapped-DEK item from ``old`` to ``new``.

        A conditional PutItem that succeeds only while every attribute still
        equals ``old``'s, so a concurrent writer is never overwritten. True
        when this call changed it, False when it already held ``new``;
        anything else raises ConflictError.
        """
        old_item, new_item = item_from_record(old), item_from_record(new)
        if (old_item["pk"], old_item["sk"]) != (new_item["pk"], new_item["sk"]):
            raise ValueError("replace_dek keeps the key's position: same dialogue and version")
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        terms: list[str] = []
        for i, (name, value) in enumerate(sorted(old_item.items())):
            names[f"#a{i}"] = name
            values[f":v{i}"] = value
            terms.append(f"#a{i} = :v{i}")
        for j, name in enumerate(sorted(set(new_item) - set(old_item))):
            names[f"#n{j}"] = name
            terms.append(f"attribute_not_exists(#n{j})")
        try:
            self.client.put_item(
                TableName=self.table,
                Item=new_item,
                ConditionExpression=" AND ".join(terms),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._fail(f"PutItem {old.key_id}", exc) from None
        key = (new_item["pk"]["S"], new_item["sk"]["S"])
        stored = self._batch_get([key])
        if stored.get(key) == new_item:
            return False
        raise ConflictError(
            f"{self.describe()}: {old.key_id} changed since it was read; not overwritten"
        )


class _SegmentPart:
    """Some Scan segments of a table: one part of a parallel read (:meth:`DynamoDBStore.split`)."""

    grouped = True

    def __init__(self, store: DynamoDBStore, segments: tuple[int, ...], total: int) -> None:
        self.store, self.segments, self.total = store, segments, total
        self.kind = store.kind
        self.integrity_basis = store.integrity_basis

    def describe(self) -> str:
        return self.store.describe()

    def read(self) -> Iterator[SourceItem]:
        # Read in a forked worker: a client of its own, never the parent's
        # connections (a pooled socket must not be shared by two processes).
        store = copy.copy(self.store)
        store.client = store._new_client()
        yield from store._read_segments(self.segments, self.total)
