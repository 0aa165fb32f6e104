"""Ingest: files, folders, stdin and feeds become Documents (or Rejections that say why not).

Paths are walked recursively in sorted order so the same folder always yields the same sequence.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import sys
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from storyline.ingest.decode import DecodeError, decode_bytes
from storyline.ingest.fields import FieldMap, parse_field_options
from storyline.ingest.formats import READERS, record_to_document, sniff_format
from storyline.model import Document, Rejection

__all__ = ["IngestOptions", "read_sources", "read_file_bytes", "read_record", "walk_key", "is_skipped", "FieldMap",
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
    max_bytes: int = 20 * 1024 * 1024  # per file, after decompression
    fields: FieldMap = dataclasses.field(default_factory=FieldMap)
    format: str | None = None  # force a reader for every input (e.g. stdin jsonl)


def _format_for(path: Path) -> tuple[str | None, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (EXTENSIONS.get(suffixes[-1]) if suffixes else None), gz


def _read_limited(stream: BinaryIO, limit: int) -> bytes | None:
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and name not in _SKIP_NAMES:
                    yield Path(root) / name
    else:
        yield path


def _read_bytes(path: Path, gz: bool, options: IngestOptions) -> bytes | Rejection:
    origin = str(path)
    try:
        if not gz and path.stat().st_size > options.max_bytes:
            return Rejection(origin, f"file is {path.stat().st_size:,} bytes, over the {options.max_bytes:,}-byte limit (raise it with --max-bytes)")
        opener = gzip.open if gz else open
        with opener(path, "rb") as stream:
            data = _read_limited(stream, options.max_bytes)
    except PermissionError:
        return Rejection(origin, "permission denied (check the file's read permission)")
    except FileNotFoundError:
        return Rejection(origin, "no such file or folder")
    except IsADirectoryError:
        return Rejection(origin, "is a directory")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return Rejection(origin, f"cannot read: {exc}")
    if data is None:
        return Rejection(origin, f"over the {options.max_bytes:,}-byte limit after decompression (raise it with --max-bytes)")
    return data


def _documents_from_bytes(data: bytes, origin: str, fmt: str | None, options: IngestOptions) -> Iterator[Document | Rejection]:
    if not data.strip():
        yield Rejection(origin, "empty file")
        return
    try:
        text, _encoding = decode_bytes(data)
    except DecodeError as exc:
        yield Rejection(origin, str(exc))
        return
    fmt = options.format or fmt or sniff_format(text)
    yield from READERS[fmt](text, origin, options.fields)


def read_path(path: Path, options: IngestOptions) -> Iterator[Document | Rejection]:
    if not path.exists():
        yield Rejection(str(path), "no such file or folder")
        return
    for file in _walk(path):
        fmt, gz = _format_for(file)
        if fmt is None and options.format is None:
            yield Rejection(str(file), f"unknown extension {file.suffix or '(none)'!r}; known: {', '.join(sorted(EXTENSIONS))} (and .gz of them)")
            continue
        data = _read_bytes(file, gz, options)
        if isinstance(data, Rejection):
            yield data
            continue
        yield from _documents_from_bytes(data, str(file), fmt, options)


def read_file_bytes(data: bytes, name: str, options: IngestOptions | None = None) -> Iterator[Document | Rejection]:
    """One file's Documents from its bytes, as ``read_path`` reads that file (format from the name, .gz).

    For callers that fetch the bytes themselves (the Spark job reads any path Spark can).
    """
    options = options or IngestOptions()
    fmt, gz = _format_for(Path(name))
    if fmt is None and options.format is None:
        yield Rejection(name, f"unknown extension {Path(name).suffix or '(none)'!r}; known: {', '.join(sorted(EXTENSIONS))} (and .gz of them)")
        return
    if gz:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            yield Rejection(name, f"cannot read: {exc}")
            return
    if len(data) > options.max_bytes:
        yield Rejection(name, f"over the {options.max_bytes:,}-byte limit after decompression (raise it with --max-bytes)")
        return
    yield from _documents_from_bytes(data, name, fmt, options)


def read_record(record: object, origin: str, options: IngestOptions | None = None) -> Document | Rejection:
    """One already-parsed record (a JSON object, a Parquet row as a dict) as a Document, by the field map."""
    return record_to_document(record, origin, (options or IngestOptions()).fields)


def walk_key(relative: str) -> tuple[tuple[int, str], ...]:
    """Sort key that puts file paths (relative to a folder) in the order ``read_path`` walks them:
    a folder's files (sorted) before its subfolders (sorted, each recursively)."""
    parts = relative.strip("/").split("/")
    return tuple((1, p) for p in parts[:-1]) + ((0, parts[-1]),)


def is_skipped(name: str) -> bool:
    """Files ``read_path`` leaves out of a folder walk (hidden files, licences, read-mes)."""
    return name.startswith(".") or name in _SKIP_NAMES


def read_stdin(options: IngestOptions, stream: BinaryIO | None = None) -> Iterator[Document | Rejection]:
    stream = stream or sys.stdin.buffer
    data = _read_limited(stream, options.max_bytes)
    if data is None:
        yield Rejection("<stdin>", f"over the {options.max_bytes:,}-byte limit (raise it with --max-bytes)")
        return
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            yield Rejection("<stdin>", f"broken gzip stream: {exc}")
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
