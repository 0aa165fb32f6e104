"""JSONL is read a line at a time: ``max_bytes`` bounds each record (line), not the file.

A JSONL archive larger than the limit ingests whole; one over-long line costs that line only; the memory
held does not grow with the file; and a file under the limit gives exactly what reading it whole gave.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from storyline.cli import app
from storyline.ingest import IngestOptions, read_file_bytes, read_sources, read_stdin
from storyline.ingest.decode import decode_bytes
from storyline.ingest.fields import FieldMap
from storyline.ingest.formats import read_jsonl
from storyline.ingest.lines import Overlong, bounded_lines
from storyline.model import Document, Rejection

LIMIT = 4096  # small, so a file over it is still a small test file


def _records(n: int, start: int = 0) -> list[bytes]:
    return [json.dumps({"id": f"r{i}", "title": f"Record {i}", "text": f"Talks resumed in Doha, report {i}."}).encode()
            for i in range(start, start + n)]


def _jsonl(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def test_a_jsonl_file_over_the_limit_is_read_record_by_record(tmp_path):
    path = tmp_path / "archive.jsonl"
    path.write_bytes(_jsonl(_records(1000)))  # ~90 KB: 20 times the limit, and past the 64 KiB sample
    items = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
    assert all(isinstance(i, Document) for i in items) and len(items) == 1000
    assert [d.origin for d in items] == [f"{path}:{n}" for n in range(1, 1001)]
    assert all(d.scope == str(path) for d in items) and items[-1].source_id == "r999"
    # every other format keeps the whole-file bound, and its message
    text = tmp_path / "archive.txt"
    text.write_bytes(path.read_bytes())
    [rejected] = list(read_sources([text], IngestOptions(max_bytes=LIMIT)))
    assert rejected.reason == f"file is {text.stat().st_size:,} bytes, over the 4,096-byte limit (raise it with --max-bytes)"


def test_a_jsonl_gz_over_the_limit_is_read_record_by_record(tmp_path):
    data = _jsonl(_records(1000))
    path = tmp_path / "archive.jsonl.gz"
    path.write_bytes(gzip.compress(data))
    items = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
    assert len(items) == 1000 and all(isinstance(i, Document) and i.scope == str(path) for i in items)
    assert items == list(read_file_bytes(path.read_bytes(), str(path), IngestOptions(max_bytes=LIMIT)))


def test_forced_format_and_stdin_stream_too(tmp_path):
    data = _jsonl(_records(300))
    path = tmp_path / "dump.txt"
    path.write_bytes(data)
    options = IngestOptions(max_bytes=LIMIT, format="jsonl")
    assert len([i for i in read_sources([path], options) if isinstance(i, Document)]) == 300
    for stream in (io.BytesIO(data), io.BytesIO(gzip.compress(data))):
        items = list(read_stdin(options, stream))
        assert len(items) == 300 and all(isinstance(i, Document) and i.scope == "<stdin>" for i in items)
    [whole] = list(read_stdin(IngestOptions(max_bytes=LIMIT), io.BytesIO(data)))  # sniffed: read whole, as before
    assert whole.reason == "over the 4,096-byte limit (raise it with --max-bytes)"


def test_one_over_long_line_is_rejected_with_its_number_and_the_rest_read(tmp_path):
    long = json.dumps({"id": "big", "text": "x" * 10_000}).encode()
    for newline in (b"\n", b"\r\n"):
        lines = _records(2) + [long] + _records(2, start=2) + [long]  # the last one has no line break
        path = tmp_path / f"mixed{len(newline)}.jsonl"
        path.write_bytes(newline.join(lines))
        items = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
        assert [i.origin.rsplit(":", 1)[1] for i in items] == ["1", "2", "3", "4", "5", "6"]
        assert [type(i) for i in items] == [Document, Document, Rejection, Document, Document, Rejection]
        assert items[2].reason == (f"line is {len(long):,} bytes, over the 4,096-byte limit for one record "
                                   "(raise it with --max-bytes)")
        assert items[2].origin == f"{path}:3" and items[5].reason == items[2].reason


def test_a_line_of_exactly_the_limit_is_read():
    for newline in (b"\n", b"\r\n"):
        line, over = b"a" * LIMIT + newline, b"a" * (LIMIT + 1) + newline
        assert list(bounded_lines(io.BytesIO(line + line[:-len(newline)]), LIMIT)) == [line, line[:-len(newline)]]
        assert list(bounded_lines(io.BytesIO(over + line + over[:-len(newline)]), LIMIT)) == [
            Overlong(LIMIT + 1), line, Overlong(LIMIT + 1)]


class _Endless(io.RawIOBase):
    """A stream of ``line`` repeated without end (or ``lines`` times), counting the bytes read from it."""

    def __init__(self, line: bytes, lines: int | None = None) -> None:
        self.line, self.left, self.consumed = line, lines, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left is not None and self.left <= 0:
            return 0
        n = max(1, len(buffer) // len(self.line))
        if self.left is not None:
            n = min(n, self.left)
            self.left -= n
        data = (self.line * n)[: len(buffer)]
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)


def test_the_first_record_comes_before_the_stream_is_read():
    """Records come as they are read: the first of an endless stream arrives after a bounded read."""
    stream = _Endless(_records(1)[0] + b"\n")
    items = read_stdin(IngestOptions(max_bytes=LIMIT, format="jsonl"), io.BufferedReader(stream))
    first = next(items)
    assert isinstance(first, Document) and first.origin == "<stdin>:1"
    assert stream.consumed < 2 * 1024 * 1024  # the sample, a buffer and one batch: never the stream
    for _ in range(10_000):
        next(items)
    assert stream.consumed < 4 * 1024 * 1024


def test_an_over_long_line_is_read_past_without_being_held():
    limit = 64 * 1024
    stream = io.BufferedReader(_Endless(b"y" * 1024, lines=50 * 1024))  # one 50 MB line, no break
    tracemalloc.start()
    try:
        lines = list(bounded_lines(stream, limit))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [Overlong(50 * 1024 * 1024)]
    assert peak < 8 * limit, peak


def _as_read_whole(data: bytes, origin: str) -> list[Document | Rejection]:
    """What reading the file whole gives (the reader before streaming): decoded at once, then split."""
    if not data.strip():
        return [Rejection(origin, "empty file")]
    items = list(read_jsonl(decode_bytes(data)[0], origin, FieldMap()))
    for item in items:
        if isinstance(item, Document):
            item.scope = origin
    return items or [Rejection(origin, "no articles in it (read as jsonl)")]


def test_a_file_under_the_limit_reads_as_it_did_whole(wikinews_file):
    data = Path(wikinews_file).read_bytes()
    origin = str(wikinews_file)
    expected = _as_read_whole(data, origin)
    assert len(expected) == 100
    assert list(read_sources([wikinews_file])) == expected
    assert list(read_file_bytes(gzip.compress(data), origin + ".gz")) == _as_read_whole(data, origin + ".gz")


_pieces = st.sampled_from([
    json.dumps({"id": "1", "text": "Plain story."}), json.dumps({"text": "caf\u00e9 \u2028 inside"}, ensure_ascii=False),
    '{"text": "raw\u2028split"}', json.dumps({"title": "no text"}), "[1, 2]", "{not json", "", "   ", "\u00a0", "\ufeff",
    '{"text": "tab\there"}', json.dumps({"text": {"rendered": "<p>Rendered</p>"}}), "[" * 2000 + "]" * 2000,
    '{"text": "\\ud800 lone"}', "\x0c", "\x85",
])
_breaks = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\x0b", "\u2029", ""])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.tuples(_pieces, _breaks), max_size=12), bom=st.booleans(), gz=st.booleans())
def test_streamed_jsonl_equals_the_whole_file_reading(parts, bom, gz):
    data = ("\ufeff" if bom else "").encode() + "".join(piece + end for piece, end in parts).encode()
    origin = "f.jsonl.gz" if gz else "f.jsonl"
    got = list(read_file_bytes(gzip.compress(data) if gz else data, origin, IngestOptions(max_bytes=64 * 1024)))
    assert got == _as_read_whole(data, origin)


def test_a_gz_cut_short_keeps_the_records_before_the_cut(tmp_path):
    packed = gzip.compress(_jsonl(_records(5000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 3 // 4])
    items = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
    assert len(items) > 1000 and all(isinstance(i, Document) for i in items[:-1])
    assert items[-1].origin == str(path) and items[-1].reason.startswith("cannot read:")
    small = tmp_path / "small.jsonl.gz"  # in hand whole: read whole, one line, as before
    small.write_bytes(gzip.compress(_jsonl(_records(3)))[:-12])
    [rejected] = list(read_sources([small], IngestOptions(max_bytes=LIMIT)))
    assert rejected.origin == str(small) and rejected.reason.startswith("cannot read:")


def test_jsonl_not_in_utf8_keeps_the_whole_file_bound(tmp_path):
    text = _jsonl(_records(3)).decode()
    path = tmp_path / "wide.jsonl"
    path.write_bytes(text.encode("utf-16"))
    assert [i.source_id for i in read_sources([path], IngestOptions(max_bytes=LIMIT))] == ["r0", "r1", "r2"]
    path.write_bytes(_jsonl(_records(100)).decode().encode("utf-16"))
    [rejected] = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
    assert "over the 4,096-byte limit" in rejected.reason


def test_blank_lines_count_toward_the_record_after_them(tmp_path):
    """A run of line breaks (a few bytes of gzip can inflate to gigabytes of them) is bounded by
    --max-bytes as a record is, and by --max-seconds as the batch of records after it is."""
    path = tmp_path / "breaks.jsonl.gz"
    path.write_bytes(gzip.compress(_jsonl(_records(3)) + b"\n" * 20_000_000 + _jsonl(_records(1, start=3))))
    items = list(read_sources([path], IngestOptions(max_bytes=LIMIT)))
    assert [type(i) for i in items] == [Document] * 3 + [Rejection]
    assert items[-1].origin == f"{path}:{3 + LIMIT + 1}"
    assert items[-1].reason == ("4,097 bytes of blank lines in a row, over the 4,096-byte limit for one record; "
                                "the rest of the file skipped (raise it with --max-bytes)")
    items = list(read_sources([path], IngestOptions(max_bytes=10**9, max_seconds=0.05)))
    assert [type(i) for i in items] == [Document] * 3 + [Rejection]
    assert items[-1].origin == str(path) and "took over 0.05 s" in items[-1].reason
    spaced = tmp_path / "spaced.jsonl"  # blank lines under the limit are only blank lines
    spaced.write_bytes(b"\n" * LIMIT + _jsonl(_records(1)) + b" \r\n" * 1000 + _jsonl(_records(1, start=1)))
    assert [i.origin for i in read_sources([spaced], IngestOptions(max_bytes=LIMIT))] == [
        f"{spaced}:{LIMIT + 1}", f"{spaced}:{LIMIT + 1002}"]


def test_ingest_a_jsonl_archive_over_max_bytes_then_again_is_a_noop(tmp_path):
    path = tmp_path / "archive.jsonl"
    path.write_bytes(_jsonl(_records(60)))
    db = str(tmp_path / "s.db")
    command = ["ingest", str(path), "--db", db, "--json", "--max-bytes", str(LIMIT)]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.splitlines()[0])["new"] == 60
    again = json.loads(CliRunner().invoke(app, command).stdout.splitlines()[0])
    assert again["new"] == 0 and again["duplicate"] == 60 and again["rejected"] == 0
