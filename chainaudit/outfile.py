"""Where an output goes: the one way chainaudit writes a file (docs/cli.md, CLI-8).

Every command that writes — reports (``-o``), exports, manifests and leaves
files, proofs, trusted-keys and key files, the demo, the golden vectors —
goes through this module, which treats a destination as Unix tools do:

* ``-`` is stdout. ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` and
  ``/proc/self/fd/N`` are the descriptor the process already holds, written
  at its current offset (``-o /dev/stdout >> log`` appends, as ``cat`` does).
* A character or block device, or a FIFO, is opened for writing and written
  through: never created, truncated, renamed over or replaced.
* A symbolic link is followed to its final target; the target is written
  (atomically, if it is a regular file) and the link stays a link.
* A regular file, or a path that does not exist yet, is written atomically:
  a temporary file beside the target, fsynced, renamed over the target, the
  directory fsynced. A reader never sees half a file, and an interrupted
  write leaves the previous file as it was. A file that is replaced keeps
  its mode (and, when root writes, its owner).

A directory, a socket, a path whose directory does not exist, or anything
that cannot be written is an :class:`~chainaudit.errors.InputError` naming
the path as given (exit 2, one line).

Temporary files are named ``.NAME.chainaudit-partial-PID-RANDOM``. One is
removed on any exception; one left behind by a process that was killed is
removed by the next write to the same destination (:func:`remove_stale`).

Key material has stricter rules (:func:`create_exclusive`): only a new
regular file, never through a link, a device, a FIFO or stdout, never over
an existing file.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Literal, cast

from chainaudit.errors import InputError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: The path that means stdout.
STDOUT = "-"
#: What every temporary file's name carries, after ``.NAME``.
PARTIAL_MARK = ".chainaudit-partial-"
#: At most this many characters of NAME go into a temporary name (NAME_MAX is 255).
_NAME_KEEP = 200
#: Symbolic links followed before giving up (Linux's own limit).
_MAX_LINKS = 40
_BUFFER = 1 << 16
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_PROC_FD_DIR = re.compile(r"/proc/([0-9]+)(?:/task/[0-9]+)?/fd\Z")
_DEV_STD = {"stdin": 0, "stdout": 1, "stderr": 2}
#: A full disk or an I/O error is the machine's fault, not the input's: these
#: stay OSErrors, which the CLI reports in one line with exit 3 (CLI-3).
_RESOURCE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})

Kind = Literal["descriptor", "stream", "file"]


def _error(path: str, what: str, reason: str) -> InputError:
    return InputError(path, f"cannot write {what}: {reason}")


def _os_error(path: str, what: str, exc: OSError, doing: str = "") -> Exception:
    """The error to raise for ``exc``: an InputError naming ``path`` (exit 2),
    or, for a resource fault, an OSError carrying ``path`` (exit 3)."""
    reason = f"{doing}{exc.strerror or exc}"
    if exc.errno in _RESOURCE_ERRNOS:
        return OSError(exc.errno, f"cannot write {what}: {reason}", path)
    return _error(path, what, reason)


def _kind_name(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


@dataclass(frozen=True, slots=True)
class Destination:
    """What a path names as an output, once symbolic links are followed.

    ``kind`` is ``"descriptor"`` (stdout, or a descriptor the process holds:
    ``fd``), ``"stream"`` (a device or FIFO at ``target``, written through)
    or ``"file"`` (a regular file, or a new one, at ``target``, written
    atomically). ``path`` is the path as given, for messages.
    """

    path: str
    what: str
    kind: Kind
    target: str = ""
    fd: int = -1

    @property
    def scratch_dir(self) -> str | None:
        """Where a writer may put its own working files (sort runs): beside a
        regular file, else the system temporary directory (None)."""
        return os.path.dirname(self.target) if self.kind == "file" else None

    def probe(self) -> None:
        """Check now that a device accepts writing, for a command that must not
        act (sign a manifest) before finding out its report cannot be written.

        A device is opened (non-blocking) and closed again; a FIFO is not
        opened (that would wait for its reader), nor is anything created.
        """
        if self.kind != "stream" or stat.S_ISFIFO(os.stat(self.target).st_mode):
            return
        try:
            os.close(os.open(self.target, os.O_WRONLY | os.O_NONBLOCK | _CLOEXEC | _NOCTTY))
        except OSError as exc:
            raise _os_error(self.path, self.what, exc) from None

    @contextlib.contextmanager
    def open(self, *, create_mode: int = 0o666) -> Iterator[BinaryIO]:
        """A binary writer for this destination; committed when the block ends.

        ``create_mode`` is the mode of a file that did not exist (the umask
        applies); a replaced file keeps its own. On an exception nothing is
        committed: a temporary file is removed, and what reached a stream
        stays there (it cannot be taken back). Write errors are
        :class:`InputError` naming the destination.
        """
        if self.kind == "descriptor":
            with self._open_descriptor() as out:
                yield out
        elif self.kind == "stream":
            with self._open_stream() as out:
                yield out
        else:
            with self._open_file(create_mode) as out:
                yield out

    # -- the three ways ---------------------------------------------------------

    @contextlib.contextmanager
    def _open_descriptor(self) -> Iterator[BinaryIO]:
        std = {1: sys.stdout, 2: sys.stderr}.get(self.fd)
        buffer = getattr(std, "buffer", None) if std is not None else None
        if std is not None:
            std.flush()  # what click.echo wrote before comes first
        if buffer is not None:
            sink = _Sink(buffer.write, self.path, self.what, flush=buffer.flush)
        else:
            fd = self.fd
            sink = _Sink(lambda b: os.write(fd, b), self.path, self.what)
        with _committed(sink) as out:
            yield out

    @contextlib.contextmanager
    def _open_stream(self) -> Iterator[BinaryIO]:
        # No O_CREAT, no O_TRUNC: a device or FIFO is written, never replaced.
        # Opening a FIFO waits for its reader, as a shell's `>` does.
        try:
            fd = os.open(self.target, os.O_WRONLY | _CLOEXEC | _NOCTTY)
        except OSError as exc:
            raise _os_error(self.path, self.what, exc) from None
        sink = _Sink(lambda b: os.write(fd, b), self.path, self.what, fd=fd)
        with _committed(sink) as out:
            yield out

    @contextlib.contextmanager
    def _open_file(self, create_mode: int) -> Iterator[BinaryIO]:
        directory, name = os.path.split(self.target)
        remove_stale(self.target)
        tmp = os.path.join(directory, partial_name(name))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW
        try:
            fd = os.open(tmp, flags, create_mode)
        except OSError as exc:
            raise _os_error(
                self.path, self.what, exc, f"cannot create a file in {directory}: "
            ) from None
        committed = False
        try:
            _keep_mode_and_owner(fd, self.target)
            sink = _Sink(lambda b: os.write(fd, b), self.path, self.what, fd=fd, sync=True)
            with _committed(sink) as out:
                yield out
            try:
                os.replace(tmp, self.target)
            except OSError as exc:
                raise _os_error(self.path, self.what, exc) from None
            committed = True
        finally:
            if not committed:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        fsync_dir(directory)


class _Sink(io.RawIOBase):
    """The raw end of every writer: turns an OSError while writing (a full
    disk, a FIFO whose reader left) into an InputError naming the output.

    ``fd`` (when given) is closed with the sink, fsynced first if ``sync``.
    After :meth:`discard`, writes are dropped (an aborted write's buffer).
    """

    def __init__(
        self,
        write: Callable[[ReadableBuffer], int | None],
        path: str,
        what: str,
        *,
        fd: int = -1,
        sync: bool = False,
        flush: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._write = write
        self._path = path
        self._what = what
        self._fd = fd
        self._sync = sync
        self._flush = flush
        self._discarded = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._fd < 0:
            raise io.UnsupportedOperation("fileno")
        return self._fd

    def discard(self) -> None:
        self._discarded = True

    def write(self, b: ReadableBuffer, /) -> int:
        size = memoryview(b).nbytes
        if self._discarded:
            return size
        try:
            n = self._write(b)
        except OSError as exc:
            raise _os_error(self._path, self._what, exc) from None
        return size if n is None else n

    def flush(self) -> None:
        super().flush()
        if self._flush is not None and not self._discarded:
            try:
                self._flush()
            except OSError as exc:
                raise _os_error(self._path, self._what, exc) from None

    def finish(self) -> None:
        """Make what was written durable (fsync), for a regular file."""
        if self._sync and self._fd >= 0:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise _os_error(self._path, self._what, exc) from None

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


@contextlib.contextmanager
def _committed(sink: _Sink) -> Iterator[BinaryIO]:
    """A buffered writer over ``sink``: flushed (and fsynced) at the end of
    the block, its buffer dropped if the block raises; the sink is closed."""
    out = io.BufferedWriter(sink, _BUFFER)
    try:
        yield cast(BinaryIO, out)
        out.flush()
        sink.finish()
    except BaseException:
        sink.discard()
        with contextlib.suppress(Exception):
            out.close()
        raise
    out.close()


def _keep_mode_and_owner(fd: int, target: str) -> None:
    """Give the temporary file the mode (and, for root, the owner) of the
    file it will replace, as an in-place write would have kept them."""
    try:
        st = os.stat(target)
        mine = os.fstat(fd)
    except OSError:
        return  # a new file: create_mode and the umask decide
    with contextlib.suppress(OSError):
        if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (mine.st_uid, mine.st_gid):
            os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, stat.S_IMODE(st.st_mode))


# --- classification -------------------------------------------------------------


def destination(path: str | os.PathLike[str], what: str = "the output") -> Destination:
    """Classify ``path`` as an output (following symbolic links), or raise
    :class:`InputError` (directory, socket, missing directory, unwritable).

    Nothing is created or opened: a command can check its outputs before a
    long run, and :meth:`Destination.open` later writes them.
    """
    given = os.fspath(path)
    if given == STDOUT:
        return Destination(given, what, "descriptor", fd=1)
    if not given:
        raise _error("''", what, "the path is empty")
    if given.endswith("/"):
        raise _error(given, what, "it names a directory")
    current = os.path.abspath(given)
    for _ in range(_MAX_LINKS):
        head, name = os.path.split(current)
        real_head = os.path.realpath(head)
        fd = _descriptor_alias(real_head, name)
        if fd is not None:
            return Destination(given, what, "descriptor", fd=fd)
        current = os.path.join(real_head, name)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return _new_file(given, what, real_head, name)
        except OSError as exc:
            raise _os_error(given, what, exc) from None
        if stat.S_ISLNK(st.st_mode):
            try:
                link = os.readlink(current)
            except OSError as exc:
                raise _os_error(given, what, exc) from None
            if _PROC_FD_DIR.match(real_head):
                # Another process's descriptor (/proc/PID/fd/N): the kernel's
                # link may name a pipe, not a path; open it as it is.
                return Destination(given, what, "stream", target=current)
            current = os.path.join(real_head, link)
            continue
        return _existing(given, what, current, st)
    raise _error(given, what, "too many levels of symbolic links")


def _descriptor_alias(real_head: str, name: str) -> int | None:
    """The descriptor ``real_head/name`` names in this process, if it does."""
    if real_head == "/dev" and name in _DEV_STD:
        return _DEV_STD[name]
    m = _PROC_FD_DIR.match(real_head)
    if m and int(m[1]) == os.getpid() and name.isdigit():
        return int(name)
    return None


def _new_file(given: str, what: str, directory: str, name: str) -> Destination:
    if not os.path.isdir(directory):
        raise _error(given, what, f"its directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise _error(given, what, f"its directory {directory} is not writable")
    return Destination(given, what, "file", target=os.path.join(directory, name))


def _existing(given: str, what: str, target: str, st: os.stat_result) -> Destination:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        directory = os.path.dirname(target)
        if not os.access(target, os.W_OK):
            raise _error(given, what, "permission denied (the file is read-only)")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise _error(given, what, f"its directory {directory} is not writable")
        return Destination(given, what, "file", target=target)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
        return Destination(given, what, "stream", target=target)
    shown = given if os.path.abspath(given) == target else f"{given} (-> {target})"
    raise InputError(shown, f"cannot write {what}: it is {_kind_name(mode)}")


# --- writing --------------------------------------------------------------------


def open_output(
    path: str | os.PathLike[str], what: str = "the output", *, create_mode: int = 0o666
) -> contextlib.AbstractContextManager[BinaryIO]:
    """A binary writer for ``path`` (:func:`destination`, then :meth:`Destination.open`).

    >>> import tempfile; d = tempfile.mkdtemp()
    >>> with open_output(d + "/x.txt") as f:
    ...     _ = f.write(b"hello")
    >>> open(d + "/x.txt", "rb").read()
    b'hello'
    """
    return destination(path, what).open(create_mode=create_mode)


def write_output(
    path: str | os.PathLike[str],
    data: bytes | str,
    what: str = "the output",
    *,
    create_mode: int = 0o666,
) -> None:
    """Write ``data`` (text is UTF-8, written as is) to ``path`` by the rules above."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with open_output(path, what, create_mode=create_mode) as out:
        out.write(raw)


def create_exclusive(
    path: str | os.PathLike[str], data: bytes, what: str, mode: int = 0o600
) -> None:
    """Create ``path`` holding ``data`` with ``mode``: for key material.

    Only a new regular file: ``-``, a symbolic link (even a dangling one), a
    device, a FIFO, a directory or an existing file is refused (InputError).
    A secret written through a link could land wherever whoever made the
    link chose, and one written to a stream is read by whoever holds its
    other end. The data goes to a temporary file created with ``mode``,
    fsynced, then hard-linked to ``path``: ``link()`` fails if anything
    appeared there meanwhile, so nothing is ever overwritten, and no reader
    ever sees a partial key or a moment of looser permissions.
    """
    given = os.fspath(path)
    if given == STDOUT:
        raise InputError(given, f"{what} is never written to stdout; name a new file")
    try:
        st: os.stat_result | None = os.lstat(given)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _os_error(given, what, exc) from None
    if st is not None:
        if stat.S_ISREG(st.st_mode):
            raise InputError(given, f"{what} already exists; refusing to overwrite it")
        raise InputError(
            given,
            f"is {_kind_name(st.st_mode)}; {what} is written only to a new regular file "
            "(never through a link, a device or a FIFO)",
        )
    directory, name = os.path.split(os.path.abspath(given))
    if not os.path.isdir(directory):
        raise _error(given, what, f"its directory {directory} does not exist")
    remove_stale(os.path.join(directory, name))
    tmp = os.path.join(directory, partial_name(name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW
    try:
        fd = os.open(tmp, flags, mode)
    except OSError as exc:
        raise _os_error(given, what, exc, f"cannot create a file in {directory}: ") from None
    try:
        try:
            os.fchmod(fd, mode)  # the umask can only narrow it; be explicit anyway
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, given)
    except FileExistsError:
        raise InputError(given, f"{what} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise _os_error(given, what, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    fsync_dir(directory)


# --- temporary files --------------------------------------------------------------


def partial_name(name: str) -> str:
    """A fresh temporary name for a write to ``name``, in the same directory."""
    return f".{name[:_NAME_KEEP]}{PARTIAL_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def remove_stale(target: str) -> list[str]:
    """Remove the temporary files that killed writes to ``target`` left behind.

    A file counts when its name is one :func:`partial_name` gives for
    ``target``'s name, it is a regular file owned by this user, and the
    process named in it is no longer running (a live writer, in this or
    another process, keeps its file). Returns the paths removed.
    """
    directory, name = os.path.split(target)
    pattern = re.compile(re.escape(f".{name[:_NAME_KEEP]}{PARTIAL_MARK}") + r"([0-9]+)-[0-9a-f]+\Z")
    removed: list[str] = []
    try:
        entries = os.scandir(directory or ".")
    except OSError:
        return removed
    with entries:
        for entry in entries:
            m = pattern.match(entry.name)
            if m is None or _alive(int(m[1])):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                    os.unlink(entry.path)
                    removed.append(entry.path)
            except OSError:
                continue
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Make a rename or link in ``directory`` durable (best effort)."""
    try:
        dfd = os.open(directory, os.O_RDONLY | _CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
