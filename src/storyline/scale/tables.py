"""Spark and pandas frames for the batch job: the schemas its rows travel in and the moves between the driver
and Spark (rows of a pandas frame, a frame from rows, driver rows as a distributed frame) and where Spark's
shuffle sends a key. Shared by ``job.py`` and ``write.py``; no stage logic here."""

from __future__ import annotations

from typing import Any, Iterator

from storyline.scale import stages

__all__ = ["article_schema", "distributed", "pandas_frame", "records_schema", "rows", "shuffle_partition", "spread_keys"]


def article_schema(extra: tuple[tuple[str, Any], ...] = (), rows_without_ord: bool = False):
    """``rows_without_ord``: the frame also holds rows that are not articles (``_enrich``'s registry rows)."""
    from pyspark.sql import types as T

    binary = {"embedding", "fingerprint"}
    ints = {"text_offset", "stage"}
    fields = [T.StructField("ord", T.StringType(), rows_without_ord)]
    for name in stages.ARTICLE_COLUMNS:
        kind = T.BinaryType() if name in binary else T.LongType() if name in ints else \
            T.DoubleType() if name == "language_confidence" else T.StringType()
        fields.append(T.StructField(name, kind, True))
    fields += [T.StructField(n, t, True) for n, t in extra]
    return T.StructType(fields)


def records_schema(context: bool = False):
    """Rows of a placement pass: (window, kind, id, last day, blob); as context, ``window`` is the window
    that restores the row and ``source`` the one that wrote it."""
    from pyspark.sql import types as T

    source = [T.StructField("source", T.LongType())] if context else []
    return T.StructType([T.StructField("window", T.LongType()), *source, T.StructField("kind", T.StringType()),
                         T.StructField("id", T.StringType()), T.StructField("last_day", T.LongType()),
                         T.StructField("blob", T.BinaryType())])


def rows(frame) -> Iterator[dict[str, Any]]:
    for record in frame.to_dict("records"):
        yield {k: (None if stages.is_missing(v) else v) for k, v in record.items()}


def pandas_frame(rows: list[dict[str, Any]], schema):
    import pandas as pd

    names = [f.name for f in schema.fields]
    return pd.DataFrame([[r.get(n) for n in names] for r in rows], columns=names)


def distributed(spark, rows: list[tuple], schema):
    """Driver rows as a DataFrame whose plan does not embed them (``createDataFrame`` of a list does: every
    plan built on it, and the name Spark gives each cached frame, would carry the data)."""
    return spark.createDataFrame(spark.sparkContext.parallelize(rows, max(1, min(len(rows) // 1000, 64))), schema)


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0xCC9E2D51) & 0xFFFFFFFF
    k1 = ((k1 << 15) | (k1 >> 17)) & 0xFFFFFFFF
    return (k1 * 0x1B873593) & 0xFFFFFFFF


def _mix_h1(h1: int, k1: int) -> int:
    h1 ^= k1
    h1 = ((h1 << 13) | (h1 >> 19)) & 0xFFFFFFFF
    return (h1 * 5 + 0xE6546B64) & 0xFFFFFFFF


def shuffle_partition(key: int, partitions: int) -> int:
    """The shuffle partition Spark sends a row to when it groups by one long column holding ``key``:
    ``pmod(hash(key), partitions)``, its Murmur3 x86_32 with seed 42 (``HashPartitioning``), computed here so
    the job can choose group keys that land where it wants without asking Spark."""
    h1 = _mix_h1(42, _mix_k1(key & 0xFFFFFFFF))
    h1 = _mix_h1(h1, _mix_k1((key >> 32) & 0xFFFFFFFF))
    h1 ^= 8
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & 0xFFFFFFFF
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & 0xFFFFFFFF
    h1 ^= h1 >> 16
    signed = h1 - (1 << 32) if h1 & 0x80000000 else h1
    return signed % partitions


def spread_keys(loads: dict[int, int], partitions: int) -> dict[int, int]:
    """A group key for each item (here: story windows, with their sizes) such that grouping by it sends the
    items to ``partitions`` shuffle partitions evenly by load: the largest first, each to the least loaded
    partition (longest-processing-time first). Spark hashes the group key, so two windows grouped by their own
    names shared one task about as often as not with two partitions (on 10,000 articles pass 1 then placed
    both windows one after the other: 29.3 s, where one worker placing all of them took 31.7 s). Each key
    is ``rank * stride + j`` for the item's rank in sorted order and the first j that lands where wanted:
    distinct keys, one per item, so a group is still one item."""
    stride = 64 * partitions
    totals = [0] * partitions
    keys: dict[int, int] = {}
    ranks = {item: rank for rank, item in enumerate(sorted(loads))}
    for item in sorted(loads, key=lambda i: (-loads[i], i)):
        target = min(range(partitions), key=lambda p: (totals[p], p))
        totals[target] += loads[item]
        base = ranks[item] * stride
        keys[item] = next((base + j for j in range(stride) if shuffle_partition(base + j, partitions) == target), base)
    return keys
