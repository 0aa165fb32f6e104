"""Measuring Storyline against human-labelled data, on the path ``storyline track`` takes.

Above ``pipeline.py``: every evaluation ingests, enriches and places its set with ``Pipeline``
(``product``) and reads what it scores through the query layer, so a figure measures what a user gets.
``data`` reads the sets, ``scores`` scores (BCubed, Pearson, ROUGE), ``fit`` fits what placement learns,
``stories``/``pairs``/``tell`` are the evaluations. Every result carries ``fitted_on``: the sets and the
procedure behind the numbers it used, and whether the figure is in sample.

Timelines and summaries need the ``eval`` extra (``pip install 'storyline[eval]'``: tilse, rouge-score).
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate_clusters", "evaluate_folds", "evaluate_pairs", "evaluate_summaries", "evaluate_timelines",
           "leave_one_set_out"]

_WHERE = {"evaluate_clusters": "stories", "evaluate_folds": "stories", "leave_one_set_out": "stories",
          "evaluate_pairs": "pairs", "evaluate_summaries": "tell", "evaluate_timelines": "tell"}


def __getattr__(name: str) -> Any:
    """Load an evaluation on first use: importing the package never needs the ``eval`` extra."""
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"storyline.evaluation.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'storyline.evaluation' has no attribute {name!r}")
