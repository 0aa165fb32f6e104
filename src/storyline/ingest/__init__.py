"""Ingest: files, folders, stdin and feeds become Documents (or Rejections that say why not).

Paths are walked recursively in sorted order so the same folder always yields the same sequence. A file
is read whole within ``max_bytes``, except JSONL: its records are lines, so it is read a line at a time and
the limit bounds each line, which lets an archive of any size in.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import signal
import stat
import sys
import threading
from pathlib import Path, PurePosixPath
import zlib
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

from storyline.ingest.decode import DecodeError, decode_bytes, decode_line, reads_as_utf8, without_utf8_bom
from storyline.ingest.fields import FieldMap, parse_field_options
from storyline.ingest.formats import READERS, read_jsonl_line, record_to_document, sniff_format
from storyline.ingest.lines import Inflated, Overlong, bounded_lines, ratio_bounded_gunzip, sample_stream
from storyline.model import Document, Rejection

__all__ = ["IngestOptions", "read_sources", "read_file_bytes", "read_record", "walk_files", "walk_key", "is_skipped", "FieldMap",
           "parse_field_options", "EXTENSIONS"]

EXTENSIONS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
_SKIP_NAMES = {".DS_Store", "Thumbs.db", "LICENSE", "LICENSE.txt", "README.md", "ATTRIBUTION.md", "NOTICE"}


@dataclasses.dataclass(frozen=True, slots=True)
class IngestOptions:
    max_bytes: int = 20 * 1024 * 1024  # per file after decompression; per line (record) of a JSONL file
    fields: FieldMap = dataclasses.field(default_factory=FieldMap)
    format: str | None = None  # force a reader for every input (e.g. stdin jsonl)
    max_seconds: float = 60.0  # per file (per batch of JSONL records): what takes longer is skipped, with a line

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError(f"--max-bytes must be at least 1, got {self.max_bytes}")
        if not 0 < self.max_seconds < float("inf"):  # nan and inf too: the bound is a real timer
            raise ValueError(f"--max-seconds must be a finite number of seconds above 0 (e.g. 3600), got {self.max_seconds}")
        if self.format is not None and self.format not in READERS:
            raise ValueError(f"unknown --format {self.format!r}; choose one of: {', '.join(sorted(READERS))}")


def _format_for(suffixes: list[str]) -> tuple[str | None, bool]:
    suffixes = [s.lower() for s in suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (EXTENSIONS.get(suffixes[-1]) if suffixes else None), gz


def _read_limited(stream: BinaryIO, limit: int) -> bytes | None:
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def display_path(path: Path | str) -> str:
    """A path as printable, storable text: bytes that are not UTF-8 in a file name become U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):  # outside, or a symlink loop
        return False


def walk_files(path: Path) -> Iterator[Path | Rejection]:
    """The files under ``path`` in sorted order; links that lead out of it and folders are said, not followed."""
    if not path.is_dir():
        yield path
        return
    root = path.resolve()
    for folder, dirs, files in os.walk(path):
        for name in sorted(d for d in dirs if not d.startswith(".")):
            if os.path.islink(os.path.join(folder, name)):
                yield Rejection(display_path(os.path.join(folder, name)), "a link to a folder: not followed (pass its target itself)")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(folder, d)))
        if not dirs and not any(not f.startswith(".") and f not in _SKIP_NAMES for f in files):
            yield Rejection(display_path(folder), "folder holds no files to read")
        for name in sorted(files):
            if name.startswith(".") or name in _SKIP_NAMES:
                continue
            file = Path(folder) / name
            if file.is_symlink() and not _inside(file, root):
                yield Rejection(display_path(file), f"a link that leads outside {display_path(path)}: not followed (pass its target itself)")
                continue
            yield file


def _open_regular(path: Path) -> BinaryIO:
    """Open for reading without blocking; a FIFO, socket or device is refused (reading one could block forever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular(path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _NotRegular(OSError):
    pass


_UNREADABLE = (OSError, EOFError, gzip.BadGzipFile, zlib.error)  # what a broken file or .gz raises while read


def _open_file(path: Path) -> tuple[BinaryIO, int]:
    """A file's stream and size; raises what ``_unreadable`` tells."""
    raw = _open_regular(path)
    return raw, os.fstat(raw.fileno()).st_size


def _unreadable(origin: str, exc: BaseException) -> Rejection:
    """Why a file could not be opened or read, said so its owner knows what to do."""
    if isinstance(exc, _NotRegular):
        return Rejection(origin, "not a regular file (a FIFO, socket or device); skipped so the run cannot block")
    if isinstance(exc, PermissionError):
        return Rejection(origin, "permission denied (check the file's read permission)")
    if isinstance(exc, FileNotFoundError):
        return Rejection(origin, "no such file or folder (or a broken link)")
    if isinstance(exc, IsADirectoryError):
        return Rejection(origin, "is a folder whose name looks like a file; nothing read")
    if isinstance(exc, Inflated):
        return Rejection(origin, str(exc))
    return Rejection(origin, f"cannot read: {exc}")


def _bounded_bytes(raw: BinaryIO, size: int, gz: bool, origin: str, options: IngestOptions) -> bytes | Rejection:
    """One file's bytes from its open stream, within ``max_bytes`` (a .gz inflated through the same limit)."""
    if not gz and size > options.max_bytes:
        return Rejection(origin, f"file is {size:,} bytes, over the {options.max_bytes:,}-byte limit (raise it with --max-bytes)")
    if gz:
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            data = _read_limited(stream, options.max_bytes)
    else:
        data = _read_limited(raw, options.max_bytes)
    if data is None:
        return Rejection(origin, f"over the {options.max_bytes:,}-byte limit after decompression (raise it with --max-bytes)")
    return data


class _TooSlow(BaseException):  # not an Exception: a parser's own ``except Exception`` must not swallow it
    pass


_T = TypeVar("_T")


def _time_limited(read: Callable[[], _T], seconds: float) -> _T:
    """Run ``read`` under a wall-clock alarm (main thread only; elsewhere it runs unbounded).

    The readers are linear on everything the hostile-input tests throw at them; this is the net for what
    they do not know yet (a parser library's own slow path), so one file can never stall a whole run.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return read()

    def alarm(_signum, _frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return read()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _documents_from_bytes(data: bytes, origin: str, fmt: str | None, options: IngestOptions) -> list[Document | Rejection]:
    """Every record of one file; whatever goes wrong reading it becomes one line about that file."""
    if not data.strip():
        return [Rejection(origin, "empty file")]
    try:
        text, _encoding = decode_bytes(data)
    except DecodeError as exc:
        return [Rejection(origin, str(exc))]
    fmt = options.format or fmt or sniff_format(text)
    try:
        items = _time_limited(lambda: list(READERS[fmt](text, origin, options.fields)), options.max_seconds)
    except _TooSlow:
        return [Rejection(origin, f"took over {options.max_seconds:g} s to read; skipped (a pathological file?)")]
    except Exception as exc:  # noqa: BLE001 - a reader's bug must cost one file, not the run
        return [_failed(exc, origin, fmt)]
    for item in items:
        if isinstance(item, Document):
            item.scope = origin
    return items or [Rejection(origin, f"no articles in it (read as {fmt})")]


def _failed(exc: Exception, origin: str, fmt: str) -> Rejection:
    """A reader that raised: the one file it was reading is skipped with a line, never the run."""
    if isinstance(exc, RecursionError):
        return Rejection(origin, "nested too deeply to read")
    if isinstance(exc, MemoryError):
        return Rejection(origin, "ran out of memory reading it; skipped")
    return Rejection(origin, f"could not be read as {fmt} ({type(exc).__name__}: {exc})")


def read_path(path: Path, options: IngestOptions) -> Iterator[Document | Rejection]:
    if not path.exists() and not path.is_symlink():
        yield Rejection(display_path(path), "no such file or folder")
        return
    for file in walk_files(path):
        if isinstance(file, Rejection):
            yield file
            continue
        yield from _file_documents(display_path(file), file.suffixes, options, lambda f=file: _open_file(f))


def _file_documents(origin: str, suffixes: list[str], options: IngestOptions,
                    open_file: Callable[[], tuple[BinaryIO, int]]) -> Iterator[Document | Rejection]:
    """One file's Documents: the format from its name, its stream and size from ``open_file()``, then a
    JSONL file record by record and any other whole, within ``max_bytes``, through its reader."""
    fmt, gz = _format_for(suffixes)
    if fmt is None and options.format is None:
        suffix = display_path(suffixes[-1]) if suffixes else "(none)"
        yield Rejection(origin, f"unknown extension {suffix!r}; known: {', '.join(sorted(EXTENSIONS))} (and .gz of them)")
        return
    try:
        raw, size = open_file()
    except _UNREADABLE as exc:
        yield _unreadable(origin, exc)
        return

    def whole(stream: BinaryIO) -> list[Document | Rejection]:
        return _whole_file(stream, size, gz, origin, fmt, options)

    with raw:
        if (options.format or fmt) == "jsonl":
            yield from _jsonl(raw, gz, origin, options, whole)
            return
        items = whole(raw)
    yield from items  # the file closed: a folder's files are never open at once


def _whole_file(raw: BinaryIO, size: int, gz: bool, origin: str, fmt: str | None,
                options: IngestOptions) -> list[Document | Rejection]:
    """A file read whole within ``max_bytes``, then by its reader."""
    try:
        data = _bounded_bytes(raw, size, gz, origin, options)
    except _UNREADABLE as exc:
        return [_unreadable(origin, exc)]
    return [data] if isinstance(data, Rejection) else _documents_from_bytes(data, origin, fmt, options)


def _jsonl(raw: BinaryIO, gz: bool | None, origin: str, options: IngestOptions,
           whole: Callable[[BinaryIO], Iterable[Document | Rejection]]) -> Iterator[Document | Rejection]:
    """A JSONL file or stream (``gz`` None: gzip if it starts as gzip), record by record when its first
    bytes say it is UTF-8, as JSON nearly always is. Any other encoding is judged on the whole file, as
    before, so it is read by ``whole`` (given the stream from its start) within the whole-file limit."""
    try:
        sample = sample_stream(raw, gz)
    except _UNREADABLE as exc:
        yield _unreadable(origin, exc)
        return
    if sample.head is None or not reads_as_utf8(sample.head, sample.complete):
        yield from whole(sample.stream)
        return
    stream = ratio_bounded_gunzip(sample.stream) if sample.gz else sample.stream
    yield from _jsonl_records(stream, origin, options, blank=not sample.head.strip())


# JSONL records are read in batches, each under one arming of the time limit (arming it costs about 7 µs,
# as much as parsing a short record): 64 records, or fewer once their lines reach 1 MiB.
_BATCH_RECORDS = 64
_BATCH_BYTES = 1 << 20


class _JsonlBatches:
    """A UTF-8 JSONL stream read a batch of records at a time, each line as it comes."""

    def __init__(self, stream: BinaryIO, origin: str, options: IngestOptions) -> None:
        self.origin, self.options = origin, options
        self.number = 0  # the lines read so far
        self.ready: list[Document | Rejection] = []  # records read and not yet taken
        self._held = 0  # bytes of the lines read for the batch being filled
        self._lines = self._numbered(stream)

    def _numbered(self, stream: BinaryIO) -> Iterator[tuple[int, str] | Rejection]:
        """(number, text) of each line that is not blank, numbered as ``str.splitlines`` numbers the whole
        text (a U+2028 in a line starts another, as it did when the file was read whole), or a Rejection
        for a line over ``max_bytes`` or one that is not text.

        Blank lines count toward the limit of the record after them: more than ``max_bytes`` of them in a
        row (a few bytes of gzip can inflate to gigabytes of line breaks) end the file with a line saying so.
        """
        limit = self.options.max_bytes
        gap = 0  # bytes of blank lines since the last line with something in it
        for index, line in enumerate(bounded_lines(stream, limit)):
            if isinstance(line, Overlong):
                self.number, gap = self.number + 1, 0
                yield Rejection(f"{self.origin}:{self.number}", f"line is {line.size:,} bytes, over the {limit:,}-byte "
                                                              "limit for one record (raise it with --max-bytes)")
                continue
            self._held += len(line)
            blank = True
            if line == b"\n" or line == b"\r\n":  # the common blank line, without decoding it
                self.number += 1
            else:
                try:
                    text = decode_line(without_utf8_bom(line) if index == 0 else line)
                except DecodeError as exc:
                    self.number, gap = self.number + 1, 0
                    yield Rejection(f"{self.origin}:{self.number}", str(exc))
                    continue
                for piece in text.splitlines():
                    self.number += 1
                    if piece.strip():
                        blank = False
                        yield self.number, piece
            gap = gap + len(line) if blank else 0
            if gap > limit:
                yield Rejection(f"{self.origin}:{self.number}", f"{gap:,} bytes of blank lines in a row, over the {limit:,}-byte "
                                "limit for one record; the rest of the file skipped (raise it with --max-bytes)")
                return

    def fill(self) -> bool:
        """Read records into ``ready`` until a batch is full; False at the end of the stream. Blank lines
        fill nothing, so a run of them is read under the same time limit as the record after it."""
        self._held = 0
        for line in self._lines:
            if isinstance(line, Rejection):
                item: Document | Rejection | None = line
            else:
                item = read_jsonl_line(line[1], self.origin, line[0], self.options.fields)
            if item is None:
                continue
            if isinstance(item, Document):
                item.scope = self.origin
            self.ready.append(item)
            if len(self.ready) >= _BATCH_RECORDS or self._held >= _BATCH_BYTES:
                return True
        return False

    def take(self) -> list[Document | Rejection]:
        ready, self.ready = self.ready, []
        return ready


def _jsonl_records(stream: BinaryIO, origin: str, options: IngestOptions, blank: bool) -> Iterator[Document | Rejection]:
    """Each record of a UTF-8 JSONL stream, a batch at a time, as the whole file would give them.

    ``max_seconds`` bounds each batch (of records that take microseconds each), the blank lines before
    them included, so a stream of nothing but line breaks is bounded too; a batch that takes longer ends
    the file with a line saying where, after the records of the batch read before it.
    ``blank``: the stream's first bytes are only white space, so a stream that gives nothing is "empty".
    """
    batches = _JsonlBatches(stream, origin, options)
    found = False
    more = True
    while more:
        try:
            more = _time_limited(batches.fill, options.max_seconds)
        except _TooSlow:
            yield from batches.take()
            yield Rejection(origin, f"took over {options.max_seconds:g} s to read a record (stopped near line "
                                    f"{batches.number}); skipped the rest of the file (a pathological file?)")
            return
        except _UNREADABLE as exc:  # a .gz cut short or corrupt part way: what came before it stands
            yield from batches.take()
            yield _unreadable(origin, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a reader's bug must cost one file, not the run
            yield from batches.take()
            yield _failed(exc, origin, "jsonl")
            return
        batch = batches.take()
        found = found or bool(batch)
        yield from batch
    if not found:
        yield Rejection(origin, "empty file" if blank else "no articles in it (read as jsonl)")


def read_file_bytes(data: bytes, name: str, options: IngestOptions | None = None) -> Iterator[Document | Rejection]:
    """One file's Documents from its bytes, as ``read_path`` reads that file (format from the name, .gz,
    the same size limits and reasons). For callers that fetch the bytes themselves (the Spark job reads
    any path Spark can); ``name`` is the file's path, used as the origin and the scope of source ids.
    """
    options = options or IngestOptions()
    yield from _file_documents(name, PurePosixPath(name).suffixes, options, lambda: (io.BytesIO(data), len(data)))


def read_record(record: object, origin: str, options: IngestOptions | None = None, scope: str | None = None) -> Document | Rejection:
    """One already-parsed record (a JSON object, a Parquet row as a dict) as a Document, by the field map.

    ``scope`` is the file (or table) the record came from, which source ids are unique within, as for a
    record read from a file.
    """
    item = record_to_document(record, origin, (options or IngestOptions()).fields)
    if isinstance(item, Document):
        item.scope = scope or origin
    return item


def walk_key(relative: str) -> tuple[tuple[int, str], ...]:
    """Sort key that puts file paths (relative to a folder) in the order ``read_path`` walks them:
    a folder's files (sorted) before its subfolders (sorted, each recursively)."""
    parts = relative.strip("/").split("/")
    return tuple((1, p) for p in parts[:-1]) + ((0, parts[-1]),)


def is_skipped(name: str) -> bool:
    """Files ``read_path`` leaves out of a folder walk (hidden files, licences, read-mes)."""
    return name.startswith(".") or name in _SKIP_NAMES


def read_stdin(options: IngestOptions, stream: BinaryIO | None = None) -> Iterator[Document | Rejection]:
    """Standard input (or ``stream``): with ``--format jsonl`` record by record as a JSONL file is, gzip
    or not; otherwise whole, within ``max_bytes``, its format sniffed unless given."""
    stream = stream or sys.stdin.buffer
    if options.format == "jsonl":
        yield from _jsonl(stream, None, "<stdin>", options, lambda rejoined: _whole_stdin(rejoined, options))
    else:
        yield from _whole_stdin(stream, options)


def _whole_stdin(stream: BinaryIO, options: IngestOptions) -> Iterator[Document | Rejection]:
    data = _read_limited(stream, options.max_bytes)
    if data is None:
        yield Rejection("<stdin>", f"over the {options.max_bytes:,}-byte limit (raise it with --max-bytes)")
        return
    if data[:2] == b"\x1f\x8b":  # inflated through the same limit as a file: never whole into memory
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as inflated:
                data = _read_limited(inflated, options.max_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            yield Rejection("<stdin>", f"broken gzip stream: {exc}")
            return
        if data is None:
            yield Rejection("<stdin>", f"over the {options.max_bytes:,}-byte limit after decompression (raise it with --max-bytes)")
            return
    yield from _documents_from_bytes(data, "<stdin>", None, options)


def read_sources(paths: Iterable[str | Path], options: IngestOptions | None = None) -> Iterator[Document | Rejection]:
    """Every Document (or Rejection) from the given paths; ``-`` reads standard input."""
    options = options or IngestOptions()
    for path in paths:
        if str(path) == "-":
            yield from read_stdin(options)
        else:
            yield from read_path(Path(path), options)
