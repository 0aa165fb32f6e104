import gzip
import json
import os

import pytest

from storyline.ingest import IngestOptions, parse_field_options, read_sources
from storyline.model import DateProvenance, Document, Rejection


def _split(items):
    docs = [i for i in items if isinstance(i, Document)]
    rejections = [i for i in items if isinstance(i, Rejection)]
    return docs, rejections


def test_seeds_are_two_text_documents(seeds_dir):
    docs, rejections = _split(list(read_sources([seeds_dir])))
    assert len(docs) == 2 and not rejections
    assert docs[0].text.startswith("the u s and the taliban")


def test_wikinews_jsonl_has_titles_dates_ids(wikinews_file):
    docs, rejections = _split(list(read_sources([wikinews_file])))
    assert len(docs) == 100 and not rejections
    assert all(d.title and d.source_id for d in docs)
    # one record (M0004) has an empty date field; its date is only in its text (enrich infers it)
    assert sum(bool(d.published) for d in docs) == 99


@pytest.fixture
def hostile(tmp_path):
    d = tmp_path / "hostile"
    d.mkdir()
    (d / "good.txt").write_text("A perfectly normal article about the elections in Kabul.")
    (d / "empty.txt").write_text("")
    (d / "blank.txt").write_text("   \n\n  ")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 50)
    (d / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    (d / "latin1.txt").write_bytes("Les négociations à Doha ont repris, a déclaré le ministre français.".encode("cp1252"))
    (d / "huge.txt").write_text("word " * 50_000)
    (d / "notes.docx").write_bytes(b"PK\x03\x04")
    (d / "broken.json").write_text('{"title": "x", "text": ')
    (d / "lines.jsonl").write_text(
        json.dumps({"id": "j1", "title": "First", "text": "First good record.", "date": "2020-01-02"}) + "\n"
        + "{not json}\n"
        + json.dumps({"id": "j3", "title": "No text"}) + "\n"
        + json.dumps(["a", "list"]) + "\n"
        + json.dumps({"id": "j5", "body": "Second good record."}) + "\n"
    )
    (d / "rows.csv").write_text('id,headline,body,date\nc1,Hello,"First row text.",2021-05-01\nc2,Bad,"too","many","cells"\nc3,Ok,"Third row text.",2021-05-03\n')
    with gzip.open(d / "packed.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": "g1", "text": "From a gzip file."}) + "\n")
    (d / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (d / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        '<item><title>Talks resume</title><link>http://example.org/1</link><guid>f1</guid>'
        '<pubDate>Thu, 16 Jan 2020 08:00:00 GMT</pubDate><description>Talks resumed in Doha on Thursday.</description></item>'
        '</channel></rss>'
    )
    (d / "page.html").write_text(
        "<html><head><title>Kabul blast</title><meta name='date' content='2019-08-07'></head><body><article>"
        + "<p>A car bomb exploded in Kabul on Wednesday, officials said, wounding dozens of people near a police station.</p>" * 5
        + "</article></body></html>"
    )
    return d


def test_hostile_folder_is_survived_with_reasons(hostile):
    docs, rejections = _split(list(read_sources([hostile], IngestOptions(max_bytes=100_000))))
    by_origin = {os.path.basename(r.origin.split(":")[0].split("[")[0]): r.reason for r in rejections}
    assert "empty" in by_origin["empty.txt"] and "empty" in by_origin["blank.txt"]
    assert "binary" in by_origin["binary.txt"] and "binary" in by_origin["image.html"]
    assert "limit" in by_origin["huge.txt"]
    assert "unknown extension" in by_origin["notes.docx"]
    assert "malformed JSON" in by_origin["broken.json"]
    assert "cannot read" in by_origin["broken.jsonl.gz"] or "gzip" in by_origin["broken.jsonl.gz"].lower()
    line_rejections = [r for r in rejections if "lines.jsonl" in r.origin]
    assert {r.origin.rsplit(":", 1)[1] for r in line_rejections} == {"2", "3", "4"}
    assert any("rows.csv:3" in r.origin for r in rejections)
    texts = {d.text for d in docs}
    assert "First good record." in texts and "Second good record." in texts
    assert "First row text." in texts and "Third row text." in texts
    assert "From a gzip file." in texts
    assert any("négociations" in t for t in texts)  # cp1252 detected, not mangled
    feed = next(d for d in docs if d.source_id == "f1")
    assert feed.title == "Talks resume" and feed.source == "Wire" and "Doha" in feed.text
    page = next(d for d in docs if d.published_provenance is DateProvenance.HTML)
    assert "car bomb" in page.text and page.published and page.published.startswith("2019-08-07")


def test_field_mapping_option(tmp_path):
    f = tmp_path / "custom.jsonl"
    f.write_text(json.dumps({"key": "k1", "story_body": "Mapped text.", "when": "2020-01-16"}) + "\n")
    options = IngestOptions(fields=parse_field_options(["id=key", "text=story_body", "published=when"]))
    docs, _ = _split(list(read_sources([f], options)))
    assert docs[0].source_id == "k1" and docs[0].text == "Mapped text." and docs[0].published == "2020-01-16"
    with pytest.raises(ValueError, match="FIELD=NAME"):
        parse_field_options(["nonsense"])
    with pytest.raises(ValueError, match="unknown field"):
        parse_field_options(["colour=red"])


def test_file_name_date(tmp_path):
    f = tmp_path / "2019-08-07_kabul.txt"
    f.write_text("A blast in Kabul.")
    (doc,) = list(read_sources([f]))
    assert doc.published == "2019-08-07" and doc.published_provenance is DateProvenance.FILE_NAME


def test_missing_path_is_a_rejection(tmp_path):
    (r,) = list(read_sources([tmp_path / "nope"]))
    assert isinstance(r, Rejection) and "no such file" in r.reason


def test_gzip_on_stdin_is_inflated_through_the_limit():
    """Gzip on stdin was inflated whole (1.1 MB became a 5.4 GB peak, then MemoryError); here 0.5 MB → 512 MB."""
    import io
    import zlib

    from storyline.ingest import read_stdin

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # a gzip stream, built without holding 512 MB
    chunk = b"a" * (1 << 20)
    bomb = b"".join(compressor.compress(chunk) for _ in range(512)) + compressor.flush()
    items = list(read_stdin(IngestOptions(max_bytes=1_000_000), io.BytesIO(bomb)))
    assert len(items) == 1 and "limit after decompression" in items[0].reason
    small = list(read_stdin(IngestOptions(), io.BytesIO(gzip.compress(b"A small story about Doha."))))
    assert [d.text for d in small] == ["A small story about Doha."]


def test_a_file_that_reads_too_long_is_skipped_with_a_line(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body><article>" + "<p>Talks resumed in Doha on Thursday, officials said.</p>" * 4000
                    + "</article></body></html>")
    items = list(read_sources([page], IngestOptions(max_seconds=0.001)))
    assert len(items) == 1 and isinstance(items[0], Rejection) and "took over 0.001 s" in items[0].reason
    assert isinstance(next(read_sources([page], IngestOptions())), Document)  # the same page, given time


def test_a_fifo_given_by_name_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    [item] = list(read_sources([fifo]))
    assert isinstance(item, Rejection) and "not a regular file" in item.reason


def test_bytes_fetched_elsewhere_read_as_the_file_would_be(tmp_path):
    """``read_file_bytes`` (the Spark job's way in) gives what ``read_sources`` gives for the same file."""
    from storyline.ingest import read_file_bytes

    files = {
        "ok.jsonl": b'{"id": "1", "text": "First."}\n{"text": ""}\nnot json\n',
        "ok.jsonl.gz": gzip.compress(b'{"id": "1", "text": "Zipped."}\n'),
        "broken.jsonl.gz": gzip.compress(b'{"text": "x"}\n')[:8],
        "bomb.txt.gz": gzip.compress(b"a" * 5000),
        "big.txt": b"b" * 5000,
        "notes.bin": b"what is this",
        "empty.txt": b"  \n",
    }
    options = IngestOptions(max_bytes=4096)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        origin = str(tmp_path / name)
        expected = list(read_sources([origin], options))
        got = list(read_file_bytes(data, origin, options))
        assert got == expected, name
        assert any(isinstance(i, Rejection) for i in got) or all(d.scope == origin for d in got)
