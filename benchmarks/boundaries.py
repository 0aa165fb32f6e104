"""Sentence-boundary quality and speed of ``storyline.normalize.restore``.

    .venv/bin/python benchmarks/boundaries.py [--duc N] [--speed N]

Quality: punctuated articles are stripped of punctuation and case (as seed 000 arrived), restored, and
the predicted boundaries compared with those of the punctuated original (micro P/R/F1 over word gaps;
the end of the text is not counted). Sets: the 20 Wikinews articles held out from training (events
8-9) and, when ``../shared/eval`` is present, DUC 2004 articles (read at run time, never trained on).
Speed: articles/s of the whole restore stage on punctuated and on stripped articles, one process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

from storyline.model import Article
from storyline.normalize.boundaries import strip_text, word_spans
from storyline.normalize.restore import restore, restore_batch
from storyline.normalize.train_boundaries import (
    Gold,
    default_samples,
    gold_for,
    load_wikinews,
    prf,
)

ROOT = Path(__file__).resolve().parents[1]
DUC = ROOT.parent / "shared" / "eval" / "duc2004_clusters.jsonl"


def make_article(text: str, ident: str) -> Article:
    return Article(
        id=ident,
        text=text,
        original_text=text,
        origin=f"benchmark:{ident}",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        ingested_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def predicted_gaps(article: Article) -> set[int]:
    """Word gaps where restore put a sentence end (word = letter/digit run, as in ``gold_for``)."""
    index = {b: i for i, (_, b) in enumerate(word_spans(article.text))}
    n = len(index)
    gaps = set()
    for s in article.sentences:
        e = s.end
        while e > s.start and e not in index:
            e -= 1
        if e in index and index[e] < n - 1:
            gaps.add(index[e])
    return gaps


def case_prf(arts: list[Article], texts: list[str]) -> tuple[float, float, float]:
    """P/R/F1 of "this word starts with a capital" in restored text vs the original's words."""
    tp = fp = fn = 0
    for art, text in zip(arts, texts):
        gold = [text[a:b] for a, b in word_spans(text)]
        pred = [art.restored_text[a:b] for a, b in word_spans(art.text)]
        for g, p in zip(gold, pred):
            gc, pc = g[:1].isupper(), p[:1].isupper()
            tp += gc and pc
            fp += pc and not gc
            fn += gc and not pc
    prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return prec, rec, 2 * prec * rec / max(1e-9, prec + rec)


def evaluate(name: str, texts: list[str]) -> None:
    golds: list[Gold] = [gold_for(t) for t in texts]
    arts = [make_article(strip_text(t), f"{name}-{i}") for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    restore_batch(arts)
    secs = time.perf_counter() - t0
    for a, g in zip(arts, golds):
        assert len(a.text.split()) == len(g.words), a.id
    p, r, f = prf((predicted_gaps(a), g.gaps) for a, g in zip(arts, golds))
    flagged = sum(a.restoration.boundaries_restored for a in arts)
    print(
        f"{name:28s} n={len(arts):4d} P={p:.3f} R={r:.3f} F1={f:.3f}  "
        f"({flagged} flagged unpunctuated; {len(arts) / secs:.1f} stripped articles/s incl. truecasing)"
    )
    cp, cr, cf = case_prf(arts, texts)
    print(f"{'':28s} capitalised words: P={cp:.3f} R={cr:.3f} F1={cf:.3f}")


def speed(texts: list[str], rounds: int = 3) -> None:
    best = 0.0
    for _ in range(rounds):
        arts = [make_article(t, f"speed-{i}") for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        restore_batch(arts)
        best = max(best, len(arts) / (time.perf_counter() - t0))
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"punctuated restore speed: {best:.0f} articles/s ({len(texts)} articles, {words:.0f} words avg, batch)"
    )
    arts = [make_article(t, f"speed1-{i}") for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    for a in arts:
        restore(a)
    print(
        f"punctuated restore speed: {len(arts) / (time.perf_counter() - t0):.0f} articles/s (one at a time)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--duc", type=int, default=200, help="DUC 2004 articles to score (0 = skip)"
    )
    ap.add_argument(
        "--speed", type=int, default=200, help="punctuated articles for the speed run"
    )
    args = ap.parse_args()
    wiki = load_wikinews(default_samples())
    held = [t for e, _, t in wiki if e in (8, 9)]
    restore(make_article("warm up the models. " * 3, "warm"))
    restore(make_article("warm up the models " * 30, "warm2"))
    evaluate("wikinews held-out (ev 8-9)", held)
    duc_texts: list[str] = []
    if DUC.is_file():
        with DUC.open(encoding="utf-8") as fh:
            for line in fh:
                duc_texts.extend(d["text"] for d in json.loads(line)["docs"])
        if args.duc:
            evaluate("duc2004", duc_texts[: args.duc])
    else:
        print(
            f"duc2004: skipped, {DUC} not found (evaluation data lives outside the repository)",
            file=sys.stderr,
        )
    pool = duc_texts or [t for _, _, t in wiki]
    if args.speed:
        speed((pool * (1 + args.speed // max(1, len(pool))))[: args.speed])


if __name__ == "__main__":
    main()
