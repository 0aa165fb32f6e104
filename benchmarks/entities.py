"""Entity quality on degraded text, and NER speed.

For each Wikinews sample article, the canonical entity set found in the punctuated original is the
reference; the same article lowercased and stripped of punctuation (like seed 000) is restored and
run through the same extractor. Prints mean recall and Jaccard of the degraded set against the
clean one, and articles/s for NER alone (batched nlp.pipe, NER components only) and for the whole
entity step.

    .venv/bin/python benchmarks/entities.py [--limit N] [--shared] [--stand-in]
    .venv/bin/python benchmarks/entities.py --lead [--limit N] [--degraded]
    .venv/bin/python benchmarks/entities.py --ops [--limit N] [--sets duc2004,timeline17]

``--shared`` also scores the degraded copies with the registry the clean run filled (the store
already knows the names), next to the default where each run has its own registry.

``--ops [--limit N]`` compares the model on thinc's blis (before) with numpy products on one BLAS thread (after,
the default: ``entities._numpy_gemm``) on DUC 2004 and Timeline17: process CPU ms per article inside the model
and for the whole entity step, over every sentence and with the lead plan, and each run's precision and
recall of canonical names per article against the blis run over every sentence (plus the share of mentions
kept and the distinct names per article).

``--lead`` compares NER over every sentence with the lead plans (``EntityExtractor(lead_chars=K,
novel_tail=...)``) on Timeline17 articles read from ../shared/eval: CPU ms per article for the whole
entity step, and the share of the full run's distinct canonical names (and of each article's five
most mentioned) that each plan keeps, and of its mentions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import re
import statistics
import sys
import time
from pathlib import Path

from storyline.enrich.canonical import name_key
from storyline.enrich.entities import LEAD_CHARS as LEAD
from storyline.enrich.entities import EntityExtractor, EntityRegistry
from storyline.model import Article

SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "samples" / "wikinews_en.jsonl"


def degrade(text: str) -> str:
    """Lowercase, punctuation to spaces, whitespace collapsed: the shape of seed 000."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.lower()).split())


def restorer(stand_in: bool = False) -> tuple[object, str]:
    """The project's restoration if it exists, else a truecase approximation (named in the output)."""
    if stand_in:
        return approx_restore, "truecase stand-in (--stand-in)"
    try:
        from storyline.normalize.restore import restore  # type: ignore[import-not-found]

        return restore, "storyline.normalize.restore"
    except ImportError:
        return approx_restore, "truecase approximation (storyline.normalize.restore not found)"


_TRUECASER = None


def approx_restore(article: Article) -> None:
    """Stand-in for restoration: the project's boundary model, then `truecase` per sentence.

    Length-preserving; fills ``restored_text`` and ``sentences`` like the real step will.
    """
    global _TRUECASER
    import truecase

    from storyline.model import Sentence
    from storyline.normalize.boundaries import load_model, word_spans

    if _TRUECASER is None:
        _TRUECASER = truecase.get_truecaser()
        # truecase keeps each word's casings in a set: ties would follow PYTHONHASHSEED
        _TRUECASER.word_casing_lookup = {k: sorted(v) for k, v in _TRUECASER.word_casing_lookup.items()}
    text = article.text
    spans = word_spans(text)
    if not spans:
        article.restored_text = text
        return
    try:
        gaps = load_model().boundaries([text[s:e].lower() for s, e in spans])
    except (OSError, KeyError, ValueError) as error:  # boundary model missing or being rebuilt
        print(f"  (stand-in: no sentence boundaries: {error!r})", file=sys.stderr)
        gaps = []
    cuts = [0, *[int(g) + 1 for g in gaps], len(spans)]
    out = list(text)
    sentences = []
    for a, b in itertools.pairwise(cuts):
        if a >= b:
            continue
        words = spans[a:b]
        cased = _TRUECASER.get_true_case_from_tokens([text[s:e] for s, e in words], "title")
        for (s, e), new in zip(words, cased):
            if len(new) == e - s and new.lower() == text[s:e].lower():
                out[s:e] = new
        sentences.append((words[0][0], words[-1][1]))
    article.restored_text = "".join(out)
    article.sentences = [Sentence(s, e, article.restored_text[s:e]) for s, e in sentences]


def make_article(record: dict, text: str) -> Article:
    return Article(
        id=record["id"],
        text=text,
        original_text=text,
        origin="wikinews_en.jsonl",
        content_hash=hashlib.sha1(text.encode()).hexdigest(),
        ingested_at=dt.datetime(2026, 1, 1),
        language="en",
    )


def entity_set(article: Article) -> set[str]:
    return {name_key(m.canonical) for m in article.entities}


def score(clean: list[Article], degraded: list[Article]) -> tuple[float, float, float]:
    recalls, jaccards, precisions = [], [], []
    for a, b in zip(clean, degraded):
        ref, got = entity_set(a), entity_set(b)
        if not ref:
            continue
        recalls.append(len(ref & got) / len(ref))
        jaccards.append(len(ref & got) / len(ref | got))
        precisions.append(len(ref & got) / len(got) if got else 0.0)
    return statistics.mean(recalls), statistics.mean(jaccards), statistics.mean(precisions)


def ner_speed(texts: list[str], repeats: int = 1) -> tuple[float, float]:
    """Articles/s for the NER pipeline alone: by wall clock, and per CPU-second of this process.

    On a shared machine the wall figure mostly measures the neighbours; the CPU figure is what one
    free core would do.
    """
    nlp = EntityExtractor().model("en")
    list(nlp.pipe(texts[:8]))  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        for _doc in nlp.pipe(texts, batch_size=32):
            pass
    n = repeats * len(texts)
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def lead_comparison(limit: int, degraded: bool) -> int:
    """Full-text NER against the lead plans, on the same restored Timeline17 articles."""
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import enrich as bench  # the enrich benchmark's Timeline17 reader and ingest path

    from storyline.normalize.restore import restore_batch

    docs = bench.documents("timeline17", limit + 8, degraded)
    plans = [("all sentences", None, True), ("lead 2000 + new-name sentences", 2000, True),
             ("lead 2000 only", 2000, False), ("lead 3000 + new-name sentences", 3000, True),
             ("lead 3000 only", 3000, False)]
    runs = []
    for label, lead, tail in plans:
        articles = [bench.clean(d, now=bench.NOW) for d in docs]
        restore_batch(articles)
        extractor = EntityExtractor(EntityRegistry(), lead_chars=lead, novel_tail=tail)
        extractor.extract(articles[:8])  # loads the model; not timed
        cpu = time.process_time()
        for start in range(8, len(articles), 64):
            extractor.extract(articles[start : start + 64])
        ms = 1000 * (time.process_time() - cpu) / (len(articles) - 8)
        runs.append((label, ms, [Counter(name_key(m.canonical) for m in a.entities) for a in articles[8:]]))
    ref = runs[0][2]
    print(f"timeline17 {'degraded' if degraded else 'clean'}, {len(ref)} articles, mean "
          f"{statistics.mean(len(d.text) for d in docs[8:]):.0f} chars")
    for label, ms, got in runs:
        kept = sum(len(set(r) & set(g)) for r, g in zip(ref, got)) / max(1, sum(len(r) for r in ref))
        tops = [[k for k, _ in r.most_common(5)] for r in ref]
        top5 = sum(len(set(t) & set(g)) for t, g in zip(tops, got)) / max(1, sum(len(t) for t in tops))
        mentions = sum(sum((r & g).values()) for r, g in zip(ref, got)) / max(1, sum(sum(r.values()) for r in ref))
        print(json.dumps({"plan": label, "cpu_ms_per_article": round(ms, 1), "distinct_kept": round(kept, 3),
                          "top5_kept": round(top5, 3), "mentions_kept": round(mentions, 3)}))
    return 0


def ops_comparison(limit: int, sources: tuple[str, ...] = ("duc2004", "timeline17")) -> int:
    """Before (blis) and after (numpy, one BLAS thread) on DUC 2004 and Timeline17, full text and lead plan."""
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import enrich as bench

    from storyline.normalize.restore import restore_batch

    print(json.dumps({"loadavg": Path("/proc/loadavg").read_text().split()[:3]}))
    from storyline.normalize.clean import EmptyArticle

    def cleaned(doc):
        try:
            return bench.clean(doc, now=bench.NOW)
        except EmptyArticle:
            return None

    for source in sources:
        docs = [d for d in bench.documents(source, limit + 12, False) if cleaned(d) is not None][: limit + 8]
        runs = []
        for label, lead, fast in (("blis, every sentence", None, False), ("numpy, every sentence", None, True),
                                  ("blis, lead plan", LEAD, False), ("numpy, lead plan", LEAD, True)):
            articles = [cleaned(d) for d in docs]
            restore_batch(articles)
            extractor = EntityExtractor(EntityRegistry(), lead_chars=lead, numpy_gemm=fast)
            extractor.extract(articles[:8])  # loads the model; not timed
            extractor.cpu.clear()
            cpu = time.process_time()
            for start in range(8, len(articles), 64):
                extractor.extract(articles[start : start + 64])
            n = len(articles) - 8
            runs.append((label, 1000 * (time.process_time() - cpu) / n, 1000 * extractor.cpu["ner"] / n,
                         [Counter(name_key(m.canonical) for m in a.entities) for a in articles[8:]]))
        ref = runs[0][3]
        for label, step_ms, ner_ms, got in runs:
            common = sum(len(set(r) & set(g)) for r, g in zip(ref, got))
            mentions = sum(sum((r & g).values()) for r, g in zip(ref, got)) / max(1, sum(sum(r.values()) for r in ref))
            print(json.dumps({"set": source, "articles": len(ref), "run": label, "cpu_ms_ner_model": round(ner_ms, 1),
                              "cpu_ms_entity_step": round(step_ms, 1),
                              "precision": round(common / max(1, sum(len(g) for g in got)), 4),
                              "recall": round(common / max(1, sum(len(r) for r in ref)), 4),
                              "mentions_kept": round(mentions, 4),
                              "identical_articles": sum(r == g for r, g in zip(ref, got)),
                              "distinct_per_article": round(sum(len(g) for g in got) / len(got), 2)}))
    print(json.dumps({"loadavg": Path("/proc/loadavg").read_text().split()[:3]}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--shared", action="store_true")
    parser.add_argument("--stand-in", action="store_true", help="restore with the truecase stand-in")
    parser.add_argument("--lead", action="store_true", help="full-text NER vs the lead plans (Timeline17)")
    parser.add_argument("--degraded", action="store_true", help="with --lead: degraded copies")
    parser.add_argument("--ops", action="store_true", help="blis vs numpy products in the model (DUC 2004, Timeline17)")
    parser.add_argument("--sets", default="duc2004,timeline17", help="with --ops: comma-separated sets")
    args = parser.parse_args()
    if args.lead:
        return lead_comparison(args.limit, args.degraded)
    if args.ops:
        return ops_comparison(args.limit, tuple(args.sets.split(",")))
    if not SAMPLES.exists():
        print(f"skipped: {SAMPLES} not found (run from the repository next to ../shared)")
        return 0
    records = [json.loads(line) for line in SAMPLES.read_text().splitlines()[: args.limit]]
    restore, how = restorer(args.stand_in)
    clean = [make_article(r, r["text"]) for r in records]
    degraded = [make_article(r, degrade(r["text"])) for r in records]
    t0 = time.perf_counter()
    for article in degraded:
        restore(article)
    t_restore = time.perf_counter() - t0
    print(f"restoration: {how} ({len(degraded) / t_restore:.1f} articles/s)")
    failed = [a.id for a in degraded if any("restor" in p for p in a.problems) or a.restored_text in (None, a.text)]
    if failed:
        print(f"  WARNING: {len(failed)} degraded copies were not restored (e.g. {failed[0]}: {degraded[0].problems[:1]})")

    chars = sum(len(a.text) for a in clean) / len(clean)
    print(f"articles: {len(clean)}, mean {chars:.0f} chars")
    print(f"NER only (nlp.pipe, batch 32, components {EntityExtractor().model('en').pipe_names}):")
    for label, group in (("clean text   ", clean), ("restored text", degraded)):
        wall, cpu = ner_speed([a.display_text for a in group])
        print(f"  {label}  {wall:6.1f} articles/s wall, {cpu:6.1f} per CPU-second")

    extractor = EntityExtractor(EntityRegistry())
    extractor.model("en")
    t0, c0 = time.perf_counter(), time.process_time()
    extractor.extract(clean)
    t_clean, c_clean = time.perf_counter() - t0, time.process_time() - c0
    own = EntityExtractor(EntityRegistry())
    own.model("en")
    t0, c0 = time.perf_counter(), time.process_time()
    own.extract(degraded)
    t_degraded, c_degraded = time.perf_counter() - t0, time.process_time() - c0
    n = len(clean)
    print("whole entity step (NER + canonical names + known-name matching), models loaded:")
    print(f"  clean    {n / t_clean:6.1f} articles/s wall, {n / c_clean:6.1f} per CPU-second")
    print(f"  degraded {n / t_degraded:6.1f} articles/s wall, {n / c_degraded:6.1f} per CPU-second")
    recall, jaccard, precision = score(clean, degraded)
    print(f"degraded vs clean canonical sets, own registry:    recall {recall:.3f}  jaccard {jaccard:.3f}  precision {precision:.3f}")
    if args.shared:
        shared = [make_article(r, degrade(r["text"])) for r in records]
        for article in shared:
            restore(article)
        extractor.extract(shared)
        recall, jaccard, precision = score(clean, shared)
        print(f"degraded vs clean canonical sets, shared registry: recall {recall:.3f}  jaccard {jaccard:.3f}  precision {precision:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
