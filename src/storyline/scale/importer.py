"""``storyline batch import``: a finished batch OUTPUT into the embedded store (pyarrow only, no Spark).

After it, every way in (CLI, Python API, HTTP API, web page) reads the batch results as if ``track``
had written them, and ``track`` on the same store places new articles from them: the batch's document
frequencies are loaded into a store that had none (into one that already had its own they are not
added: its frequencies stay its own). Importing again is a no-op for what is already there (articles
are matched by id; events, stories, links and names are replaced by the batch's own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storyline.model import Link
from storyline.store import Store
from storyline.store.records import row_event, row_story, row_thread

__all__ = ["import_output", "read_summary"]


def _local(path: str | Path) -> Path:
    text = str(path)
    return Path(text.removeprefix("file://").removeprefix("file:"))


def read_summary(output: str | Path) -> dict[str, Any]:
    """The summary a finished run writes last; a missing one means the run did not finish."""
    import pyarrow.parquet as pq

    folder = _local(output) / "summary"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: the batch run into {output} did not finish; run it again "
                                "(`storyline batch run INPUT OUTPUT` overwrites what a killed run left)")
    return json.loads(pq.read_table(folder).column("summary")[0].as_py())


def _table(output: Path, name: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(output / name).to_pylist()


def _new_names(stored: list[tuple], batch: list[dict[str, Any]]) -> list[tuple]:
    """The store's names stay as they are; the batch adds the aliases the store does not know yet."""
    have = {row[0] for row in stored}
    return [(r["alias"], r["canonical"], r["type"], int(r["mentions"])) for r in batch if r["alias"] not in have]


def import_output(output: str | Path, store: Store) -> dict[str, int]:
    """Load articles (in input order), events, stories, threads, links and canonical names into ``store``."""
    from storyline.scale.stages import article_from_row

    summary = read_summary(output)
    folder = _local(output)
    rows = sorted(_table(folder, "articles"), key=lambda r: r["ord"])
    known, _ = store.known([r["id"] for r in rows], [])
    fresh = [r for r in rows if r["id"] not in known]
    with store.writer(), store.transaction():  # one writer at a time: a placer elsewhere must not miss these
        for start in range(0, len(fresh), 500):
            part = fresh[start : start + 500]
            by_stage: dict[int, list] = {}
            for r in part:
                by_stage.setdefault(int(r["stage"]), []).append(article_from_row(r))
            for stage, articles in sorted(by_stage.items()):
                store.add_articles(articles, stage=stage)
        store.save_events(row_event(r) for r in _table(folder, "events"))
        store.save_stories(row_story(r) for r in _table(folder, "stories"))
        if (folder / "threads").is_dir():  # outputs written before threads have none; the next track links them
            store.save_threads(row_thread(r) for r in _table(folder, "threads"))
        store.save_links(Link(r["article_id"], r["event_id"], float(r["score"] or 0.0), json.loads(r["parts"] or "{}"))
                         for r in _table(folder, "assignments") if r["event_id"])
        names = _new_names(store.entity_rows(), _table(folder, "entities"))
        store.update_entity_rows(sorted({row[0] for row in names}), names)
        if fresh and not store.doc_freq()[0]:  # placement resumes from the batch's document frequencies exactly
            state = summary.get("doc_freq", {})
            terms = _table(folder, "doc_freq") if (folder / "doc_freq").is_dir() else []
            store.save_doc_freq(int(state.get("docs", 0)), {r["term"]: int(r["n"]) for r in terms},
                                (int(state.get("idf_docs", 0)), {r["term"]: int(r["n_idf"]) for r in terms if r["n_idf"]}))
    return {"articles": len(fresh), "already_stored": len(rows) - len(fresh),
            "rejected_in_batch": int(summary["counts"].get("rejected", 0))}

