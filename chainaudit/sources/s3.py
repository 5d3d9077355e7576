"""Read exports straight from S3 (or an S3-compatible server) through boto3 (EXP-13).

``s3://BUCKET/KEY`` names, in this order of trial:

* an object whose key ends in ``.ndjson`` or ``.ndjson.gz``: one NDJSON
  export (EXP-1..7);
* a prefix (``/`` is added when missing) with ``manifest-summary.json``
  directly under it: a DynamoDB Export to S3 (EXP-9), i.e.
  ``s3://bucket/prefix/AWSDynamoDB/<ExportId>/``, read by the same reader
  as a local copy of it through :class:`S3Tree`;
* any other prefix: every object under it (at any depth) whose key ends in
  ``.ndjson`` or ``.ndjson.gz``, read as one dataset (like ``verify A B C``).

Objects are streamed: the MD5 pass and the parse of a data file each read
it once from S3 (gzip decompressed on the fly), never whole into memory.
Every read of an object after the first asks for the ETag first seen
(``If-Match``) and checks the answer's ETag, so both passes, and a keyed
run's second reading, see the same bytes; an object replaced meanwhile
stops the run.

Errors (docs/export.md EXP-13): a bucket that does not exist, a prefix that
holds no export and a named object that does not exist are bad input
(:class:`InputError`, exit 2); an object the run needs that cannot be read
(absent, refused, a stalled or unreachable endpoint, a body cut short) is
coverage that could not be verified (:class:`StoreError`, exit 3), one line
naming its ``s3://`` URL. The client has the store timeouts of STORE-12
(botocore's connect and read timeouts, no retry after a timeout).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.exceptions
import urllib3.exceptions

from chainaudit.errors import ChainauditError, InputError, StoreError
from chainaudit.sources import Source
from chainaudit.sources.awsconfig import config_problem
from chainaudit.sources.ddb_export import SUMMARY_NAME, DynamoDBExportSource
from chainaudit.sources.dynamodb import _no_retry_after_timeout
from chainaudit.sources.jsonlines import MAX_LINE_BYTES, iter_lines
from chainaudit.sources.multi import MultiSource
from chainaudit.sources.ndjson import NdjsonSource
from chainaudit.sources.timeouts import StoreTimeouts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

SCHEME = "s3://"
#: Keys read as NDJSON exports (EXP-1: ``.ndjson``, gzip as ``.ndjson.gz``).
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz")
#: Bytes asked of an object's body per read (urllib3 waits for all of them,
#: so a small read keeps the count of bytes received, in errors, close).
_CHUNK = 1 << 16
#: Answers that mean "there is no such object" (GetObject, or HeadObject without a body).
_ABSENT = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET = "NoSuchBucket"
#: Answers to If-Match when the object is no longer the one first read.
_CHANGED = frozenset({"PreconditionFailed", "412"})
#: Failures of a body being read (botocore wraps urllib3's timeouts and protocol errors).
_STREAM_ERRORS = (botocore.exceptions.BotoCoreError, urllib3.exceptions.HTTPError, OSError)


def is_s3_url(spec: str) -> bool:
    return spec.startswith(SCHEME)


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/key``: a bucket and a key (or key prefix), as given."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> S3Url:
        if not is_s3_url(url):
            raise InputError(url, "not an s3:// URL")
        bucket, _, key = url[len(SCHEME) :].partition("/")
        if not bucket:
            raise InputError(url, "name the bucket: s3://BUCKET/PREFIX/ or s3://BUCKET/KEY.ndjson")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    def is_ndjson_object(self) -> bool:
        return self.key.endswith(NDJSON_SUFFIXES)

    def as_prefix(self) -> S3Url:
        """The URL as a key prefix: ending in ``/`` (or empty: the whole bucket)."""
        key = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        return S3Url(self.bucket, key)

    def child(self, relative: str) -> S3Url:
        return S3Url(self.bucket, self.key + relative)


class S3:
    """One boto3 S3 client with chainaudit's timeouts, and its errors in one line.

    Remembers the ETag each object was first read at, and reads it at that
    ETag only afterwards (``If-Match``, and the answer's ETag checked).
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        timeouts: StoreTimeouts | None = None,
        max_attempts: int = 5,
        client: S3Client | None = None,
        what: str = SCHEME,
    ) -> None:
        self.endpoint_url = endpoint_url
        #: What the client was built from, so that another process can build
        #: its own (a Dask worker, chainaudit.distributed): clients are not sent.
        self.region = region
        self.profile = profile
        self.timeouts = timeouts or StoreTimeouts()
        self._etags: dict[tuple[str, str], str] = {}
        if client is None:
            config = botocore.config.Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=self.timeouts.connect,
                read_timeout=self.timeouts.read,
                # S3-compatible servers (MinIO, Ceph, s3rver) answer path-style requests.
                s3={"addressing_style": "path"} if endpoint_url else None,
            )
            try:
                session = boto3.session.Session(region_name=region, profile_name=profile)
                client = session.client("s3", endpoint_url=endpoint_url, config=config)
            except (botocore.exceptions.BotoCoreError, ValueError) as exc:
                problem = config_problem(exc)  # CLI-3: the local configuration, exit 2
                if problem is None:
                    raise
                raise InputError(what, problem) from None
            client.meta.events.register(
                "needs-retry.s3",
                _no_retry_after_timeout,
                unique_id="chainaudit-no-retry-after-timeout",
            )
        self.client: S3Client = client

    # -- errors ------------------------------------------------------------------

    def fail(self, url: S3Url | str, action: str, exc: Exception) -> ChainauditError:
        """The one-line error for ``exc`` met while doing ``action`` on ``url``:
        a local configuration problem is exit 2 (CLI-3), anything else exit 3."""
        problem = config_problem(exc)
        if problem is not None:
            return InputError(str(url), problem)
        if isinstance(exc, ChainauditError):
            return exc
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "?"))
            if code in _ABSENT:
                return StoreError(f"{url}: {action} failed: the object does not exist ({code})")
            if code in _CHANGED:
                return StoreError(f"{url}: {action} failed: {_changed()}")
            detail = f"{code}: {err.get('Message', '')}".rstrip(": ")
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                detail = f"access denied ({detail}); check the credentials and the bucket policy"
        elif isinstance(exc, botocore.exceptions.ConnectTimeoutError):
            detail = f"{self.timeouts.connect_expired()} ({exc})"
        elif isinstance(
            exc, botocore.exceptions.ReadTimeoutError | urllib3.exceptions.ReadTimeoutError
        ):
            # botocore's text names no URL for a body's read; the object's URL is the news.
            detail = self.timeouts.read_expired()
        else:
            detail = str(exc) or type(exc).__name__
        return StoreError(f"{url}: {action} failed: {detail}")

    # -- requests ----------------------------------------------------------------

    def head(self, url: S3Url) -> str | None:
        """The object's ETag, or None when there is no such object (or bucket)."""
        try:
            answer = self.client.head_object(Bucket=url.bucket, Key=url.key)
        except botocore.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _ABSENT:
                return None
            raise self.fail(url, "HeadObject", exc) from None
        except Exception as exc:
            raise self.fail(url, "HeadObject", exc) from None
        etag = answer["ETag"]
        self._etags.setdefault((url.bucket, url.key), etag)
        return etag

    def bucket_exists(self, url: S3Url) -> bool:
        try:
            self.client.head_bucket(Bucket=url.bucket)
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _ABSENT or code == _NO_BUCKET:
                return False
            raise self.fail(f"{SCHEME}{url.bucket}", "HeadBucket", exc) from None
        except Exception as exc:
            raise self.fail(f"{SCHEME}{url.bucket}", "HeadBucket", exc) from None
        return True

    def list(self, prefix: S3Url) -> Iterator[S3Url]:
        """Every object under ``prefix`` (at any depth), in key order; a bucket
        that does not exist is bad input."""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=prefix.bucket, Prefix=prefix.key
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key, etag = obj.get("Key"), obj.get("ETag")
                    if key is None:
                        continue
                    if etag is not None:
                        self._etags.setdefault((prefix.bucket, key), etag)
                    yield S3Url(prefix.bucket, key)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _NO_BUCKET:
                raise InputError(
                    str(prefix), f"the bucket {prefix.bucket!r} does not exist"
                ) from None
            raise self.fail(prefix, "ListObjectsV2", exc) from None
        except ChainauditError:
            raise
        except Exception as exc:
            raise self.fail(prefix, "ListObjectsV2", exc) from None

    def open(self, url: S3Url) -> io.BufferedReader:
        """The object's bytes as stored, streamed; at the ETag first seen."""
        known = self._etags.get((url.bucket, url.key))
        args: dict[str, Any] = {"Bucket": url.bucket, "Key": url.key}
        if known is not None:
            args["IfMatch"] = known
        try:
            answer: GetObjectOutputTypeDef = self.client.get_object(**args)
        except Exception as exc:
            raise self.fail(url, "GetObject", exc) from None
        body = answer["Body"]
        etag = answer.get("ETag")
        if known is None and etag is not None:
            self._etags[(url.bucket, url.key)] = etag
        elif known is not None and etag is not None and etag != known:
            # A server that ignores If-Match (s3rver does) still says what it sent.
            body.close()
            raise StoreError(f"{url}: GetObject failed: {_changed()}")
        return io.BufferedReader(_Body(self, url, body), buffer_size=_CHUNK)


def _changed() -> str:
    return "the object changed while chainaudit read it (its ETag differs from the first read's)"


class _Body(io.RawIOBase):
    """An S3 object's body as a raw stream; a failed read is a StoreError naming the object."""

    def __init__(self, s3: S3, url: S3Url, body: Any) -> None:
        self._s3 = s3
        self._url = url
        self._body = body
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(min(len(view), _CHUNK))
        except _STREAM_ERRORS as exc:
            error = self._s3.fail(self._url, f"reading the object after {self._read} bytes", exc)
            raise error from None
        n = len(data)
        view[:n] = data
        self._read += n
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._body.close()
            finally:
                super().close()


class S3Tree:
    """An S3 prefix as a :class:`~chainaudit.sources.filetree.FileTree`.

    ``missing`` is never true: a listed object that cannot be read, absent
    included, raises :class:`StoreError` (exit 3) when it is read (EXP-13).
    """

    def __init__(self, s3: S3, prefix: S3Url) -> None:
        self.s3 = s3
        self.prefix = prefix.as_prefix()
        self.root = f"{SCHEME}{self.prefix.bucket}/{self.prefix.key}".rstrip("/")

    def url(self, relative: str) -> S3Url:
        return self.prefix.child(relative)

    def name(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def missing(self, relative: str) -> bool:
        return False

    def read_head(self, relative: str, limit: int) -> bytes:
        with self.open(relative) as f:
            return f.read(limit)

    def open(self, relative: str) -> io.BufferedReader:
        return self.s3.open(self.url(relative))

    def lines(self, relative: str, max_line_bytes: int) -> Iterator[tuple[int, bytes]]:
        return iter_lines(self.name(relative), max_line_bytes, opener=lambda: self.open(relative))


class S3NdjsonSource(NdjsonSource):
    """One NDJSON export in S3; origins and findings name its ``s3://`` URL."""

    def __init__(self, s3: S3, url: S3Url, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        super().__init__(str(url), max_line_bytes=max_line_bytes, opener=lambda: s3.open(url))
        self.s3 = s3
        self.url = url


class S3NdjsonPrefix(MultiSource):
    """Every NDJSON export under an S3 prefix, as one dataset (like ``verify A B C``)."""

    def __init__(self, prefix: S3Url, sources: list[S3NdjsonSource]) -> None:
        super().__init__(sources)
        self.prefix = prefix

    def describe(self) -> str:
        n = len(self.sources)
        return f"ndjson:{self.prefix} ({n} object{'s' if n != 1 else ''})"


def open_s3(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    timeouts: StoreTimeouts | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    client: S3Client | None = None,
) -> Source:
    """The source an ``s3://`` URL names (see the module's docstring)."""
    where = S3Url.parse(url)
    s3 = S3(
        endpoint_url=endpoint_url,
        region=region,
        profile=profile,
        timeouts=timeouts,
        client=client,
        what=url,
    )
    if where.is_ndjson_object():
        if s3.head(where) is None:
            if not s3.bucket_exists(where):
                raise InputError(url, f"the bucket {where.bucket!r} does not exist")
            raise InputError(url, "no such object")
        return S3NdjsonSource(s3, where, max_line_bytes=max_line_bytes)
    prefix = where.as_prefix()
    if s3.head(prefix.child(SUMMARY_NAME)) is not None:
        return DynamoDBExportSource(S3Tree(s3, prefix), max_line_bytes=max_line_bytes)
    keys = [u for u in s3.list(prefix) if u.is_ndjson_object()]
    if not keys:
        raise InputError(
            str(prefix),
            f"holds no export: no {SUMMARY_NAME} directly under it (a DynamoDB Export to S3 "
            "is read at s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT-ID/) and no *.ndjson or "
            "*.ndjson.gz object under it",
        )
    shards = [S3NdjsonSource(s3, u, max_line_bytes=max_line_bytes) for u in keys]
    return S3NdjsonPrefix(prefix, shards)
