"""Property tests for the readers: any bytes, any JSON, any CSV cell gives Documents or one-line Rejections.

A reader may never raise (one bad record must not sink its file or batch), never say nothing about a
non-empty input, and never lose or invent a record of a well-formed file.
"""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyline.ingest import IngestOptions, read_stdin
from storyline.ingest.fields import FieldMap
from storyline.ingest.formats import READERS, read_csv, read_json, read_jsonl
from storyline.model import Document, Rejection

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = FieldMap()

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "title", "text", "body", "published", "source", "url", "language", "author", "x"]),
        children, max_size=6),
    max_leaves=20,
)
_fragments = st.sampled_from(["{", "}", "[", "]", '"text": ', '"\\ud800"', "9" * 5000, "<rss>", "<item>", "&amp;",
                              "\x00", "\ufeff", "\f" * 50, ",", ";", "\n", "\r", '"', "date 2020-01-16 "])
_hostile_text = st.lists(st.one_of(st.text(max_size=40), _fragments), max_size=12).map("".join)


def _well_formed(items) -> bool:
    for item in items:
        if isinstance(item, Rejection):
            assert item.reason and "\n" not in item.reason and item.origin
        else:
            assert isinstance(item, Document) and item.text.strip()
    return True


@PROPERTY
@given(data=st.one_of(st.binary(max_size=600), _hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass"))),
       fmt=st.sampled_from([None, "txt", "json", "jsonl", "csv", "feed"]))
def test_any_bytes_on_stdin_give_items_not_exceptions(data, fmt):
    items = list(read_stdin(IngestOptions(format=fmt, max_bytes=10_000), io.BytesIO(data)))
    assert items and _well_formed(items)  # at least a line about it, whatever it was


@PROPERTY
@given(text=_hostile_text, reader=st.sampled_from(sorted(set(READERS) - {"html"})))
def test_readers_never_raise(text, reader):
    assert _well_formed(list(READERS[reader](text, "f", FIELDS)))


@PROPERTY
@given(records=st.lists(_json, min_size=1, max_size=8))
def test_jsonl_gives_one_item_per_line(records):
    text = "\n".join(json.dumps(r) for r in records)
    items = list(read_jsonl(text, "f.jsonl", FIELDS))
    assert [item.origin for item in items] == [f"f.jsonl:{n}" for n in range(1, len(records) + 1)]
    for record, item in zip(records, items):
        raw = FIELDS.pick(record, "text") if isinstance(record, dict) else None
        if isinstance(raw, dict):  # an object holding the text, as WordPress gives it
            raw = next((raw[k] for k in ("rendered", "text", "value", "#text", "name", "raw") if isinstance(raw.get(k), str)), None)
            if raw is not None and "<" in raw:
                continue  # HTML inside: read as a page, its text differs
        valid = isinstance(raw, str) and raw.strip()
        assert isinstance(item, Document) == bool(valid), (record, item)
        if valid:
            assert item.text == raw


@PROPERTY
@given(texts=st.lists(st.text(min_size=1, max_size=50).filter(str.strip), min_size=1, max_size=6),
       titles=st.lists(st.one_of(st.none(), st.text(max_size=20), st.integers(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)), min_size=6, max_size=6))
def test_json_keeps_every_record_and_never_stores_a_repr(texts, titles):
    records = [{"id": str(n), "text": t, "title": titles[n]} for n, t in enumerate(texts)]
    items = list(read_json(json.dumps({"articles": records}), "f.json", FIELDS))
    assert len(items) == len(records) and all(isinstance(i, Document) for i in items)
    assert [i.text for i in items] == texts
    for item, title in zip(items, titles):
        if isinstance(title, dict):  # an object gives one of its values, never its Python repr
            assert item.title is None or item.title in {str(v) for v in title.values()}
        if isinstance(title, (str, int)) and not isinstance(title, bool) and str(title).strip():
            assert item.title == str(title)


@PROPERTY
@given(rows=st.lists(st.tuples(st.text(max_size=20), st.text(min_size=1, max_size=40).filter(str.strip)), min_size=1, max_size=6))
def test_csv_rows_round_trip(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "text"])
    writer.writerows(rows)
    items = list(read_csv(buffer.getvalue(), "f.csv", FIELDS))
    assert _well_formed(items)
    documents = [i for i in items if isinstance(i, Document)]
    # a row is a Document unless its text cell is blank once read; none are lost or merged
    assert len(items) == len(rows)
    assert [d.text for d in documents] == [text for _, text in rows if text.strip()][: len(documents)]
