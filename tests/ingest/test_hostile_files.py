"""More than 1,000 generated hostile files in one folder, beside valid articles, through ``storyline ingest``.

Every case of issue 9 is a family here (deep or huge JSON, lone surrogates, non-UTF-8 file names, white-space
bombs, FIFOs, links out of the folder, a tag with 50,000 attributes, gzip bombs, colliding source ids, blank
ids, date-stamp-only and control-character-only files, empty containers, odd field values, UTF-16 and
HTML-escaped feeds, Rich markup). The run happens in a child process bounded in address space and time, so
a hang or a memory blow-up fails the test instead of the machine. Then: no traceback; every valid article
stored; every bad file named on exactly one line of its own; nothing else said about anything.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MAX_BYTES = 1_000_000  # per file; the gzip bombs inflate far past it
ADDRESS_SPACE = 3 * 1024**3  # the child may not map more than this (a 5.4 GB inflate used to die of MemoryError)
HANG_GUARD_S = 900  # only a hang comes near this: the whole run takes seconds


@dataclasses.dataclass
class Corpus:
    root: Path
    stored: dict[str, int] = dataclasses.field(default_factory=dict)  # origin file -> articles it must give
    rejected: set[str] = dataclasses.field(default_factory=set)  # origin file (or folder) -> one line
    either: set[str] = dataclasses.field(default_factory=set)  # one article or one line, not both, not more

    @property
    def files(self) -> int:
        return len(self.stored) + len(self.rejected) + len(self.either)


def _origin(path: Path | bytes) -> str:
    return os.fsencode(path).decode("utf-8", "replace")


def _write(corpus: Corpus, name: str | bytes, data: bytes | str, outcome: str | int) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(corpus.root), os.fsencode(name))))
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    _expect(corpus, path, outcome)
    return path


def _expect(corpus: Corpus, path: Path, outcome: str | int) -> None:
    key = _origin(path)
    if outcome == "rejected":
        corpus.rejected.add(key)
    elif outcome == "either":
        corpus.either.add(key)
    else:
        corpus.stored[key] = int(outcome)


def _story(rng: random.Random, n: int) -> str:
    words = ["talks", "resumed", "in", "Doha", "on", "Thursday", "after", "officials", "said", "the",
             "ceasefire", "held", "Kabul", "envoy", "met", "delegates", "from", "both", "sides", "again"]
    return f"Report {n}: " + " ".join(rng.choice(words) for _ in range(40)) + f". Reference {n}-{rng.random()}."


def build(root: Path, seed: int = 9) -> Corpus:  # noqa: C901 - one family per block, read top to bottom
    rng = random.Random(seed)
    corpus = Corpus(root)
    n = iter(range(10**9))

    # --- valid articles the hostile files sit beside --------------------------------------------------------
    for _ in range(100):
        i = next(n)
        _write(corpus, f"valid_{i}.txt", _story(rng, i), 1)
    for _ in range(20):
        i = next(n)
        records = [{"id": f"r{k}", "title": f"Record {k} of {i}", "text": _story(rng, next(n))} for k in range(3)]
        _write(corpus, f"valid_{i}.jsonl", "\n".join(json.dumps(r) for r in records), 3)

    # --- white space that made the end-of-text date pattern cubic: stored, as the short text it is ----------
    for char in ["\f", "\u202f", "\u2028", "\u0085", "\v", "\u3000", "\t", "\u2029", " \n"]:
        for size in (1000, 3000, 20000):
            i = next(n)
            _write(corpus, f"spaces_{i}.txt", f"News {i}. " + char * size, 1)
            _write(corpus, f"spaces_{i}.jsonl", json.dumps({"text": f"Line news {i}. " + char * size}), 1)
            _write(corpus, f"spaces_{i}_end.txt", f"Dated news {i}. " + char * size + "\n2020-01-16", 1)

    # --- JSON nested past the recursion limit, and integers past int()'s 4,300 digits: one line each ------
    for depth in (1000, 3000, 20000, 200000):
        for opener, closer in (("[", "]"), ('{"a":', "}")):
            for ext in ("json", "jsonl"):
                for copy in range(3):
                    i = next(n)
                    _write(corpus, f"deep_{i}.{ext}", opener * depth + "1" + closer * depth, "rejected")
    for digits in (4301, 10000, 100000):
        for field in ("id", "published", "title"):
            for ext in ("json", "jsonl"):
                for copy in range(3):
                    i = next(n)
                    number = str(rng.randint(1, 9)) + "7" * (digits - 1)
                    _write(corpus, f"bigint_{i}.{ext}", f'{{"{field}": {number}, "text": "Big number story {i}."}}', "rejected")

    # --- lone surrogates in any field, and file names that are not UTF-8: stored, U+FFFD in their place ---
    for field in ("title", "source", "author", "text", "url", "id", "language"):
        for form in ('"\\ud800"', '"a\\udfffb"', '"\\udbff\\ud800x"'):
            i = next(n)
            record = f'{{"text": "Surrogate story {i} about talks.", "{field}": {form}}}'
            if field == "text":
                record = f'{{"text": "Surrogate story {i} {form[1:-1]} about talks.", "title": "t"}}'
            _write(corpus, f"surrogate_{i}.json", record, 1)
    for k in range(30):
        i = next(n)
        _write(corpus, b"caf\xe9_%d_\xff.txt" % i, _story(rng, i), 1)
        _write(corpus, b"bad\xe9_%d.json" % i, b"{not json", "rejected")

    # --- things that are not regular files, or lead out of the folder ----------------------------------------
    for k in range(5):
        fifo = root / f"fifo_{next(n)}.txt"
        os.mkfifo(fifo)
        _expect(corpus, fifo, "rejected")
    for target in ("/etc/passwd", "/etc/hostname", "/etc/hosts", "/proc/self/status", "/nonexistent/x.txt"):
        link = root / f"link_{next(n)}.txt"
        link.symlink_to(target)
        _expect(corpus, link, "rejected")
    target = _write(corpus, "target_of_link.txt", _story(rng, next(n)), 0)  # read first through its link
    inside = root / f"inside_link_{next(n)}.txt"
    inside.symlink_to(target)  # a link within the folder is read
    _expect(corpus, inside, 1)
    for k in range(10):
        folder = root / f"folder_{next(n)}.txt"
        folder.mkdir()
        _expect(corpus, folder, "rejected")

    # --- bombs: inflated or attribute-laden -------------------------------------------------------------------
    for k in range(4):
        _write(corpus, f"bomb_{next(n)}.txt.gz", gzip.compress(b"a" * (MAX_BYTES * 3), 9), "rejected")
    for attributes in (5_000, 50_000):
        i = next(n)
        tag = "<div " + " ".join(f'a{k}="{k}"' for k in range(attributes)) + ">"
        body = "<p>" + _story(rng, i) + "</p>"
        _write(corpus, f"attrs_{i}.html", f"<html><body>{tag}{body * 5}</div></body></html>", "either")

    # --- source ids reused by other files: every article kept ---------------------------------------------------
    for k in range(80):
        for side in ("a", "b"):
            i = next(n)
            _write(corpus, f"collide_{side}_{i}.json", json.dumps({"id": "1", "text": _story(rng, i)}), 1)
    for k in range(30):
        for side in ("a", "b"):
            i = next(n)
            record = {"id": "a1", "source": "Wire", "text": _story(rng, i)}
            _write(corpus, f"same_source_{side}_{i}.json", json.dumps(record), 1)
    for blank in ("   ", "\t", "\u00a0", ""):
        for k in range(5):
            i = next(n)
            _write(corpus, f"blank_id_{i}.json", json.dumps({"id": blank, "text": _story(rng, i)}), 1)

    # --- nothing left once cleaned: one line each ----------------------------------------------------------------
    markers = [" date 2020-01-16 ", "Published: Jan 16, 2020", "2020-01-16T08:00Z", "Date: 16 January 2020\n",
               "posted on 2019/08/07", "\n\n2020-01-16\n"]
    for marker in markers:
        for k in range(10):
            _write(corpus, f"marker_only_{next(n)}.txt", marker + " " * k, "rejected")
    for k in range(100):
        controls = "".join(chr(rng.choice([*range(1, 9), 11, 12, *range(14, 32), 127])) for _ in range(rng.randint(1, 50)))
        _write(corpus, f"controls_{next(n)}.txt", controls, "rejected")

    # --- empty containers --------------------------------------------------------------------------------------------
    empties = {
        "json": ["[]", "{}", '{"articles": []}', "[[]]", "null", "3"],
        "csv": ["id,title,text\n", "text\n", "a;b;c\r\n"],
        "xml": ['<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>',
                '<?xml version="1.0"?><root><item>not a feed</item></root>',
                '<feed xmlns="http://www.w3.org/2005/Atom"><title>none</title></feed>'],
        "txt": ["", "   ", "\n\n\n"],
        "jsonl": ["\n\n", "[]"],
        "html": ["<html><body></body></html>", "<html><script>var a = 1;</script></html>"],
    }
    for ext, bodies in empties.items():
        for body in bodies:
            for k in range(4):
                _write(corpus, f"empty_{next(n)}.{ext}", body, "rejected")

    # --- binary, undecodable, malformed, unknown -------------------------------------------------------------------
    for k in range(20):
        _write(corpus, f"binary_{next(n)}.txt", bytes(rng.randrange(256) for _ in range(2000)) + b"\x00", "rejected")
        _write(corpus, f"notes_{next(n)}.docx", b"PK\x03\x04 zip", "rejected")
        _write(corpus, f"broken_{next(n)}.json", '{"text": "unterminated', "rejected")
        _write(corpus, f"fake_{next(n)}.jsonl.gz", b"not gzip at all", "rejected")
        _write(corpus, f"cells_{next(n)}.csv", "id,text\n1,too,many,cells\n", "rejected")
        _write(corpus, f"notext_{next(n)}.json", json.dumps({"title": "no body", "text": {"nested": "object"}}), "rejected")

    # --- odd field values that used to be stored wrongly: stored, correctly -------------------------------------------
    for k in range(10):
        i = next(n)
        _write(corpus, f"object_title_{i}.json",
               json.dumps({"title": {"rendered": f"Rendered {i}"}, "text": _story(rng, i)}), 1)
        i = next(n)
        _write(corpus, f"week_date_{i}.json", json.dumps({"published": "2020-W03-4", "text": _story(rng, i)}), 1)
        i = next(n)
        _write(corpus, f"bce_{i}.json", json.dumps({"published": "-0044-03-15", "text": _story(rng, i)}), 1)
        i = next(n)
        _write(corpus, f"markup_{i}.json", json.dumps({"title": f"[/x] a[i] [link=https://e.org]click[/link] :smile: {i}",
                                                        "source": "[bold]Wire[/bold]", "text": _story(rng, i)}), 1)
        i = next(n)
        feed = (f'<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>AT&amp;T Wire</title>'
                f'<item><title>AT&amp;T deal {i}</title><guid>u{i}</guid><description>AT&amp;T agreed {i} deals, '
                f'&lt;b&gt;officials&lt;/b&gt; said.</description></item></channel></rss>')
        _write(corpus, f"utf16_{i}.xml", feed.encode("utf-16-le"), 1)
        _write(corpus, f"utf16bom_{next(n)}.rss", feed.replace(f"agreed {i}", f"agreed {i} more").encode("utf-16"), 1)
        i = next(n)
        _write(corpus, f"escape_{i}.txt", f"Story {i} \x1b[31mred\x1b[0m and \x07 bells in Kabul.", 1)
    return corpus


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _ingest(folder: Path, db: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "storyline", "ingest", str(folder), "--db", str(db), "--json",
               "--max-bytes", str(MAX_BYTES)]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=HANG_GUARD_S,
                          preexec_fn=_limit_child, env={**os.environ, "COLUMNS": "200"})


def _file_of(origin: str, known: set[str]) -> str:
    """The file (or folder) an origin belongs to: ``f.jsonl:3``, ``f.json[2]`` and ``f.xml#1`` → the file."""
    if origin in known:
        return origin
    for sep in (":", "[", "#"):
        head = origin.rsplit(sep, 1)[0]
        if head in known:
            return head
    return origin


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "in").mkdir()
    corpus = build(root / "in")
    result = _ingest(corpus.root, root / "s.db")
    return corpus, result, root / "s.db"


def test_more_than_a_thousand_files_cover_every_case(hostile_run):
    corpus, _, _ = hostile_run
    assert corpus.files >= 1000, corpus.files


def test_no_traceback_and_nothing_valid_lost(hostile_run):
    corpus, result, db = hostile_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    known = set(corpus.stored) | corpus.rejected | corpus.either
    with sqlite3.connect(db) as connection:
        origins = [row[0] for row in connection.execute("SELECT origin FROM articles")]
    stored: dict[str, int] = {}
    for origin in origins:
        key = _file_of(origin, known)
        stored[key] = stored.get(key, 0) + 1
    missing = {f: (n, stored.get(f, 0)) for f, n in corpus.stored.items() if stored.get(f, 0) != n}
    assert not missing, f"valid files not stored as expected (want, got): {dict(list(missing.items())[:10])}"
    assert not (set(stored) & corpus.rejected), sorted(set(stored) & corpus.rejected)[:10]


def test_every_bad_file_is_named_on_one_line(hostile_run):
    corpus, result, _ = hostile_run
    report = json.loads(result.stdout.splitlines()[0])
    known = set(corpus.stored) | corpus.rejected | corpus.either
    said: dict[str, list[str]] = {}
    for rejection in report["rejections"]:
        said.setdefault(_file_of(rejection["origin"], known), []).append(rejection["reason"])
    unexpected = {f: r for f, r in said.items() if f not in corpus.rejected and f not in corpus.either}
    assert not unexpected, dict(list(unexpected.items())[:10])
    silent = sorted(corpus.rejected - set(said))
    assert not silent, f"dropped without a line: {silent[:10]}"
    repeated = {f: r for f, r in said.items() if len(r) != 1}
    assert not repeated, dict(list(repeated.items())[:10])
    assert all(reason and "\n" not in reason for reasons in said.values() for reason in reasons)
    # on the terminal: one "skipped" line per rejection, each naming its file
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(lines) == len(report["rejections"])


def test_pathological_files_do_not_need_the_time_net(hostile_run):
    """The readers are linear on every family above: none needed the per-file time limit to stop it."""
    _, result, _ = hostile_run
    report = json.loads(result.stdout.splitlines()[0])
    assert not [r for r in report["rejections"] if "took over" in r["reason"]]


def test_reingesting_the_hostile_folder_adds_nothing(hostile_run):
    corpus, first, db = hostile_run
    again = _ingest(corpus.root, db)
    report, before = json.loads(again.stdout.splitlines()[0]), json.loads(first.stdout.splitlines()[0])
    assert report["new"] == 0 and report["duplicate"] == before["new"] + before["duplicate"]
    assert report["rejected"] == before["rejected"]


def test_odd_values_are_stored_as_meant(hostile_run):
    _, _, db = hostile_run
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT origin, title, text, published, source_id, source FROM articles").fetchall()
    by_kind: dict[str, list[tuple]] = {}
    for row in rows:
        by_kind.setdefault(Path(row[0]).name.split("_")[0], []).append(row)
    assert all(title.startswith("Rendered ") for _, title, *_ in by_kind["object"])  # not "{'rendered': …}"
    assert {published for *_, published, _, _ in by_kind["week"]} == {"2020-01-16"}  # 2020-W03-4, not 2020-03-04
    assert {published for *_, published, _, _ in by_kind["bce"]} == {None}  # -0044 is no year 44
    feeds = by_kind["utf16"] + by_kind["utf16bom"]
    assert len(feeds) == 20 and all("AT&T" in title and "AT&T agreed" in text and "&amp;" not in text + title
                                    for _, title, text, *_ in feeds)
    assert all(source == "AT&T Wire" for *_, source in feeds)
    with sqlite3.connect(db) as connection:
        surrogates = connection.execute("SELECT ifnull(title, '') || text || ifnull(source_id, '') || ifnull(source, '') || "
                                        "ifnull(author, '') || ifnull(url, '') FROM articles WHERE origin LIKE '%surrogate%'").fetchall()
    # 21 files: lone surrogates in 7 fields; 6 language hints among them are not languages and are dropped
    assert len(surrogates) == 21 and sum("\ufffd" in row[0] for row in surrogates) == 18
    collided = by_kind["collide"]
    assert len(collided) == 160 and {source_id for *_, source_id, _ in collided} == {"1"}
    assert all(source_id is None for *_, source_id, _ in by_kind["blank"])
