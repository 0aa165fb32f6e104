"""Lines of a byte stream, each held to a limit, so a file of any size is read in bounded memory.

JSONL is the one format whose records are lines: a multi-gigabyte dump is read a line at a time, and a
line too long to hold is measured and skipped, never read into memory. Before that, a stream's first bytes
are sampled (inflated, for gzip) to tell whether it can be decoded line by line at all; the sampled bytes
are put back, so whoever reads the stream next reads it from its first byte.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import zlib
from typing import BinaryIO, Iterator

__all__ = ["SAMPLE_BYTES", "Overlong", "Sample", "bounded_lines", "sample_stream"]

SAMPLE_BYTES = 64 * 1024  # the leading bytes a stream's encoding is judged by
_SKIP_STEP = 64 * 1024  # an over-long line is read past in pieces of this size
_GZIP_MAGIC = b"\x1f\x8b"


@dataclasses.dataclass(frozen=True, slots=True)
class Overlong:
    """A line over the limit, in place of its bytes (which were read past, never held): its size in bytes,
    without its line break, for the message that says so."""

    size: int


def bounded_lines(stream: BinaryIO, limit: int) -> Iterator[bytes | Overlong]:
    """Each line of ``stream`` with its line break (``\\n``; the last may have none), in order, or an
    ``Overlong`` for a line of more than ``limit`` bytes. At most ``limit`` + 2 bytes are held at once,
    however large the stream, so the limit bounds one record and not the file."""
    while True:
        line = stream.readline(limit + 2)  # room for a line of ``limit`` bytes and a CR LF
        if not line:
            return
        yield line if _size_without_break(line) <= limit else Overlong(_read_past(stream, line))


def _size_without_break(line: bytes) -> int:
    return len(line) - (2 if line.endswith(b"\r\n") else 1 if line.endswith(b"\n") else 0)


def _read_past(stream: BinaryIO, start: bytes) -> int:
    """Read to the end of the line that begins with ``start``, a piece at a time; its size without the break."""
    size, tail, piece = len(start), start[-2:], start
    while not piece.endswith(b"\n"):
        piece = stream.readline(_SKIP_STEP)
        if not piece:
            break
        size, tail = size + len(piece), (tail + piece)[-2:]
    return size - (2 if tail == b"\r\n" else 1 if tail.endswith(b"\n") else 0)


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """A stream's leading bytes, read to judge how to decode it, and the stream to read from its start."""

    head: bytes | None  # the first SAMPLE_BYTES of the content (inflated when gzip); None: read it whole
    complete: bool  # ``head`` is all the content there is
    gz: bool  # the stream is gzip (inflate ``stream`` to read the content)
    stream: BinaryIO  # the stream as it was given, from its first byte: nothing of it is lost to the sample


def sample_stream(raw: BinaryIO, gz: bool | None) -> Sample:
    """Sample ``raw``; ``gz`` says whether it is gzip, or None to tell by its first bytes (as on stdin).

    ``head`` is None when a gzip stream cannot be read line by line as it stands: its start does not
    inflate, or it is small enough to be in hand whole and is not exactly one gzip member (cut short,
    trailing bytes, several members). The whole-file reader then reads it as it always did, with the
    reasons it always gave.
    """
    start = raw.read(SAMPLE_BYTES)
    whole = len(start) < SAMPLE_BYTES
    stream = io.BufferedReader(_Rejoined(start, raw), SAMPLE_BYTES)
    if gz is None:
        gz = start.startswith(_GZIP_MAGIC)
    if not gz:
        return Sample(start, whole, False, stream)
    head, complete = _inflated_start(start, whole)
    return Sample(head, complete, True, stream)


def _inflated_start(start: bytes, whole: bool) -> tuple[bytes | None, bool]:
    """The first SAMPLE_BYTES that a gzip stream beginning with ``start`` inflates to, and whether they are
    all of it; (None, False) when it is not to be read line by line (see ``sample_stream``)."""
    inflater = zlib.decompressobj(wbits=31)  # gzip header and trailer
    try:
        head = inflater.decompress(start, SAMPLE_BYTES)
    except zlib.error:
        return None, False
    one_member = inflater.eof and not inflater.unused_data
    if whole and len(head) < SAMPLE_BYTES and not one_member:
        return None, False
    return head, whole and one_member


class _Rejoined(io.RawIOBase):
    """``start`` (already read from ``rest``) followed by the rest of ``rest``: the stream as if unread."""

    def __init__(self, start: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._start = memoryview(start)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if len(self._start):
            n = min(len(buffer), len(self._start))
            buffer[:n] = self._start[:n]
            self._start = self._start[n:]
            return n
        return self._rest.readinto(buffer)  # type: ignore[attr-defined]


GZIP_RATIO = 100  # real news JSONL inflates 3-20 times; one record repeated, thousands of times
GZIP_FREE = 1 << 20  # bytes any gzip may inflate to whatever its ratio


class Inflated(OSError):
    """A gzip stream that inflates far beyond what text compresses to (one record repeated: a bomb of work)."""


class _Counted(io.RawIOBase):
    """A stream that counts the bytes read through it."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self.inner, self.count = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self.inner.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n


class _RatioBound(io.RawIOBase):
    """A gzip stream's inflated bytes, raising ``Inflated`` past GZIP_FREE and GZIP_RATIO times what was read."""

    def __init__(self, compressed: BinaryIO) -> None:
        super().__init__()
        self._counted = _Counted(compressed)
        self._inflating = gzip.GzipFile(fileobj=io.BufferedReader(self._counted), mode="rb")
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._inflating.readinto(buffer)
        self.inflated += n
        if self.inflated > max(GZIP_FREE, GZIP_RATIO * self._counted.count):
            raise Inflated(f"the gzip inflates more than {GZIP_RATIO} times its size ({self._counted.count:,} bytes "
                           f"read gave {self.inflated:,}): one record repeated, or a bomb; the rest skipped "
                           "(decompress it yourself to read it all)")
        return n


def ratio_bounded_gunzip(compressed: BinaryIO) -> BinaryIO:
    """``compressed`` (gzip) inflated, line-readable, within the GZIP_RATIO bound."""
    return io.BufferedReader(_RatioBound(compressed))
