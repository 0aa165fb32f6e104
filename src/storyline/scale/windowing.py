"""Story windows on Spark: the job's step 3 (``job.py`` runs it; ``stages.py`` holds what each task runs).

The articles get their window (``with_window``: cuts on ``track``'s placement batches), each window's
document frequencies are summed (``doc_freq``), and each placement pass places the windows it is given, each
in a task of its own (``window_slots``, ``place_pass``), from their context: the records earlier windows
formed that are still open at their start (``context_rows``), ``track``'s member exemplars
(``exemplar_rows``) and the document frequencies; ``window_digests`` says whose context changed. A pass's
ids are followed back in one ordered task (``resolve_pass``, ``rolling.py``) whose memory is the records still
open: nothing per article reaches the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storyline.scale import docfreq, resolve, stages, tables, write

if TYPE_CHECKING:
    from storyline.scale.job import BatchConfig

__all__ = ["RESOLVED_SCHEMA", "context_rows", "doc_freq", "doc_freq_in_spark", "exemplar_rows", "place_pass",
           "resolve_pass", "sorted_articles", "window_digests", "window_offsets", "window_sizes", "window_slots", "with_window"]


def with_window(spark, enriched, config: BatchConfig):
    """The articles with their story window (``stages.window_cuts``, ``stages.window_of``), from the articles
    per day: one row per publication day on the driver (tens of thousands for a century). Where a window
    starts inside a day, each article of that day gets its rank in ``track``'s placement order (publication
    time, then input order). Undated articles join the last dated window, which places them after its dated
    ones, where ``track`` places them: a window of their own would wait a pass more for what the last window
    formed, and restore it instead of going on from it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    dated = enriched.withColumn("day", F.datediff(F.to_date("published"), F.lit("1970-01-01")).cast("long"))
    counts = {r["day"]: r["count"] for r in dated.filter(F.col("day").isNotNull()).groupBy("day").count().collect()}
    cuts = sorted(stages.window_cuts(counts, config.windows or config.partitions, config.window_days, config.batch_size).items())
    split = sorted(day for day, rank in cuts if rank)
    if split:  # only the days a window starts inside need the rank
        order = Window.partitionBy("day").orderBy(F.col("published"), F.col("ord"))
        dated = dated.withColumn("rank", F.when(F.col("day").isin(split), F.row_number().over(order) - 1).otherwise(F.lit(0)))
    else:
        dated = dated.withColumn("rank", F.lit(0))
    window = F.udf(lambda day, rank: stages.window_of(cuts, day, rank), T.LongType())
    return dated.withColumn("window", window(F.col("day"), F.col("rank"))).drop("day", "rank")


def sorted_articles(frame) -> list:
    """A window's articles in ``track``'s placement order: oldest first, undated last, then input order."""
    rows = sorted(tables.rows(frame), key=lambda r: (r["published"] is None, r["published"] or "", r["ord"]))
    return [stages.article_from_row(r) for r in rows]


def window_sizes(windowed) -> dict[int, int]:
    """Articles per window."""
    return {r["window"]: r["count"] for r in windowed.groupBy("window").count().collect()}


def window_offsets(sizes: dict[int, int]) -> dict[int, int]:
    """Per window, the placement position (in the whole run) of its first article."""
    offsets, total = {}, 0
    for window in sorted(sizes):
        offsets[window] = total
        total += sizes[window]
    return offsets


def doc_freq(spark, windowed, offsets_b, sizes: dict[int, int], slots, config: BatchConfig):
    """(per-window rows of the document frequencies a window starts from, as context rows; the final ones as
    the ``doc_freq`` dataset; (documents, IDF documents) at the end). Each window's terms are counted in
    parallel; the sums are taken on the driver up to ``config.driver_doc_freq_entries``, past it in Spark."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    blob_schema = T.StructType([T.StructField("window", T.LongType()), T.StructField("terms", T.LongType()),
                                T.StructField("blob", T.BinaryType())])

    def run(frame):  # one window's articles: one row, its ``window_terms``
        import pandas as pd

        window = int(frame["window"].iloc[0])
        terms = docfreq.window_terms(sorted_articles(frame), offsets_b.value[window])
        return pd.DataFrame([(window, len(terms[1]), stages.dumps(terms))], columns=["window", "terms", "blob"])

    def rows(frames):  # the windows' terms as rows (window, point, term, count), for the sums in Spark
        for frame in frames:
            out = [r for w, blob in zip(frame["window"], frame["blob"]) for r in docfreq.term_rows(int(w), stages.loads(blob))]
            yield tables.pandas_frame([dict(zip(("window", "point", "term", "count"), r)) for r in out], _terms_schema())

    terms = _slotted(windowed, slots).groupBy("slot").applyInPandas(run, blob_schema).persist()
    plan = docfreq.doc_freq_plan(sizes, config.batch_size)
    totals = (plan.docs[docfreq.FINAL], (plan.idf[docfreq.FINAL] or (0,))[0])
    # the sums' size: at most every window holding the whole vocabulary (counted only when the windows'
    # own terms alone could pass the limit)
    entries = (terms.agg(F.sum("terms")).first()[0] or 0) * len(sizes)
    if entries > config.driver_doc_freq_entries:
        entries = terms.mapInPandas(rows, _terms_schema()).select("term").distinct().count() * len(sizes)
    if entries <= config.driver_doc_freq_entries:
        windows = {r["window"]: stages.loads(r["blob"]) for r in terms.select("window", "blob").toLocalIterator()}
        states, final = docfreq.doc_freq_states(windows, config.batch_size)
        states_rows = [(w, w, "docfreq", None, None, stages.dumps(state)) for w, state in sorted(states.items())]
        context, final_frame = tables.distributed(spark, states_rows, tables.records_schema(context=True)), write.doc_freq_frame(spark, final)
    else:
        context, final_frame = doc_freq_in_spark(spark, terms.mapInPandas(rows, _terms_schema()), plan)
        context, final_frame = context.persist(), final_frame.persist()
        context.count(), final_frame.count()
    terms.unpersist()
    return context, final_frame, totals


def _terms_schema():
    from pyspark.sql import types as T

    return T.StructType([T.StructField("window", T.LongType()), T.StructField("point", T.LongType()),
                         T.StructField("term", T.StringType()), T.StructField("count", T.LongType())])


def doc_freq_in_spark(spark, terms, plan: docfreq.DocFreqPlan):
    """``docfreq.doc_freq_states`` summed in Spark: each window's (and the final) counts are the sum of the
    whole windows before a cut plus one window's partial counts (``docfreq.DocFreqPlan``); only the plan, one
    row per window, is on the driver. ``terms``: rows (window, point, term, count) of ``docfreq.term_rows``."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    everything = 2**62  # a cut of None: every window
    specs = []
    for target in plan.docs:
        specs.append((target, "counts", everything if target == docfreq.FINAL else target, None))
        for part, entry in (("idf", plan.idf[target]), ("end", plan.end[target])):
            if entry is not None:
                window, point = entry[1]
                specs.append((target, part, everything if window is None else window, point))
    spec = spark.createDataFrame(specs, "target long, part string, cut long, cut_point long")
    whole = terms.filter(F.col("point").isNull()).alias("t").join(
        F.broadcast(spec.alias("s")), F.col("t.window") < F.col("s.cut"))
    partial = terms.filter(F.col("point").isNotNull()).alias("t").join(
        F.broadcast(spec.filter(F.col("cut_point").isNotNull()).alias("s")),
        (F.col("t.window") == F.col("s.cut")) & (F.col("t.point") == F.col("s.cut_point")))
    summed = whole.unionByName(partial).groupBy("s.target", "s.part", "t.term").agg(F.sum("t.count").alias("count"))
    summed = summed.select(F.col("target"), F.col("part"), F.col("term"), F.col("count"))
    # one row per target whatever it sums (the first window sums nothing, yet needs its docfreq row)
    seeds = spec.select("target").distinct().select("target", F.lit("seed").alias("part"),
                                                     F.lit(None).cast("string").alias("term"), F.lit(0).cast("long").alias("count"))
    summed = summed.unionByName(seeds)
    plan_b = spark.sparkContext.broadcast(plan)

    def assemble(frame):
        import pandas as pd

        target = int(frame["target"].iloc[0])
        parts: dict[str, dict[str, int]] = {"counts": {}, "idf": {}, "end": {}}
        for part, term, count in zip(frame["part"], frame["term"], frame["count"]):
            if part != "seed":
                parts[part][term] = int(count)
        blob = docfreq.docfreq_blob(plan_b.value, target, parts)
        return pd.DataFrame([(target, target, "docfreq", None, None, blob)],
                            columns=["window", "source", "kind", "id", "last_day", "blob"])

    windows = summed.filter(F.col("target") != docfreq.FINAL)
    context = windows.groupBy("target").applyInPandas(assemble, tables.records_schema(context=True))
    final = summed.filter((F.col("target") == docfreq.FINAL) & F.col("term").isNotNull()).groupBy("term").agg(
        F.sum(F.when(F.col("part") == "counts", F.col("count")).otherwise(0)).cast(T.LongType()).alias("n"),
        F.sum(F.when(F.col("part") == "idf", F.col("count")).otherwise(0)).cast(T.LongType()).alias("n_idf"))
    return context, final.select("term", "n", "n_idf")


def context_rows(records, targets):
    """For each window, the record rows a pass wrote in earlier windows that are still open at its start, with
    the final ids the window restores an event under (``event``, ``story``): ``targets`` are the pass's
    ``target`` rows (``resolve_pass``). A bounded context, whatever the archive's length."""
    pairs = targets.select("window", "record", "id", "target", "event", "story")
    joined = records.join(pairs, (records["window"] == pairs["window"]) & (records["kind"] == pairs["record"])
                          & (records["id"] == pairs["id"]))
    return joined.select(pairs["target"].alias("window"), pairs["window"].alias("source"), records["kind"], records["id"],
                         records["last_day"], records["blob"], pairs["event"], pairs["story"])


def exemplar_rows(spark, windowed, offsets: dict[int, int], keep: int):
    """Per window after the first, the ``keep`` articles placed last before it, as context rows (kind
    ``exemplar``, the article row pickled, its placement position as ``last_day``): the member exemplars
    ``track``'s placer holds when the window starts (``PlacementConfig.exemplars``), so a window's refinement
    can move a restored member as ``track``'s does. Bounded by ``keep`` whatever the archive's length."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    order = Window.partitionBy("window").orderBy(F.col("published").asc_nulls_last(), F.col("ord"))
    starts = spark.createDataFrame([(w, float(offsets[w] - keep), float(offsets[w])) for w in sorted(offsets)[1:]],
                                   "target long, lo double, hi double")
    position = F.udf(lambda w, rank: offsets[w] + rank, T.LongType())
    positioned = windowed.withColumn("position", position(F.col("window"), F.row_number().over(order) - 1))
    joined = positioned.join(F.broadcast(starts), (F.col("position") >= F.col("lo")) & (F.col("position") < F.col("hi")))
    columns = [f.name for f in tables.article_schema().fields]

    def rows(frames):
        import pandas as pd

        for frame in frames:
            out = [(r["target"], r["window"], "exemplar", r["id"], r["position"], stages.dumps({c: r[c] for c in columns}))
                   for r in tables.rows(frame)]
            yield pd.DataFrame(out, columns=["window", "source", "kind", "id", "last_day", "blob"])

    return joined.select(*columns, "window", "target", "position").mapInPandas(rows, tables.records_schema(context=True))


def _restored_view(rows: list[dict]) -> dict[tuple[int, str], tuple[str, str]] | None:
    """The final ids a window restores its context's events under (``context_rows``; ``Resolution.before``);
    None when it restores none (pass 1)."""
    view = {(r["source"], r["id"]): (r["event"], r["story"]) for r in rows if r["kind"] == "event"}
    return view or None


def window_digests(context, members_only: bool) -> dict[int, tuple[str, int]]:
    """Per window, (``resolve.context_digest`` of what it would restore, how many record rows that is)."""
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField("window", T.LongType()), T.StructField("digest", T.StringType()),
                           T.StructField("records", T.LongType())])

    def run(frame):
        import pandas as pd

        rows, window = list(tables.rows(frame)), int(frame["window"].iloc[0])
        digest = resolve.context_digest(rows, _restored_view(rows), members_only)
        return pd.DataFrame([(window, digest, sum(r["kind"] in ("event", "story") for r in rows))],
                            columns=["window", "digest", "records"])

    return {r["window"]: (r["digest"], r["records"]) for r in context.groupBy("window").applyInPandas(run, schema).collect()}


def window_slots(spark, sizes: dict[int, int]):
    """A frame (window, slot): the key each window is grouped by, so that the windows spread evenly over the
    tasks a grouping makes (``tables.spread_keys``; as many as the session's shuffle partitions)."""
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    rows = sorted(tables.spread_keys(sizes, partitions).items())
    return spark.createDataFrame(rows, "window long, slot long")


def _slotted(frame, slots):
    """``frame`` with each row's window's ``slot`` (a broadcast join: one row a window). The columns are
    aliased anew each time, so the two sides of a cogroup do not share one ``slot`` (Spark refuses that as
    an ambiguous self-join)."""
    from pyspark.sql import functions as F

    return frame.join(F.broadcast(slots.select(F.col("window").alias("window"), F.col("slot").alias("slot"))), "window")


def place_pass(windowed, context, offsets_b, slots, config: BatchConfig):
    """One placement pass over every window in parallel (``stages.place_pass_window``), each window in a task
    of its own while there are tasks to spare (grouped by ``slot``, not by the window's name)."""
    def run(frame, context):
        import pandas as pd

        if frame.empty:
            return pd.DataFrame([], columns=["window", "kind", "id", "last_day", "blob"])
        window = int(frame["window"].iloc[0])
        restored = list(tables.rows(context))
        rows = stages.place_pass_window(window, sorted_articles(frame), restored, _restored_view(restored),
                                        offsets_b.value[window], config.batch_size)
        return pd.DataFrame(rows, columns=["window", "kind", "id", "last_day", "blob"])

    return _slotted(windowed, slots).groupBy("slot").cogroup(_slotted(context, slots).groupBy("slot")) \
        .applyInPandas(run, tables.records_schema())


RESOLVED_SCHEMA = "kind string, window long, record string, id string, target long, event string, story string, blob binary"


def resolve_pass(records, windows: list[int], event_days: int, story_days: int):
    """A pass's id resolution (``rolling.resolve_windows``) as one ordered task, checkpointed: rows (kind,
    window, record, id, target, event, story, blob) of ``target`` (``window`` the source, ``record`` its kind,
    ``target`` the window that restores it, ``event``/``story`` the final ids it restores an event under),
    ``map`` (per piece (``window``, ``id``) its final ids), ``event``/``story`` (the final records, lean, in
    ``blob``; ``window``/``id`` the piece whose profile they carry, ``event``/``story`` their final ids),
    ``moved`` (``id`` an article a window moved, its final ids) and one ``stat`` (``blob``: JSON). The task's
    memory is the open records and the hints (``rolling.Hints``), which a first job gathers (one row per
    restored record and per moved article); records arrive lean (``resolve.lean``), in window order and, within
    a window, in the order its task wrote them."""
    from pyspark.sql import functions as F

    from storyline.scale import rolling

    records = records.filter(F.col("kind").isin("event", "story")).withColumn("seq", F.monotonically_increasing_id())

    def hints(frames):
        import pandas as pd

        for frame in frames:
            out = []
            for window, blob in zip(frame["window"], frame["blob"]):
                _, restored, _, moved = resolve.loads(bytes(blob))
                out.extend(rolling.hint_rows(int(window), restored, moved))
            yield pd.DataFrame(out, columns=["kind", "id", "window"])

    ahead = records.mapInPandas(hints, "kind string, id string, window long").groupBy("kind", "id") \
        .agg(F.max("window").alias("window"))
    rows = ahead.select(F.lit(0).alias("k0"), "window", F.lit(0).cast("long").alias("seq"), "kind", "id",
                        F.lit(None).cast("binary").alias("blob")) \
        .unionByName(records.select(F.lit(1).alias("k0"), "window", "seq", "kind", "id", "blob"))

    def run(frames):
        import itertools

        import pandas as pd

        stream = ((k0, int(w), kind, key, blob) for frame in frames
                  for k0, w, kind, key, blob in zip(frame["k0"], frame["window"], frame["kind"], frame["id"], frame["blob"]))
        ahead = rolling.Hints()
        first = None
        for row in stream:
            if row[0] == 1:
                first = row
                break
            ahead.add(row[2], row[3], row[1])
        pieces = itertools.chain([first] if first is not None else [], stream)

        def placements():
            for window, group in itertools.groupby(pieces, key=lambda r: r[1]):
                yield resolve.placements_of({"window": window, "kind": kind, "blob": resolve.lean_blob(bytes(blob))}
                                            for _, _, kind, _, blob in group)[window]

        out = []
        for row in rolling.resolve_windows(placements(), windows, ahead, event_days, story_days):
            out.append(_resolved_row(row))
            if len(out) >= 2000:
                yield pd.DataFrame(out, columns=_RESOLVED_COLUMNS)
                out = []
        yield pd.DataFrame(out, columns=_RESOLVED_COLUMNS)

    ordered = rows.repartition(1).sortWithinPartitions("k0", "window", "seq")
    return ordered.mapInPandas(run, RESOLVED_SCHEMA).localCheckpoint()


_RESOLVED_COLUMNS = ["kind", "window", "record", "id", "target", "event", "story", "blob"]


def _resolved_row(row: tuple) -> tuple:
    """One ``rolling.resolve_windows`` row in ``RESOLVED_SCHEMA``'s columns."""
    import json

    kind = row[0]
    if kind == "target":
        _, source, record, raw, target, event, story = row
        return kind, source, record, raw, target, event, story, None
    if kind == "map":
        _, window, raw, event, story = row
        return kind, window, "event", raw, None, event, story, None
    if kind in ("event", "story"):
        _, record, window, raw = row
        event, story = (record.id, record.story_id) if kind == "event" else (None, record.id)
        return kind, window, kind, raw, None, event, story, resolve.dumps(record)
    if kind == "moved":
        _, article, event, story = row
        return kind, None, None, article, None, event, story, None
    return kind, None, None, None, None, None, None, json.dumps(row[1]).encode()
