"""Train the boundary model shipped as ``storyline/data/boundaries.npz``.

    python -m storyline.normalize.train_boundaries [--samples PATH] [--out PATH]

Training data: the Wikinews sample (CC BY 2.5, ``../shared/samples/wikinews_en.jsonl`` or --samples),
events 0-7; events 8-9 (20 articles) are held out for testing and never seen here. Gold boundaries come
from the punctuated originals (``segment.segment_punctuated``); the model sees them stripped of
punctuation and case. Threshold and minimum sentence length are tuned on events 6-7 with a model
trained on events 0-5, then the final model is trained on events 0-7. Word statistics come from the
``truecase`` package's counts. Everything is deterministic (liblinear, fixed seed, sorted inputs).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyline.normalize.boundaries import (
    _NBINS,
    BoundaryModel,
    Tagged,
    WordStats,
    _tagger,
    _word_hash,
    default_model_path,
    dense_features,
    gap_features,
    pair_hash,
    tag_words,
    word_spans,
)
from storyline.normalize.segment import segment_punctuated

TAGGER = ""  # set by main(): the spaCy model the weights are fitted to
_WORDLIKE = re.compile(r"[^\W_]+")

__all__ = [
    "Gold",
    "gold_for",
    "held_out",
    "main",
    "prf",
    "train",
    "word_stats_from_truecase",
]

BITS = 18
C = 0.5
C_GRID = (0.03, 0.1, 0.3, 1.0)
NAME = "wikinews-lr-tagger-v2"
TRAIN_EVENTS = frozenset(range(8))
TUNE_EVENTS = frozenset({6, 7})
TEST_EVENTS = frozenset({8, 9})
NO_INFO_BIN = (
    _NBINS - 1
)  # end/start counts exist only for words truecase saw in several casings


@dataclass(slots=True)
class Gold:
    """A punctuated article as the model sees it: lower-cased words and its true boundary gaps."""

    words: list[str]
    gaps: set[int]
    tagged: Tagged | None = None


def gold_for(text: str) -> Gold:
    """Words of ``text`` (as stripping would leave them) and the gaps where its sentences end."""
    spans = word_spans(text)
    words = [text[a:b].lower() for a, b in spans]
    ends = [b for _, b in spans]
    gaps: set[int] = set()
    k = 0
    for _, sent_end in segment_punctuated(text):
        while k < len(ends) and ends[k] <= sent_end:
            k += 1
        if 0 < k < len(words):
            gaps.add(k - 1)
    return Gold(words, gaps, tag_words(words))


def prf(pairs: Iterable[tuple[Iterable[int], set[int]]]) -> tuple[float, float, float]:
    """Micro precision, recall, F1 of predicted gap sets against gold gap sets."""
    tp = fp = fn = 0
    for pred, gold in pairs:
        p = {int(x) for x in pred}
        tp += len(p & gold)
        fp += len(p - gold)
        fn += len(gold - p)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


def _bin(count: float, total: float, top: int) -> int:
    return min(top, math.floor(-math.log((count + 0.5) / (total + 1.0))))


def word_stats_from_truecase(min_count: int = 2) -> tuple[WordStats, list[str]]:
    """Per-word opener/closer/mid-sentence-capital bins from truecase's n-gram counts.

    truecase's trainer records the token before a sentence's first word as the sentence's last token
    (usually "."), so ``backward_bi_dist["._The"]`` counts sentences opened by "The" and
    ``forward_bi_dist["war_."]`` counts sentences closed by "war" (words seen in several casings only).
    """
    import truecase

    tc = truecase.get_truecaser()
    uni, back, fwd = tc.uni_dist, tc.backward_bi_dist, tc.forward_bi_dist
    rows: list[tuple[int, int, int, int, int]] = []
    words = []
    for low in sorted(tc.word_casing_lookup):
        casings = sorted(tc.word_casing_lookup[low])
        total = sum(uni[c] for c in casings)
        if total < min_count or not any(ch.isalnum() for ch in low):
            continue
        starts = sum(back[p + "_" + c] for c in casings for p in (".", "?", "!"))
        ends = sum(fwd[c + "_" + p] for c in casings for p in (".", "?", "!"))
        caps = sum(uni[c] for c in casings if c[:1].isupper())
        multi = len(casings) >= 2
        start_bin = (
            _bin(starts, total, NO_INFO_BIN - 1)
            if multi or not casings[0][:1].isupper()
            else NO_INFO_BIN
        )
        end_bin = _bin(ends, total, NO_INFO_BIN - 1) if multi else NO_INFO_BIN
        cap_bin = _bin(max(caps - starts, 0), total, NO_INFO_BIN - 1)
        freq_bin = min(NO_INFO_BIN, int(math.log2(total + 1)))
        # The model hashes the stripped, lower-cased word: index every alphanumeric piece of it.
        for piece in word_spans(low):
            w = low[piece[0] : piece[1]]
            if w == low:
                rows.append((_word_hash(w), start_bin, end_bin, cap_bin, freq_bin))
                words.append(w)
    rows.sort()
    dedup = [r for i, r in enumerate(rows) if i == 0 or r[0] != rows[i - 1][0]]
    arr = np.array(dedup, dtype=np.int64)
    pair_hashes, pair_bins = _pair_table(back, fwd, min_count)
    stats = WordStats(
        hashes=arr[:, 0].astype(np.uint64),
        start_bin=arr[:, 1].astype(np.int8),
        end_bin=arr[:, 2].astype(np.int8),
        cap_bin=arr[:, 3].astype(np.int8),
        freq_bin=arr[:, 4].astype(np.int8),
        pair_hashes=pair_hashes,
        pair_bin=pair_bins,
    )
    return stats, words


def _pair_table(back, fwd, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Within-sentence word-pair counts (lower-cased) from truecase's bigram tables.

    Pairs led by "." in ``back`` are sentence openings, not pairs inside a sentence: dropped.
    """
    from collections import Counter

    counts: Counter[tuple[str, str]] = Counter()
    for table in (back, fwd):
        here: Counter[tuple[str, str]] = Counter()
        for key in sorted(table):
            a, _, b = key.rpartition("_")
            if a and b and a not in {".", "?", "!"} and b not in {".", "?", "!"}:
                here[(a.lower(), b.lower())] += table[key]
        for pair, n in here.items():
            counts[pair] = max(counts[pair], n)
    keys, bins = [], []
    for (a, b), n in sorted(counts.items()):
        if n < min_count or not _WORDLIKE.fullmatch(a) or not _WORDLIKE.fullmatch(b):
            continue
        ha = np.array([_word_hash(a)], dtype=np.uint64)
        hb = np.array([_word_hash(b)], dtype=np.uint64)
        keys.append(int(pair_hash(ha, hb)[0]))
        bins.append(min(12, 1 + int(math.log2(n))))
    order = np.argsort(np.array(keys, dtype=np.uint64), kind="stable")
    return np.array(keys, dtype=np.uint64)[order], np.array(bins, dtype=np.int8)[order]


def load_wikinews(path: Path) -> list[tuple[int, str, str]]:
    """(event number, id, text) of the Wikinews sample; the event is the id's cluster (M00E*)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.append((int(rec["id"][3]), rec["id"], rec["text"]))
    return sorted(out, key=lambda r: r[1])


def _width(golds: Sequence[Gold]) -> int:
    return next((g.tagged.vectors.shape[1] for g in golds if g.tagged is not None), 0)


def _design(golds: Sequence[Gold], stats: WordStats, bits: int, width: int):
    from scipy.sparse import csr_matrix, hstack

    blocks, labels, dense = [], [], []
    for g in golds:
        if len(g.words) < 2:
            continue
        blocks.append(
            gap_features(g.words, stats, bits, g.tagged.tags if g.tagged else None)
        )
        dense.append(dense_features(g.tagged, len(g.words), width))
        y = np.zeros(len(g.words) - 1, dtype=np.int8)
        y[list(g.gaps)] = 1
        labels.append(y)
    idx = np.concatenate(blocks)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    x = csr_matrix(
        (np.ones(idx.size, dtype=np.float64), (rows, idx.ravel())),
        shape=(idx.shape[0], 1 << bits),
    )
    x.sum_duplicates()
    return hstack([x, csr_matrix(np.concatenate(dense))]).tocsr(), np.concatenate(
        labels
    )


def train(
    golds: Sequence[Gold], stats: WordStats, *, bits: int = BITS, c: float = C
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse (2**bits) and dense (2 * vector width) float32 weights of a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    width = _width(golds)
    x, y = _design(golds, stats, bits, width)
    clf = LogisticRegression(C=c, solver="liblinear", random_state=0, max_iter=200)
    clf.fit(x, y)
    w = clf.coef_[0].astype(np.float32)
    sparse, dense = (
        w[: 1 << bits].copy(),
        w[1 << bits :].copy(),
    )  # dense_features scales inputs
    bias_col = int(gap_features(["a", "b"], stats, bits)[0, 0])
    sparse[bias_col] += np.float32(clf.intercept_[0])
    # ship float16, and fit nothing to the float32 values: round now
    return sparse.astype(np.float16).astype(np.float32), dense.astype(
        np.float16
    ).astype(np.float32)


def _evaluate(
    model: BoundaryModel, golds: Sequence[Gold]
) -> tuple[float, float, float]:
    return prf((model.boundaries(g.words, tagged=g.tagged), g.gaps) for g in golds)


def _tune(
    weights: tuple[np.ndarray, np.ndarray], stats: WordStats, golds: Sequence[Gold]
) -> tuple[float, int, float]:
    best = (0.5, 3, -1.0)
    probs = None
    for min_words in (1, 2, 3, 4, 5, 6):
        for threshold in np.arange(0.05, 0.81, 0.05):
            m = BoundaryModel(
                weights[0],
                BITS,
                stats,
                float(threshold),
                min_words,
                "tune",
                weights[1],
                TAGGER,
            )
            if probs is None:
                probs = [m.probabilities(g.words, g.tagged) for g in golds]
            f1 = prf((m.decode(p), g.gaps) for p, g in zip(probs, golds))[2]
            if f1 > best[2] + 1e-9:
                best = (round(float(threshold), 2), min_words, f1)
    return best


def held_out(samples: Path) -> list[Gold]:
    """The 20 Wikinews test articles (events 8-9), never used in training or tuning."""
    return [gold_for(t) for e, _, t in load_wikinews(samples) if e in TEST_EVENTS]


def default_samples() -> Path:
    """The Wikinews sample shipped in the repository's examples/ (a copy of ../shared/samples)."""
    return Path(__file__).resolve().parents[3] / "examples" / "wikinews" / "wikinews_en.jsonl"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--samples", type=Path, default=default_samples())
    ap.add_argument("--out", type=Path, default=default_model_path())
    args = ap.parse_args(argv)
    if not args.samples.is_file():
        raise SystemExit(
            f"Wikinews sample {args.samples} not found: pass --samples PATH"
        )
    global TAGGER
    nlp = _tagger()
    TAGGER = f"{nlp.meta['name']}-{nlp.meta['version']}" if nlp is not None else ""
    arts = load_wikinews(args.samples)
    golds = {aid: gold_for(t) for _, aid, t in arts}
    stats, _ = word_stats_from_truecase()
    print(f"word statistics: {len(stats.hashes)} words from truecase")
    fit = [golds[a] for e, a, _ in arts if e in TRAIN_EVENTS - TUNE_EVENTS]
    tune = [golds[a] for e, a, _ in arts if e in TUNE_EVENTS]
    best = (0.0, C, 0.5, 3)
    for c in C_GRID:
        threshold, min_words, f1 = _tune(train(fit, stats, c=c), stats, tune)
        print(
            f"tuning on events 6-7: C={c} threshold={threshold} min_words={min_words} F1={f1:.3f}"
        )
        if f1 > best[0] + 1e-9:
            best = (f1, c, threshold, min_words)
    _, c, threshold, min_words = best
    final = [golds[a] for e, a, _ in arts if e in TRAIN_EVENTS]
    weights, dense = train(final, stats, c=c)
    model = BoundaryModel(
        weights, BITS, stats, threshold, min_words, NAME, dense, TAGGER
    )
    p, r, f = _evaluate(model, held_out(args.samples))
    print(f"held-out Wikinews events 8-9: P={p:.3f} R={r:.3f} F1={f:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=weights.astype(np.float16),
        bits=np.int64(BITS),
        stat_hashes=stats.hashes.astype(np.uint32),
        start_bin=stats.start_bin,
        end_bin=stats.end_bin,
        cap_bin=stats.cap_bin,
        freq_bin=stats.freq_bin,
        pair_hashes=stats.pair_hashes.astype(np.uint32),
        pair_bin=stats.pair_bin,
        threshold=np.float64(threshold),
        min_words=np.int64(min_words),
        name=np.str_(model.name),
        dense=dense.astype(np.float16),
        tagger=np.str_(TAGGER),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
