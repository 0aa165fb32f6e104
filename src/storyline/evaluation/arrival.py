"""Does the answer depend on the order news arrives in? The same enriched articles placed in one run in date
order, in daily deliveries, shuffled within each week (deliveries of 1-4 articles, so articles arrive up
to a week late), in POSTs of 20 or one by one in the order they were given (a feed or a client that
does not sort), and as a backfill (daily deliveries, newest day first), each on ``Pipeline.place``, compared with the one run by BCubed at every level.

Online clustering decides each article against what exists when it arrives, so some difference is expected:
these figures are the tolerance the README's Guarantees state, and the tests hold the pipeline to them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from storyline.evaluation.product import EnrichedSet, cluster_ids, placed_store
from storyline.evaluation.scores import bcubed
from storyline.store import ENRICHED, Store

__all__ = ["ORDERS", "agreement", "deliveries", "place_in_deliveries"]

ORDERS = ("one run", "daily", "shuffled within a week", "posts of 20", "one by one", "backfill")
LEVELS = ("event", "story", "thread")


def deliveries(dates: dict[str, dt.date | None], order: str, seed: int = 7) -> list[list[str]]:
    """The article ids of each delivery, for one of ``ORDERS``. ``dates`` lists the articles in the order
    they were given. Sorted orders deliver undated articles last, in one delivery (they lean on dated ones:
    ``track`` places them after the dated ones of a run too); the posts keep the given order throughout."""
    given = list(dates)
    if order in ("posts of 20", "one by one"):
        size = 20 if order == "posts of 20" else 1
        return [given[i : i + size] for i in range(0, len(given), size)]
    dated = sorted((k for k, d in dates.items() if d is not None), key=lambda k: (dates[k], k))
    undated = sorted(k for k, d in dates.items() if d is None)
    if order == "one run":
        return [dated + undated]
    groups: dict[object, list[str]] = {}
    if order in ("daily", "backfill"):  # a backfill: an archive delivered a day at a time, newest day first
        for key in dated:
            groups.setdefault(dates[key], []).append(key)
        out = list(groups.values())[:: -1 if order == "backfill" else 1]
    elif order == "shuffled within a week":
        for key in dated:
            groups.setdefault(dates[key].isocalendar()[:2], []).append(key)
        rng, out = random.Random(seed), []
        for week in groups.values():
            week = list(week)
            rng.shuffle(week)
            while week:
                size = rng.randint(1, 4)
                out.append(week[:size])
                week = week[size:]
    else:
        raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
    return out + ([undated] if undated else [])


def place_in_deliveries(enriched: EnrichedSet, path: str | Path, groups: Sequence[Sequence[str]],
                        levels: Sequence[str] = LEVELS) -> dict[str, dict[str, str]]:
    """The enriched set placed one delivery at a time (``placed_store``); level -> article id -> cluster id."""
    path = placed_store(enriched, path, deliveries=groups)
    try:
        with Store(path) as store:
            return cluster_ids(store, [k for group in groups for k in group], levels)
    finally:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def agreement(enriched: EnrichedSet, workdir: str | Path, orders: Sequence[str] = ORDERS[1:],
              seed: int = 7) -> dict[str, dict[str, float]]:
    """order -> level -> BCubed F1 of that order's clusters against the one run's (1.0: the same partition)."""
    with Store(enriched.path) as store:  # in the order they were ingested
        dates = {a.id: a.published for a in store.articles(stage=ENRICHED)}
    placed = {order: place_in_deliveries(enriched, Path(workdir) / f"{enriched.name}-arrival-{i}.db",
                                         deliveries(dates, order, seed))
              for i, order in enumerate(dict.fromkeys(("one run", *orders)))}  # fmt: skip
    base = placed["one run"]
    return {order: {lv: round(bcubed(placed[order][lv], base[lv])[2], 4) for lv in LEVELS}
            for order in orders if order != "one run"}
