"""What the batch job writes, built in Spark: the final events and stories with their profiles, the threads
(one ordered task), the articles with their final ids and settled dates, the canonical names and the
document frequencies, as the store's rows (``store.records``). The driver gives only ids (``job.py``)."""

from __future__ import annotations

from typing import Any, Iterator

from storyline.scale import docfreq, resolve, stages, tables

__all__ = ["doc_freq_frame", "final_assignments", "latest", "profiled_records", "record_rows", "registry_rows", "threads", "write_articles"]


def registry_rows(enriched):
    """The registry rows ``_enrich`` wrote, as the ``entities`` dataset (alias, canonical, type, mentions)."""
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(n, t) for n, t in (
        ("alias", T.StringType()), ("canonical", T.StringType()), ("type", T.StringType()), ("mentions", T.LongType()))])

    def rows(frames):
        import pandas as pd

        for frame in frames:
            yield pd.DataFrame([r for blob in frame["registry"] for r in stages.loads(blob)], columns=[f.name for f in schema.fields])

    return enriched.filter(enriched.registry.isNotNull()).select("registry").mapInPandas(rows, schema)


def profiled_records(records, resolved, kind: str):
    """The job's final events (or stories) whole, as rows (id, blob): each lean final record of the pass's
    resolution (``windowing.resolve_pass``) joined with the record row its profile comes from (the piece it
    names) and given it (``resolve.with_profile``). Profiles never reach the driver."""
    from pyspark.sql import functions as F

    finals = resolved.filter(F.col("kind") == kind).select(F.col("window").alias("source"), F.col("id").alias("raw"),
                                                           F.col("blob").alias("final"))
    mine = records.filter(F.col("kind") == kind)
    joined = mine.join(finals, (mine["window"] == finals["source"]) & (mine["id"] == finals["raw"])).select("blob", "final")

    def run(frames):
        import pandas as pd

        for frame in frames:
            out = []
            for blob, final in zip(frame["blob"], frame["final"]):
                record = resolve.with_profile(stages.loads(bytes(final)), stages.loads(bytes(blob))[0])
                out.append((record.id, stages.dumps(record)))
            yield pd.DataFrame(out, columns=["id", "blob"])

    return joined.mapInPandas(run, "id string, blob binary")


def final_assignments(assigned, resolved):
    """Per article (``assign`` rows of the last pass), its final event and story: the piece's final ids
    (``map`` rows of ``windowing.resolve_pass``), or where a later window moved it (``moved`` rows)."""
    from pyspark.sql import functions as F

    def unpack(frames):
        import pandas as pd

        for frame in frames:
            out = []
            for window, blob in zip(frame["window"], frame["blob"]):
                article, raw_event, _raw_story, score, parts, dup = stages.loads(bytes(blob))
                out.append((article, raw_event, int(window), score, parts, dup))
            yield pd.DataFrame(out, columns=["article_id", "raw", "window", "score", "parts", "duplicate_of"])

    rows = assigned.mapInPandas(unpack, "article_id string, raw string, window long, score double, parts string, "
                                        "duplicate_of string")
    mapped = resolved.filter(F.col("kind") == "map").select(F.col("window").alias("m_window"), F.col("id").alias("m_raw"),
                                                            F.col("event").alias("m_event"), F.col("story").alias("m_story"))
    moved = resolved.filter(F.col("kind") == "moved").select(F.col("id").alias("v_article"), F.col("event").alias("v_event"),
                                                             F.col("story").alias("v_story"))
    joined = rows.join(mapped, (rows["window"] == mapped["m_window"]) & (rows["raw"] == mapped["m_raw"]), "left") \
        .join(moved, rows["article_id"] == moved["v_article"], "left")
    was_moved = F.col("v_article").isNotNull()
    return joined.select(
        "article_id",
        F.when(was_moved, F.col("v_event")).otherwise(F.coalesce(F.col("m_event"), F.col("raw"))).alias("event_id"),
        F.when(was_moved, F.col("v_story")).otherwise(F.col("m_story")).alias("story_id"),
        "window", "score", "parts", "duplicate_of")


def threads(story_batches, final_stories):
    """Threads as ``track`` links them (``stages.link_threads``), in one ordered task that streams: the last
    pass's story batches in the run's order, then the final stories. Rows (seq, kind, id, ref, blob): each
    thread record as written (``ref`` its merged_into; the latest ``seq`` per id is the result) and per final
    story its thread (kind ``story``, ``ref`` the thread id)."""
    from pyspark.sql import functions as F

    batches = story_batches.select(F.lit(0).alias("k0"), F.col("id").cast("long").alias("k1"),
                                   F.col("window").alias("k2"), "blob")
    stories = final_stories.select(F.lit(1).alias("k0"), F.lit(0).cast("long").alias("k1"),
                                   F.lit(0).cast("long").alias("k2"), "blob")

    def run(frames):
        import pandas as pd

        rows = ((k0, k1, k2, bytes(blob)) for frame in frames
                for k0, k1, k2, blob in zip(frame["k0"], frame["k1"], frame["k2"], frame["blob"]))
        held: list[bytes] = []  # the first story row, read while looking for the end of the batches

        def replay() -> Iterator[tuple[int, int, list]]:
            for k0, _, window, blob in rows:
                if k0 == 1:
                    held.append(blob)
                    return
                number, changed = stages.loads(blob)
                yield int(number), int(window), changed

        def finals() -> Iterator:
            for blob in held:
                yield stages.loads(blob)
            for _, _, _, blob in rows:
                yield stages.loads(blob)

        out = []
        for seq, (kind, key, ref, record) in enumerate(stages.link_threads(replay(), finals())):
            out.append((seq, kind, key, ref, None if record is None else stages.dumps(record)))
            if len(out) >= 1000:
                yield pd.DataFrame(out, columns=["seq", "kind", "id", "ref", "blob"])
                out = []
        if out:
            yield pd.DataFrame(out, columns=["seq", "kind", "id", "ref", "blob"])

    ordered = batches.unionByName(stories).repartition(1).sortWithinPartitions("k0", "k1", "k2")
    return ordered.mapInPandas(run, "seq long, kind string, id string, ref string, blob binary")


def latest(writes):
    """Of rows written more than once under one id, the last (highest ``seq``)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy("id").orderBy(F.col("seq").desc())
    return writes.withColumn("_n", F.row_number().over(order)).filter(F.col("_n") == 1).drop("_n")


def record_rows(frame, kind: str):
    """Final records (a ``blob`` column; stories may carry ``thread_id``) as the store's rows (``store.records``)."""
    from pyspark.sql import types as T

    from storyline.store.records import RECORD_COLUMNS, event_row, story_row, thread_row

    names = RECORD_COLUMNS[kind]
    binary = {"centroid", "embedding_sum"}
    schema = T.StructType([T.StructField(n, T.BinaryType() if n in binary else T.StringType()) for n in names])
    convert = {"event": event_row, "story": story_row, "thread": thread_row}[kind]
    threaded = "thread_id" in frame.columns

    def run(frames):
        import pandas as pd

        for frame in frames:
            out = []
            for i, blob in enumerate(frame["blob"]):
                record = stages.loads(bytes(blob))
                if threaded:
                    thread = frame["thread_id"].iloc[i]
                    record.thread_id = None if stages.is_missing(thread) else thread
                out.append(convert(record))
            yield pd.DataFrame(out, columns=list(names))

    return frame.select("blob", *(["thread_id"] if threaded else [])).mapInPandas(run, schema)


def doc_freq_frame(spark, state: docfreq.DocFreqState):
    """The document frequencies after the last article as the store keeps them (``Store.doc_freq``): per term
    the articles that carry it and the same at the IDF snapshot (the two document counts go in ``summary``)."""
    from pyspark.sql import types as T

    _, counts, _, snapshot = state
    schema = T.StructType([T.StructField(n, t) for n, t in (("term", T.StringType()), ("n", T.LongType()), ("n_idf", T.LongType()))])
    return tables.distributed(spark, [(t, n, snapshot.get(t, 0)) for t, n in sorted(counts.items())], schema)


def write_articles(windowed, assignments, offsets_b, batch_size: int, path: str) -> None:
    """The articles as store rows, with their final event and story, and partial dates
    settled per story as ``track`` settles them (``stages.settle_story_dates``, grouped by story in Spark)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from storyline.store import PLACED

    schema = tables.article_schema()
    order = Window.partitionBy("window").orderBy(F.col("published").asc_nulls_last(), F.col("ord"))
    joined = windowed.drop("event_id", "story_id", "duplicate_of").join(
        assignments.select(assignments.article_id.alias("id"), "event_id", "story_id", "duplicate_of"), "id", "left") \
        .withColumn("rank", F.row_number().over(order) - 1)
    columns = [f.name for f in schema.fields]
    joined = joined.select(*columns, "window", "rank")

    def convert(rows: list[dict]) -> list[tuple[int, Any, dict]]:
        offsets = offsets_b.value
        out = []
        for r in sorted(rows, key=lambda r: (r["window"], r["rank"])):
            article = stages.article_from_row(r)
            out.append(((offsets[r["window"]] + r["rank"]) // batch_size, article, r))
        return out

    def row(article, r) -> dict:
        return {"ord": r["ord"], **stages.article_to_row(article, PLACED if article.event_id else r["stage"])}

    def story(frame):  # one final story's members
        members = convert(list(tables.rows(frame)))
        stages.settle_story_dates((number, article) for number, article, _ in members)
        return tables.pandas_frame([row(article, r) for _, article, r in members], schema)

    def unplaced(frames):
        for frame in frames:
            yield tables.pandas_frame([row(article, r) for _, article, r in convert(list(tables.rows(frame)))], schema)

    placed = joined.filter(F.col("story_id").isNotNull()).groupBy("story_id").applyInPandas(story, schema)
    rest = joined.filter(F.col("story_id").isNull()).mapInPandas(unplaced, schema)
    placed.unionByName(rest).sortWithinPartitions("ord").write.mode("overwrite").parquet(path)


