"""The batch job on Spark: ingest → normalize → enrich with ``mapInPandas``, then stories by time window.

Steps (each a Spark stage; ``stages.py`` holds what the tasks run):

1. read: files (any format ``storyline ingest`` reads, via Spark's ``binaryFile`` source) or a Parquet
   table; each record gets an input position that sorts like ``track``'s arrival order; clean; drop
   re-posts (same id or same text: the first one wins, as in the store).
2. enrich: range partitions in input order, ``pipeline.enrich_articles`` per batch, models loaded once
   per Python worker; written to ``OUTPUT/enriched`` (the checkpoint the later steps read).
3. canonical names: each partition's names replayed through one registry in input order (driver).
4. stories: articles grouped by time window. Pass 1 places every window on its own (parallel). Pass 2
   places every window again (parallel) after restoring the events and stories pass 1 formed in the
   windows before it, so whether an article continues an earlier event, or an event an earlier story,
   is decided by ``StoryPlacer`` itself. The raw ids are then followed back window by window to final
   ids (``stages.resolve_ids``).
5. write ``articles``, ``events``, ``stories``, ``assignments``, ``entities``, ``rejects`` (Parquet) and
   ``summary`` last. Every dataset is overwritten whole, so a killed run re-run on the same OUTPUT
   leaves no duplicates; ``summary`` exists only when a run finished.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import sys
import time
from collections import defaultdict
from typing import Any, Iterator

from storyline.scale import stages

__all__ = ["BatchConfig", "BatchResult", "run_batch", "session"]

DATASETS = ("enriched", "articles", "events", "stories", "assignments", "entities", "rejects")


@dataclasses.dataclass(frozen=True)
class BatchConfig:
    partitions: int = 2  # enrichment partitions (and shuffle partitions)
    # story formation window. Measured on examples/ against `track` (tests/scale): 365 days with the whole
    # history as context gives the same events and story BCubed 0.984; 30 days (12x the parallelism
    # per year) gives events 0.995 / stories 0.949 with a 400-day context (README, "Spark")
    window_days: int = 365
    # how far back (days) a window restores the events and stories earlier windows formed. Beyond the
    # placer's own reach (30 days for events) they take no members, but they carry the document
    # frequencies ``track`` accumulates over its whole history. None: the whole history (what matches
    # ``track``; the cost grows with it); 400 (the story window) bounds it for archives of many years
    context_days: int | None = None
    embedder: str = "use"
    input_format: str | None = None  # "files" or "parquet"; None: parquet when the path ends in .parquet


@dataclasses.dataclass
class BatchResult:
    counts: dict[str, Any]
    seconds: dict[str, float]


def session(master: str | None = "local[2]", partitions: int = 2, app: str = "storyline-batch"):
    """A Spark session for the job; under ``spark-submit`` (master None) the submitted settings rule."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    spark = (
        builder.config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")  # models stay loaded between tasks
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")  # partitions decide names: keep them
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("STORYLINE_SPARK_DRIVER_MEMORY", "2g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ----------------------------------------------------------------------------- schemas
def _article_schema(extra: tuple[tuple[str, Any], ...] = ()):
    from pyspark.sql import types as T

    binary = {"embedding", "fingerprint"}
    ints = {"text_offset", "stage"}
    fields = [T.StructField("ord", T.StringType(), False)]
    for name in stages.ARTICLE_COLUMNS:
        kind = T.BinaryType() if name in binary else T.LongType() if name in ints else \
            T.DoubleType() if name == "language_confidence" else T.StringType()
        fields.append(T.StructField(name, kind, True))
    fields += [T.StructField(n, t, True) for n, t in extra]
    return T.StructType(fields)


def _records_schema():
    from pyspark.sql import types as T

    return T.StructType([T.StructField("window", T.LongType()), T.StructField("kind", T.StringType()),
                         T.StructField("id", T.StringType()), T.StructField("last_day", T.LongType()),
                         T.StructField("blob", T.BinaryType())])


def _rows(frame) -> Iterator[dict[str, Any]]:
    for record in frame.to_dict("records"):
        yield {k: (None if stages.is_missing(v) else v) for k, v in record.items()}


def _frame(rows: list[dict[str, Any]], schema):
    import pandas as pd

    names = [f.name for f in schema.fields]
    return pd.DataFrame([[r.get(n) for n in names] for r in rows], columns=names)


# ----------------------------------------------------------------------------- 1. read + clean
def _list_files(spark, path: str) -> dict[str, str]:
    """path -> input position of each file, in the order ``read_path`` walks a folder."""
    from storyline.ingest import is_skipped, walk_key

    listed = [r.path for r in spark.read.format("binaryFile").option("recursiveFileLookup", "true")
              .load(path).select("path").collect()]
    root = _uri(spark, path)
    keyed = []
    for full in listed:
        relative = full[len(root):].lstrip("/") if full.startswith(root) else full.rsplit("/", 1)[-1]
        parts = relative.split("/") if relative else [full.rsplit("/", 1)[-1]]
        if any(p.startswith(".") for p in parts[:-1]) or is_skipped(parts[-1]):
            continue
        keyed.append((walk_key("/".join(parts)), full))
    return {full: f"{rank:010d}" for rank, (_, full) in enumerate(sorted(keyed))}


def _uri(spark, path: str) -> str:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return str(fs.makeQualified(hadoop_path).toString()).rstrip("/")


def _read(spark, path: str, config: BatchConfig, now: dt.datetime):
    """(articles, rejects): cleaned articles with their input position, and every record that failed."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = _article_schema((("reject", T.StringType()),))
    parquet = config.input_format == "parquet" or (config.input_format is None and path.rstrip("/").endswith(".parquet"))
    from storyline.store import INGESTED

    def emit(items, positions) -> Iterator[dict[str, Any]]:
        for item, position in zip(stages.clean_items(items, now), positions):
            if isinstance(item, stages.Rejection):
                yield {"ord": position, "origin": item.origin, "reject": item.reason}
            else:
                yield {"ord": position, **stages.article_to_row(item, INGESTED), "reject": None}

    if parquet:
        table = spark.read.parquet(path)
        table = table.select(F.struct(*table.columns).alias("record"),
                             F.input_file_name().alias("file"), F.monotonically_increasing_id().alias("n"))

        def convert(frames):
            for frame in frames:
                rows = list(_rows(frame))
                origins = [f"{r['file']}[{r['n']}]" for r in rows]
                records = [(o, {k: v for k, v in (r["record"] or {}).items()}) for o, r in zip(origins, rows)]
                yield _frame(list(emit(stages.documents_of_records(records), [f"{r['n']:020d}" for r in rows])), schema)

        frame = table.mapInPandas(convert, schema)
    else:
        ranks = _list_files(spark, path)
        ranks_b = spark.sparkContext.broadcast(ranks)
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path).select("path", "content")

        def convert(frames):
            rank = ranks_b.value
            for frame in frames:
                out: list[dict[str, Any]] = []
                for row in _rows(frame):
                    if row["path"] not in rank:
                        continue
                    name = row["path"].removeprefix("file:")
                    items = list(stages.documents_of_file(name, bytes(row["content"])))
                    positions = [f"{rank[row['path']]}.{i:09d}" for i in range(len(items))]
                    out.extend(emit(items, positions))
                yield _frame(out, schema)

        frame = files.mapInPandas(convert, schema)
    return frame


def _dedupe(articles):
    """Keep the first article per id, then per content hash (input order), as the store does."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_id = Window.partitionBy("id").orderBy("ord")
    ranked = articles.withColumn("_n", F.row_number().over(by_id))
    first = ranked.filter("_n = 1").drop("_n")
    by_hash = Window.partitionBy("content_hash").orderBy("ord")
    ranked = first.withColumn("_n", F.row_number().over(by_hash))
    return ranked.filter("_n = 1").drop("_n")


# ----------------------------------------------------------------------------- 2. enrich
def _enrich(articles, config: BatchConfig):
    schema = _article_schema()
    embedder = config.embedder

    def run(frames):
        rows = (r for frame in frames for r in _rows(frame))
        batch: list[dict] = []
        for row in stages.enrich_rows(rows, embedder):
            batch.append(row)
            if len(batch) >= 64:
                yield _frame(batch, schema)
                batch = []
        if batch:
            yield _frame(batch, schema)

    ordered = articles.repartitionByRange(config.partitions, "ord").sortWithinPartitions("ord")
    return ordered.mapInPandas(run, schema)


# ----------------------------------------------------------------------------- 3. names
def _names(spark, enriched) -> tuple[dict[str, str], list[tuple]]:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField("name", T.StringType()), T.StructField("type", T.StringType()),
                           T.StructField("ord", T.StringType())])

    def mentions(frames):
        import pandas as pd

        for frame in frames:
            rows = [(n, t, r["ord"]) for r in _rows(frame) for n, t in stages.entity_names(r)]
            yield pd.DataFrame(rows, columns=["name", "type", "ord"])

    grouped = (enriched.select("ord", "enrichment").mapInPandas(mentions, schema)
               .groupBy("name", "type").agg(F.min("ord").alias("first"), F.count("*").alias("n")).collect())
    return stages.reconcile_names((r["name"], r["type"], r["first"], r["n"]) for r in grouped)


# ----------------------------------------------------------------------------- 4. stories
def _with_window(enriched, days: int):
    from pyspark.sql import functions as F

    day = F.datediff(F.to_date("published"), F.lit("1970-01-01"))
    return enriched.withColumn(
        "window", F.when(F.col("published").isNull(), F.lit(stages.UNDATED_WINDOW)).otherwise(F.floor(day / days)).cast("long"))


def _sorted_articles(frame, names: dict[str, str]) -> list:
    rows = sorted(_rows(frame), key=lambda r: (r["published"] is None, r["published"] or "", r["ord"]))
    return [stages.article_from_row(r) for r in rows]


def _first_pass(windowed, names_b):
    def run(frame):
        import pandas as pd

        window = int(frame["window"].iloc[0])
        placed = stages.place_window(window, _sorted_articles(frame, names_b.value), names=names_b.value)
        rows = [(window, "event", e.id, _day(e.last_date), stages.dumps(e)) for e in placed.events if not e.merged_into]
        rows += [(window, "story", s.id, _day(s.last_date), stages.dumps(s)) for s in placed.stories if not s.merged_into]
        return pd.DataFrame(rows, columns=["window", "kind", "id", "last_day", "blob"])

    return windowed.groupBy("window").applyInPandas(run, _records_schema())


def _day(date: dt.date | None) -> int | None:
    return None if date is None else (date - dt.date(1970, 1, 1)).days


def _context(first, windows: list[int], days: int, context_days: int | None = None):
    """For each window, the first-pass records of earlier windows its placer could still join."""
    from pyspark.sql import functions as F

    from storyline.stories.linking import PlacementConfig

    cfg = PlacementConfig()
    event_reach = context_days or 10**6  # None: every earlier window
    reach = {"event": event_reach, "story": max(cfg.story_window_days, event_reach)}  # an event needs its story
    dated = [w for w in windows if w != stages.UNDATED_WINDOW]
    ahead = F.when(F.col("kind") == "event", F.lit(math.ceil(reach["event"] / days) + 1)) \
        .otherwise(F.lit(math.ceil(reach["story"] / days) + 1))
    spread = first.withColumn("target", F.explode(F.sequence(F.col("window") + 1, F.col("window") + ahead)))
    start = F.col("target") * days
    keep = F.col("last_day").isNull() | (F.col("last_day") >= start - F.when(F.col("kind") == "event", reach["event"])
                                         .otherwise(reach["story"]))
    spread = spread.filter(keep & F.col("target").isin(dated))
    if stages.UNDATED_WINDOW in windows and dated:
        end = (max(dated) + 1) * days
        undated = first.filter(F.col("window") != stages.UNDATED_WINDOW).filter(
            F.col("last_day").isNull() | (F.col("last_day") >= end - F.when(F.col("kind") == "event", reach["event"])
                                          .otherwise(reach["story"]))).withColumn("target", F.lit(stages.UNDATED_WINDOW))
        spread = spread.unionByName(undated)
    return spread.select(F.col("target").alias("window"), "kind", "id", "last_day", "blob")


def _second_pass(windowed, context, names_b):
    def run(frame, restored):
        import pandas as pd

        if frame.empty:
            return pd.DataFrame([], columns=["window", "kind", "id", "last_day", "blob"])
        window = int(frame["window"].iloc[0])
        records = [stages.loads(b) for b in restored["blob"]] if not restored.empty else []
        events = sorted((r for r in records if isinstance(r, stages.Event)), key=lambda r: (r.first_date or dt.date.min, r.id))
        stories = sorted((r for r in records if isinstance(r, stages.Story)), key=lambda r: (r.first_date or dt.date.min, r.id))
        placed = stages.place_window(window, _sorted_articles(frame, names_b.value), events, stories, names=names_b.value)
        rows = [(window, "assign", a[0], None, stages.dumps(a)) for a in placed.assignments]
        meta = (placed.restored, placed.own)
        # restored records this window did not touch are left out: they are earlier windows' business,
        # and sending every window the whole context back would grow with windows x history
        events = [e for e in placed.events if e.id not in meta[0] or meta[1].get(e.id) or e.merged_into]
        touched = {e.story_id for e in events}
        stories = [s for s in placed.stories if s.id not in meta[0] or s.id in touched or s.merged_into]
        rows += [(window, "event", e.id, None, stages.dumps((e, e.id in meta[0], meta[1].get(e.id, [])))) for e in events]
        rows += [(window, "story", s.id, None, stages.dumps((s, s.id in meta[0], []))) for s in stories]
        return pd.DataFrame(rows, columns=["window", "kind", "id", "last_day", "blob"])

    return windowed.groupBy("window").cogroup(context.groupBy("window")).applyInPandas(run, _records_schema())


# ----------------------------------------------------------------------------- the job
def run_batch(spark, path: str, output: str, config: BatchConfig | None = None, now: dt.datetime | None = None) -> BatchResult:
    """Run the whole job from ``path`` into ``output`` (see the module docstring)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    config = config or BatchConfig()
    now = now or dt.datetime.now(dt.timezone.utc)
    output = output.rstrip("/")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    _delete(spark, f"{output}/summary")  # a run that does not finish leaves no summary

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    stamp = json.dumps({"input": _input_stamp(spark, path), "partitions": config.partitions,
                        "embedder": config.embedder, "input_format": config.input_format}, sort_keys=True)
    done = _read_checkpoint(spark, f"{output}/_enriched_done")
    if done is not None and done.get("stamp") == stamp:  # a re-run after a kill: enrichment finished already
        counts: dict[str, Any] = dict(done["counts"], enrichment="reused")
    else:
        _delete(spark, f"{output}/_enriched_done")
        read = _read(spark, path, config, now).persist()
        rejects = read.filter(F.col("reject").isNotNull()).select("origin", F.lit("read").alias("stage"), F.col("reject").alias("reason"))
        rejects.write.mode("overwrite").parquet(f"{output}/rejects")
        cleaned = read.filter(F.col("reject").isNull()).drop("reject")
        kept = _dedupe(cleaned)
        counts = {"records": read.count(), "rejected": rejects.count(), "cleaned": cleaned.count()}
        _enrich(kept, config).write.mode("overwrite").parquet(f"{output}/enriched")
        read.unpersist()
        _write_checkpoint(spark, f"{output}/_enriched_done", {"stamp": stamp, "counts": counts})
    lap("read_enrich")
    enriched = spark.read.parquet(f"{output}/enriched")
    counts["articles"] = enriched.count()
    counts["duplicates"] = counts["cleaned"] - counts["articles"]
    mapping, registry_rows = _names(spark, enriched)
    names_b = spark.sparkContext.broadcast(mapping)
    counts["names_reconciled"] = len(mapping)
    lap("names")

    windowed = _with_window(enriched, config.window_days).persist()
    windows = sorted(r["window"] for r in windowed.select("window").distinct().collect())
    first = _first_pass(windowed, names_b).persist()
    first_pass = _records_by_window(first.collect())
    lap("place_pass1")
    context = _context(first, windows, config.window_days, config.context_days).persist()
    second = _second_pass(windowed, context, names_b)
    placements = _placements(second.filter(F.col("kind") != "assign").collect())
    resolution = stages.resolve_ids(first_pass, placements)
    lap("place_pass2")
    last = second.persist()
    resolved = resolution.mapping
    events, stories = _final_records(placements, resolution)
    counts.update(windows=len(windows), events=len(events), stories=len(stories),
                  cross_window_event_joins=sum(1 for w, p in placements.items() for e in p.events
                                         if e.id in p.restored and p.own.get(e.id)))
    lap("resolve")

    resolved_b = spark.sparkContext.broadcast({f"{w}\t{raw}": v for (w, raw), v in resolved.items()})
    assign_schema = T.StructType([T.StructField(n, t) for n, t in (
        ("article_id", T.StringType()), ("event_id", T.StringType()), ("story_id", T.StringType()),
        ("window", T.LongType()), ("score", T.DoubleType()), ("parts", T.StringType()), ("duplicate_of", T.StringType()))])

    def finalise(frames):
        import pandas as pd

        table = resolved_b.value
        for frame in frames:
            out = []
            for r in _rows(frame):
                article, raw_event, _raw_story, score, parts, dup = stages.loads(r["blob"])
                event, story = table.get(f"{r['window']}\t{raw_event}", (raw_event, None))
                out.append((article, event, story, r["window"], score, parts, dup))
            yield pd.DataFrame(out, columns=[f.name for f in assign_schema.fields])

    assignments = last.filter(F.col("kind") == "assign").mapInPandas(finalise, assign_schema)
    assignments.write.mode("overwrite").parquet(f"{output}/assignments")
    assignments = spark.read.parquet(f"{output}/assignments")
    _write_articles(enriched, assignments, names_b, f"{output}/articles")
    _records_frame(spark, events, "event").write.mode("overwrite").parquet(f"{output}/events")
    _records_frame(spark, stories, "story").write.mode("overwrite").parquet(f"{output}/stories")
    entity_schema = T.StructType([T.StructField(n, t) for n, t in (
        ("alias", T.StringType()), ("canonical", T.StringType()), ("type", T.StringType()), ("mentions", T.LongType()))])
    spark.createDataFrame([tuple(r) for r in registry_rows], entity_schema).write.mode("overwrite").parquet(f"{output}/entities")
    counts["placed"] = assignments.count()
    counts["rejected_reasons"] = dict(stages.reasons(r["reason"] for r in spark.read.parquet(f"{output}/rejects").collect()))
    lap("write")
    for frame in (windowed, first, context, last):
        frame.unpersist()
    summary = {"counts": counts, "seconds": seconds, "input": path, "config": dataclasses.asdict(config),
               "finished": dt.datetime.now(dt.timezone.utc).isoformat()}
    spark.createDataFrame([(json.dumps(summary),)], "summary string").coalesce(1).write.mode("overwrite").parquet(f"{output}/summary")
    return BatchResult(counts, seconds)


def _records_by_window(rows) -> dict[int, tuple[list, list]]:
    out: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for r in rows:
        out[r["window"]][0 if r["kind"] == "event" else 1].append(stages.loads(r["blob"]))
    return dict(out)


def _placements(rows) -> dict[int, stages.WindowPlacement]:
    placements: dict[int, stages.WindowPlacement] = {}
    for r in rows:
        record, restored, own = stages.loads(r["blob"])
        placed = placements.setdefault(r["window"], stages.WindowPlacement(r["window"], [], [], [], set(), {}))
        (placed.events if r["kind"] == "event" else placed.stories).append(record)
        if restored:
            placed.restored.add(record.id)
        if r["kind"] == "event":
            placed.own[record.id] = own
    return placements


def _final_records(placements: dict[int, stages.WindowPlacement], resolution: stages.Resolution):
    resolved = resolution.mapping
    event_pieces: dict[str, list] = defaultdict(list)
    story_pieces: dict[str, list] = defaultdict(list)
    members: dict[str, list[str]] = defaultdict(list)
    story_of: dict[str, str] = {}
    for window in sorted(placements):
        placed = placements[window]
        for e in placed.events:
            if e.merged_into:
                continue
            fe, fs = resolved[(window, e.id)]
            event_pieces[fe].append((window, e))
            members[fe].extend(m for m in placed.own.get(e.id, []) if m not in members[fe])
            story_of.setdefault(fe, fs)
        story_final = {}
        for e in placed.events:
            if not e.merged_into and e.story_id:
                story_final.setdefault(e.story_id, resolved[(window, e.id)][1])
        for s in placed.stories:
            if not s.merged_into and s.id in story_final:
                story_pieces[story_final[s.id]].append((window, s))
    events = stages.merge_records({k: v for k, v in event_pieces.items() if members.get(k)},
                                  article_ids=members, story_id=story_of)
    by_story: dict[str, list] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.first_date or dt.date.max, e.id)):
        by_story[story_of[e.id]].append(e.id)
    stories = stages.merge_records({k: v for k, v in story_pieces.items() if k in by_story}, event_ids=by_story)
    return events, stories


def _records_frame(spark, records: list, kind: str):
    from pyspark.sql import types as T

    from storyline.store.records import event_row, story_row

    if kind == "event":
        names = ("id", "story_id", "first_date", "last_date", "data", "centroid", "merged_into")
        rows = [event_row(e) for e in records]
    else:
        names = ("id", "first_date", "last_date", "data", "centroid", "merged_into")
        rows = [story_row(s) for s in records]
    schema = T.StructType([T.StructField(n, T.BinaryType() if n == "centroid" else T.StringType()) for n in names])
    return spark.createDataFrame(rows, schema)


def _write_articles(enriched, assignments, names_b, path: str) -> None:
    from storyline.store import PLACED

    schema = _article_schema()
    joined = enriched.drop("event_id", "story_id", "duplicate_of").join(
        assignments.select(assignments.article_id.alias("id"), "event_id", "story_id", "duplicate_of"), "id", "left")

    def run(frames):
        names = names_b.value
        for frame in frames:
            out = []
            for r in _rows(frame):
                article = stages.article_from_row(r)
                stages.rename_entities(article, names)
                stage = PLACED if article.event_id else r["stage"]
                out.append({"ord": r["ord"], **stages.article_to_row(article, stage)})
            yield _frame(out, schema)

    joined.select(*[f.name for f in schema.fields]).mapInPandas(run, schema).sortWithinPartitions("ord") \
        .write.mode("overwrite").parquet(path)


def _input_stamp(spark, path: str) -> list:
    """What the input is (every file's name, size and modification time): enrichment is reused only for it."""
    files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path) \
        .select("path", "length", "modificationTime").collect()
    return sorted((r["path"], r["length"], str(r["modificationTime"])) for r in files)


def _write_checkpoint(spark, path: str, value: dict) -> None:
    spark.createDataFrame([(json.dumps(value),)], "value string").coalesce(1).write.mode("overwrite").parquet(path)


def _read_checkpoint(spark, path: str) -> dict | None:
    try:
        rows = spark.read.parquet(path).collect()
    except Exception:  # noqa: BLE001 - absent or unreadable: no checkpoint
        return None
    return json.loads(rows[0]["value"]) if rows else None


def _delete(spark, path: str) -> None:
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if fs.exists(target):
        fs.delete(target, True)
