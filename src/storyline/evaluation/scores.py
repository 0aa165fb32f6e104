"""Scorers: BCubed for clusters, Pearson for pairs, tilse's alignment ROUGE and date F1 for timelines,
rouge-score for summaries. Each ROUGE figure names the implementation that produced it.

Published timeline results use ROUGE-1.5.5, a Perl script (tilse bundles it) that needs Perl's
XML::Parser; where it cannot run, tilse's pure-Python re-implementation scores instead and the result
says so (``scorer``), so ``make test`` passes on a machine without Debian packages.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["PERL_ROUGE", "PYTHON_ROUGE", "SUMMARY_ROUGE", "bcubed", "date_f1", "pearson", "perl_rouge_problem",
           "require_extra", "summary_scorer", "timeline_scorer"]

PERL_ROUGE = "ROUGE-1.5.5 (Perl, via tilse)"
PYTHON_ROUGE = "tilse's Python ROUGE re-implementation (ROUGE-1.5.5 could not run)"
SUMMARY_ROUGE = "rouge-score (Python, Porter stemming)"


def require_extra(*modules: str) -> None:
    """Fail with the install line when the ``eval`` extra (tilse, rouge-score) is missing."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(f"this evaluation needs {', '.join(missing)}, from Storyline's 'eval' extra: "
                           "pip install 'storyline[eval]' (from a checkout: pip install -e '.[eval]')")


def bcubed(pred: dict[str, str], gold: dict[str, str], over: Iterable[str] | None = None) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 over the items of ``gold`` (Amigó et al. 2009).

    Items missing from ``pred`` count as singletons, so dropping an article never helps. ``over``
    averages over those items only (a held-out fold), while clusters still hold every item, so a
    held-out article wrongly joined with training articles still costs precision.
    """
    if not gold:
        raise ValueError("bcubed: gold is empty; nothing to score")
    pred = {k: pred.get(k, f"\0missing:{k}") for k in gold}
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_gold: dict[str, set[str]] = defaultdict(set)
    for item in gold:
        by_pred[pred[item]].add(item)
        by_gold[gold[item]].add(item)
    items = list(gold) if over is None else [i for i in over if i in gold]
    if not items:
        raise ValueError("bcubed: no item to average over")
    p = r = 0.0
    for item in items:
        same = len(by_pred[pred[item]] & by_gold[gold[item]])
        p += same / len(by_pred[pred[item]])
        r += same / len(by_gold[gold[item]])
    p, r = p / len(items), r / len(items)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) < 2 or xa.std() == 0 or ya.std() == 0:
        return 0.0
    return float(np.corrcoef(xa, ya)[0, 1])


def date_f1(pred: set[dt.date], ref: set[dt.date]) -> float:
    shared = len(pred & ref)
    if not shared:
        return 0.0
    p, r = shared / len(pred), shared / len(ref)
    return 2 * p * r / (p + r)


def perl_rouge_problem() -> str | None:
    """Why ROUGE-1.5.5 cannot run here (no Perl, or no XML::Parser), or None when it can."""
    perl = shutil.which("perl")
    if perl is None:
        return "no perl on PATH"
    if subprocess.run([perl, "-MXML::Parser", "-e1"], capture_output=True).returncode != 0:
        return "Perl's XML::Parser is missing (Debian/Ubuntu: apt-get install libxml-parser-perl)"
    return None


def timeline_scorer(fast: bool = False) -> tuple[Any, str]:
    """tilse's alignment-based evaluator and the name of the ROUGE behind it: ROUGE-1.5.5 where it runs
    (published figures use it), else tilse's Python re-implementation; ``fast`` always the latter
    (fitting, where only the ranking of grid values matters)."""
    require_extra("tilse")
    from tilse.evaluation import rouge

    measures = ["rouge_1", "rouge_2"]
    if not fast and perl_rouge_problem() is None:
        return rouge.TimelineRougeEvaluator(measures=measures), PERL_ROUGE
    return rouge.TimelineRougeEvaluator(measures=measures, rouge_computation="reimpl"), PYTHON_ROUGE


def summary_scorer() -> tuple[Any, str]:
    require_extra("rouge_score")
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True), SUMMARY_ROUGE
