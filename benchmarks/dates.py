"""Dates mentioned in text: speed, timeline date recall and publication-date inference on Timeline17.

    nice .venv/bin/python benchmarks/dates.py [--limit N]

Reads ../shared/eval/timeline17/*/articles.json (uid, dct = publication date, text) at run time; says so
and skips when absent. Prints, per topic and overall:

* date recall: the share of reference timeline dates (*.timeline.json) that appear among the day-resolved
  mentions of that topic's articles (articles dated by their dct, as ingest would), next to the share that
  publication dates alone cover and the union of both;
* inference: each article with its dct hidden, how close ``infer_publication_date`` gets (same day, within
  7 / 31 / 365 days, no guess), by the precision the evidence claims;
* speed: articles/s and words/s of ``find_dates`` (dated articles, one pass from cold caches), as CPU time
  of this process (one core; the machine may be shared) and as wall clock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import time
from collections import Counter
from pathlib import Path

from storyline.enrich.dates import find_dates, infer_publication_date
from storyline.enrich.dates_infer import precision_of_evidence
from storyline.model import Article, DateProvenance, Granularity

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / ".." / "shared" / "eval" / "timeline17"
SEEDS = [ROOT / "examples" / "seeds", ROOT / ".." / "shared" / "seeds"]


def seed_000() -> None:
    """The degraded, undated founding article: what is inferred and what stays partial."""
    found = [p for d in SEEDS for p in sorted(d.glob("000_*.txt"))]
    if not found:
        print("seed 000 not found; skipped")
        return
    text = found[0].read_text(encoding="utf-8")
    art = Article(id="seed-000", text=text, original_text=text, origin=str(found[0]), content_hash="seed",
                  ingested_at=dt.datetime(2000, 1, 1), language="en")
    print("seed 000 inferred:", infer_publication_date(art))
    print("seed 000 mentions:", [(m.surface, m.resolved) for m in find_dates(art)], "\n")


def _article(rec: dict, topic: str, dated: bool) -> Article:
    text = rec["text"]
    return Article(id=f"{topic}/{rec['uid']}", text=text, original_text=text, origin=topic, content_hash=str(rec["uid"]),
                   ingested_at=dt.datetime(2000, 1, 1), language="en",
                   published=dt.date.fromisoformat(rec["dct"][:10]) if dated else None,
                   published_provenance=DateProvenance.METADATA if dated else DateProvenance.UNDATED)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="articles per topic (0 = all)")
    args = ap.parse_args()
    seed_000()
    topics = sorted(p for p in glob.glob(str(EVAL / "*")) if Path(p, "articles.json").exists())
    if not topics:
        print(f"Timeline17 not found at {EVAL.resolve()}; nothing to measure (skipped).")
        return
    total_time = total_wall = 0.0
    total_articles = total_words = 0
    ref_all = hit_all = dct_all = union_all = 0
    inf: Counter[str] = Counter()
    print(f"{'topic':24} {'arts':>5} {'ref':>4} {'mention':>8} {'dct':>6} {'union':>6}")
    for topic_dir in topics:
        topic = Path(topic_dir).name
        records = json.loads(Path(topic_dir, "articles.json").read_text(encoding="utf-8"))
        if args.limit:
            records = records[: args.limit]
        arts = [_article(r, topic, True) for r in records]
        t0, w0 = time.process_time(), time.perf_counter()
        mentions = [find_dates(a) for a in arts]
        total_time += time.process_time() - t0
        total_wall += time.perf_counter() - w0
        total_articles += len(arts)
        total_words += sum(len(a.text.split()) for a in arts)
        days = {m.resolved for ms in mentions for m in ms if m.granularity is Granularity.DAY}
        dcts = {a.published.isoformat() for a in arts if a.published}
        ref = set()
        for tl in glob.glob(str(Path(topic_dir, "*.timeline.json"))):
            ref |= {e["date"][:10] for e in json.loads(Path(tl).read_text(encoding="utf-8"))}
        hit, dct_hit, union = len(ref & days), len(ref & dcts), len(ref & (days | dcts))
        ref_all, hit_all, dct_all, union_all = ref_all + len(ref), hit_all + hit, dct_all + dct_hit, union_all + union
        print(f"{topic:24} {len(arts):5d} {len(ref):4d} {hit / len(ref):8.3f} {dct_hit / len(ref):6.3f} "
              f"{union / len(ref):6.3f}")
        for rec in records:
            truth = dt.date.fromisoformat(rec["dct"][:10])
            got = infer_publication_date(_article(rec, topic, False))
            if got is None:
                inf["no guess"] += 1
                continue
            gap = abs((got[0] - truth).days)
            prec = precision_of_evidence(got[1]).value
            inf[f"{prec}:n"] += 1
            for name, limit in (("same day", 0), ("<=7d", 7), ("<=31d", 31), ("<=365d", 365)):
                if gap <= limit:
                    inf[f"{prec}:{name}"] += 1
    print(f"\nreference timeline dates: {ref_all}; recall of day-resolved mentions {hit_all / ref_all:.3f}, "
          f"of publication dates {dct_all / ref_all:.3f}, of both {union_all / ref_all:.3f}")
    print(f"find_dates speed: {total_articles / total_time:.0f} articles/s, {total_words / total_time:,.0f} words/s "
          f"of CPU time on one core ({total_articles / total_wall:.0f} articles/s wall clock on this machine; "
          f"mean {total_words / total_articles:.0f} words/article, dateparser caches cold at start)")
    n = total_articles
    print(f"\ninference with dct hidden ({n} articles; no guess {inf['no guess']}):")
    for prec in ("day", "month", "year"):
        k = inf[f"{prec}:n"]
        if k:
            cells = ", ".join(f"{name} {inf[f'{prec}:{name}'] / k:.2f}" for name in ("same day", "<=7d", "<=31d", "<=365d"))
            print(f"  {prec:5} precision: {k:4d} articles ({k / n:.0%}): {cells}")


if __name__ == "__main__":
    main()
