"""The ordered naming step alone: CPU per article of ``reconcile_rows`` (``pipeline.reconcile_entities``).

    .venv/bin/python benchmarks/naming.py [--copies 10]

Naming runs in input order through one registry, in ``track`` and on Spark alike (one task there), so it is
the part of enrichment that more workers do not shorten. The input is the shipped Wikinews sample (100
full-length articles) recognised once (``stages.prepare_rows``, not timed), then named ``copies`` times
over under fresh ids, as a running story brings the same names back. Prints one JSON line: articles,
seconds (CPU, ``time.process_time``), ms per article, and a digest of every named row, so a speed change
that changes a name shows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import pickle
import time
from pathlib import Path

from storyline.scale import stages
from storyline.store import INGESTED

WIKINEWS = Path(__file__).resolve().parents[1] / "examples" / "wikinews" / "wikinews_en.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    now = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
    items = stages.clean_items(stages.documents_of_file(WIKINEWS.name, WIKINEWS.read_bytes()), now)
    rows = [stages.article_to_row(a, INGESTED) for a in items if not isinstance(a, stages.Rejection)]
    prepared = list(stages.prepare_rows(rows))
    copies = [{**r, "id": f"{r['id']}-{n}"} for n in range(args.copies) for r in prepared]
    start = time.process_time()
    named = [r for r in stages.reconcile_rows(iter(copies)) if "registry" not in r]
    seconds = time.process_time() - start
    digest = hashlib.sha256(pickle.dumps([sorted(r.items()) for r in named])).hexdigest()[:16]
    print(json.dumps({"articles": len(named), "cpu_seconds": round(seconds, 2),
                      "ms_per_article": round(1000 * seconds / len(named), 2), "digest": digest}))


if __name__ == "__main__":
    main()
