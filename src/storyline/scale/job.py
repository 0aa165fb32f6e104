"""The batch job on Spark: ingest → normalize → enrich with ``mapInPandas``, then stories by time window.

Steps (each a Spark stage; ``stages.py`` holds what the tasks run, ``windowing.py`` the Spark side of step 3,
``resolve.py`` the id resolution over the windows' pieces):

1. read: files (any format ``storyline ingest`` reads, via Spark's ``binaryFile`` source) or a Parquet
   table; each record gets an input position that sorts like ``track``'s arrival order; clean; drop
   re-posts (same text: the first one wins) and give an id another text holds already the id the store
   gives it (``pipeline.distinct_id``), as ``Pipeline.ingest`` does.
2. enrich: range partitions in input order, the per-article part (``pipeline.prepare_batch``: restore,
   dates, places, embedding, fingerprint, entity recognition) per batch in parallel, models loaded once
   per Python worker; then canonical names through one registry in input order and ``track``'s batches
   (``stages.reconcile_rows``: one task, ~1.4 CPU-ms an article of full-length news, the only ordered step of enrichment, as in
   ``track``); written to ``OUTPUT/enriched`` (the checkpoint the later steps read).
3. stories: articles grouped by story window (by default one contiguous run a worker, of about
   equal size, each starting where one of ``track``'s placement batches starts: ``stages.window_cuts``), in
   ``track``'s placement order. First, each window's terms
   (parallel), from which the document frequencies ``track``'s placer holds at each window's first
   article follow exactly (``docfreq.doc_freq_states``). Pass 1 places every window on its own from those
   frequencies (parallel). Pass k places again only the windows whose context changed: a window restores
   the events and stories pass k - 1 formed in the windows before it that are still open at its start
   (the placer's open-window rule, ``rolling.resolve_windows``: bounded whatever the archive's length),
   merged under their final ids (a story pass k - 1 chained through several windows comes back whole),
   so whether an article continues an earlier event, or an event an earlier story, is decided by
   ``StoryPlacer`` itself; a window whose context hashes the same (``resolve.context_digest``) would be
   placed the same and keeps its last placement. Every pass places in ``track``'s batches
   (``StoryPlacer.place_batch``: place, refine, expire). After each pass one ordered task follows the raw
   ids back window by window to final ids, says what each window restores next, and writes out each record
   once it has closed (``windowing.resolve_pass``, ``rolling.py``): its memory is the records still open, and
   nothing per article reaches the driver. The passes stop when no window's context changed (or at
   ``max_passes``). The first window restores nothing, so it is final after pass 1, and window k is final
   after pass k: the passes are at most the windows, and after pass W (the number of windows) no check is
   run. The final records get their profiles back in Spark (``write.profiled_records``), and threads are
   linked in one ordered task (``write.threads``, ``stages.link_threads``).
4. write ``articles``, ``events``, ``stories``, ``assignments``, ``entities``, ``doc_freq``, ``rejects``
   (Parquet) and ``summary`` last. Every dataset is overwritten whole, so a killed run re-run on the same
   OUTPUT leaves no duplicates; ``summary`` exists only when a run finished.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import time
from typing import Any, Iterator

from storyline.pipeline import PipelineConfig
from storyline.scale import stages, tables, windowing, write

__all__ = ["BatchConfig", "BatchResult", "local_input", "run_batch", "session"]

# the driver holds a row per publication day and per window, nothing per article; in local mode it is also the
# executor, whose JVM holds the cached frames. STORYLINE_SPARK_DRIVER_MEMORY overrides it
DRIVER_MEMORY = "4g"

DATASETS = ("enriched", "articles", "events", "stories", "threads", "assignments", "entities", "doc_freq", "rejects")


@dataclasses.dataclass(frozen=True)
class BatchConfig:
    partitions: int = 2  # enrichment partitions (and shuffle partitions)
    # story windows: placed in parallel in the first pass, each as ``track`` places it; a pass makes one more
    # window exact, so the passes are at most the windows. ``windows``: that many
    # contiguous runs of about equal size starting on placement batches (None: ``partitions``, one a worker); ``window_days``:
    # calendar windows of that many days instead, each starting on the placement batch at or after its period's
    # first article (many more windows, so many more passes: a story chained through n windows settles only by
    # pass n + 1; see ``stages.window_cuts``)
    windows: int | None = None
    window_days: int | None = None
    embedder: str = "use"
    batch_size: int = PipelineConfig.batch_size  # placement batches (place, refine, expire), cut where ``track`` cuts them
    # placement passes at most (None: as many as windows, which always settles): pass k re-places the windows
    # whose restored context pass k - 1 changed, and window k is final after pass k; the job stops when no
    # context changed
    max_passes: int | None = None
    # which change in a window's restored context re-places it in the next pass: "members" (ids and members:
    # which articles each event holds, which events each story) or "records" (also any profile: the exact
    # fixed point, but a story running through n windows then takes n passes; see resolve.context_digest)
    replace_when: str = "members"
    input_format: str | None = None  # "files" or "parquet"; None: parquet when the path ends in .parquet
    # the per-window document frequencies are summed on the driver up to this many (window, term) entries
    # (~100 bytes each in Python: 10M ~ 1 GB of the driver), past it in Spark (``doc_freq_in_spark``)
    driver_doc_freq_entries: int = 10_000_000


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
    if master and master.startswith("local"):  # one machine: the driver listens on loopback only
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    spark = (
        builder.config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")  # models stay loaded between tasks
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")  # the partitions are the workers' shares: keep them
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("STORYLINE_SPARK_DRIVER_MEMORY", DRIVER_MEMORY))
        .config("spark.driver.maxResultSize", "0")  # the driver's memory is the limit
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ----------------------------------------------------------------------------- 1. read + clean
def _list_files(spark, path: str, files: list[str] | None = None) -> dict[str, str]:
    """path -> input position of each file, in the order ``read_path`` walks a folder (all the files under
    ``path``, or only ``files``, those of a local folder that ``ingest`` would read)."""
    from storyline.ingest import is_skipped, walk_key

    listed = [r.path for r in spark.read.format("binaryFile").option("recursiveFileLookup", "true")
              .load(files if files is not None else path).select("path").collect()]
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

    schema = tables.article_schema((("reject", T.StringType()),))
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
                rows = list(tables.rows(frame))
                files = [r["file"].removeprefix("file:") for r in rows]
                records = [(f"{f}[{r['n']}]", f, {k: v for k, v in (r["record"] or {}).items()}) for f, r in zip(files, rows)]
                yield tables.pandas_frame(list(emit(stages.documents_of_records(records), [f"{r['n']:020d}" for r in rows])), schema)

        frame = table.mapInPandas(convert, schema)
    else:
        local = local_input(path)
        refused: list[dict[str, Any]] = []
        if local is None:  # a distributed file system: Spark lists it
            ranks = _list_files(spark, path)
            files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path)
        else:  # walked as `ingest` walks it: links out of it refused, empty and non-regular files rejected
            readable, refused = _walk_local(local)
            ranks = _list_files(spark, str(local.absolute()), readable) if readable else {}
            files = spark.read.format("binaryFile").load(readable) if readable else None
        ranks_b = spark.sparkContext.broadcast(ranks)

        def convert(frames):
            rank = ranks_b.value
            for frame in frames:
                out: list[dict[str, Any]] = []
                for row in tables.rows(frame):
                    if row["path"] not in rank:
                        continue
                    name = row["path"].removeprefix("file:")
                    items = list(stages.documents_of_file(name, bytes(row["content"])))
                    positions = [f"{rank[row['path']]}.{i:09d}" for i in range(len(items))]
                    out.extend(emit(items, positions))
                yield tables.pandas_frame(out, schema)

        frame = files.select("path", "content").mapInPandas(convert, schema) if files is not None else None
        if refused:
            said = spark.createDataFrame(tables.pandas_frame(refused, schema), schema)
            frame = said if frame is None else frame.unionByName(said)
        if frame is None:
            raise FileNotFoundError(f"{path}: no files to read")
    return frame


def local_input(path: str):
    """The local file or folder a path names (no scheme, or file:), else None (hdfs://, s3a:// ...)."""
    from pathlib import Path

    if "://" in path and not path.startswith("file://"):
        return None
    return Path(path.removeprefix("file://").removeprefix("file:"))


def _walk_local(root) -> tuple[list[str], list[dict[str, Any]]]:
    """(files Spark may read, rejection rows): ``ingest``'s walk, so a link out of the input, a FIFO or an
    empty file (which Spark's file source skips without a word) is one rejection, as with ``ingest``."""
    import stat

    from storyline.ingest import walk_files

    readable: list[str] = []
    refused: list[dict[str, Any]] = []
    for item in walk_files(root):
        if isinstance(item, stages.Rejection):
            refused.append({"ord": "", "origin": item.origin, "reject": item.reason})
            continue
        try:
            info = item.stat()
        except OSError as exc:
            refused.append({"ord": "", "origin": str(item), "reject": f"unreadable ({type(exc).__name__}: {exc})"})
            continue
        if not stat.S_ISREG(info.st_mode):
            refused.append({"ord": "", "origin": str(item), "reject": "not a regular file (a FIFO, socket or device): not read"})
        elif info.st_size == 0:
            refused.extend({"ord": "", "origin": r.origin, "reject": r.reason}
                           for r in stages.documents_of_file(str(item), b"") if isinstance(r, stages.Rejection))
        else:
            readable.append(str(item.absolute()))
    return readable, refused


def _dedupe(articles):
    """Re-posts (same text) dropped, the first kept; an id another text holds already gets the id the store
    gives it (``pipeline.distinct_id``), so both are kept: what ``Pipeline.ingest`` does, in input order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from storyline.pipeline import distinct_id

    by_hash = Window.partitionBy("content_hash").orderBy("ord")
    first = articles.withColumn("_n", F.row_number().over(by_hash)).filter("_n = 1").drop("_n")
    by_id = Window.partitionBy("id").orderBy("ord")
    renamed = F.udf(lambda key, digest: distinct_id(key, digest), T.StringType())
    ranked = first.withColumn("_n", F.row_number().over(by_id))
    return ranked.withColumn("id", F.when(F.col("_n") == 1, F.col("id")).otherwise(renamed("id", "content_hash"))).drop("_n")


# ----------------------------------------------------------------------------- 2. enrich
def _enrich(articles, config: BatchConfig):
    """Enriched articles, with the registry's rows in chunks (``registry`` set, every other column null):
    the parallel per-article part, then the ordered names in one task."""
    from pyspark.sql import types as T

    prepared_schema = tables.article_schema((("recognised", T.BinaryType()),))
    schema = tables.article_schema((("registry", T.BinaryType()),), rows_without_ord=True)
    embedder = config.embedder

    def chunked(rows: Iterator[dict], schema) -> Iterator:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 64:
                yield tables.pandas_frame(batch, schema)
                batch = []
        if batch:
            yield tables.pandas_frame(batch, schema)

    def prepare(frames):
        yield from chunked(stages.prepare_rows((r for frame in frames for r in tables.rows(frame)), embedder), prepared_schema)

    def reconcile(frames):
        yield from chunked(stages.reconcile_rows(r for frame in frames for r in tables.rows(frame)), schema)

    ordered = articles.repartitionByRange(config.partitions, "ord").sortWithinPartitions("ord")
    prepared = ordered.mapInPandas(prepare, prepared_schema)
    # one partition, in input order: the task streams (its memory is the registry, not the articles)
    return prepared.repartition(1).sortWithinPartitions("ord").mapInPandas(reconcile, schema)


# ----------------------------------------------------------------------------- the job
def run_batch(spark, path: str, output: str, config: BatchConfig | None = None, now: dt.datetime | None = None) -> BatchResult:
    """Run the whole job from ``path`` into ``output`` (see the module docstring)."""
    from pyspark.sql import functions as F

    config = config or BatchConfig()
    if now is None:
        from storyline.pipeline import ingest_time

        now = ingest_time()
    output = output.rstrip("/")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    _delete(spark, f"{output}/summary")  # a run that does not finish leaves no summary

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    stamp = json.dumps({"input": _input_stamp(spark, path), "partitions": config.partitions,
                        "embedder": config.embedder, "input_format": config.input_format,
                        "enriched": "ordered names"}, sort_keys=True)  # what OUTPUT/enriched holds: an older run's is not reused
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
    stored = spark.read.parquet(f"{output}/enriched")
    enriched = stored.filter(stored.registry.isNull()).drop("registry")
    counts["articles"] = enriched.count()
    counts["duplicates"] = counts["cleaned"] - counts["articles"]

    windowed = windowing.with_window(spark, enriched, config).persist()
    sizes = windowing.window_sizes(windowed)
    offsets = windowing.window_offsets(sizes)
    windows = sorted(offsets)
    offsets_b = spark.sparkContext.broadcast(offsets)
    slots = windowing.window_slots(spark, sizes)
    doc_freq, final_doc_freq, doc_totals = windowing.doc_freq(spark, windowed, offsets_b, sizes, slots, config)
    doc_freq = doc_freq.persist()
    lap("doc_freq")
    # pass 1: every window on its own; pass k: only the windows whose context (what pass k - 1 formed in the
    # windows before them that is still open at their start, under final ids) changed, until none did
    from storyline.stories.linking import PlacementConfig

    cfg = PlacementConfig()
    members_only = config.replace_when == "members"
    digests = windowing.window_digests(doc_freq, members_only)
    exemplars = windowing.exemplar_rows(spark, windowed, offsets, cfg.exemplars).persist()
    last = windowing.place_pass(windowed, doc_freq, offsets_b, slots, config).persist()

    def resolve_last():  # the pass's ids followed back, in one ordered task (its memory: the open records)
        frame = windowing.resolve_pass(last, windows, cfg.event_window_days, cfg.story_window_days)
        return frame, json.loads(bytes(frame.filter(F.col("kind") == "stat").first()["blob"]))

    resolved, stat = resolve_last()
    replaced, restored = [len(windows)], [0]
    partitions = [stat["partition"]]  # what each pass decided: when it stopped moving is reported
    held = [stat["held_max"]]  # records the scan held open at once, per pass
    lap("place_pass1")
    converged, passes = False, 1
    while True:
        if passes >= len(windows):  # window k is final after pass k: after pass W every window is, and a check would change none
            converged = True
            replaced.append(0)
            break
        context = windowing.context_rows(last.filter(F.col("kind").isin("event", "story")), resolved.filter(F.col("kind") == "target")) \
            .unionByName(doc_freq, allowMissingColumns=True).unionByName(exemplars, allowMissingColumns=True).persist()
        current = windowing.window_digests(context, members_only)
        changed = sorted(w for w in windows if current[w][0] != digests[w][0])
        lap(f"context{passes + 1}")
        if not changed or passes >= (config.max_passes or len(windows)):
            converged = not changed
            replaced.append(len(changed))  # the check: 0 when converged (nothing placed)
            context.unpersist()
            break
        # spread anew over the tasks: the windows a pass re-places are a subset, which pass 1's slots may crowd
        placed = windowing.place_pass(windowed.filter(F.col("window").isin(changed)), context.filter(F.col("window").isin(changed)),
                                      offsets_b, windowing.window_slots(spark, {w: sizes[w] for w in changed}), config).persist()
        previous = last
        # checkpointed: the plan of pass k would otherwise hold every earlier pass's (and grow without end)
        last = last.filter(~F.col("window").isin(changed)).unionByName(placed).localCheckpoint()
        for frame in (previous, placed, context):
            frame.unpersist()
        resolved.unpersist()
        resolved, stat = resolve_last()
        partitions.append(stat["partition"])
        held.append(stat["held_max"])
        digests = {**digests, **{w: current[w] for w in changed}}
        passes += 1
        replaced.append(len(changed))
        restored.append(max(current[w][1] for w in changed))
        lap(f"place_pass{passes}")
    records = last.filter(F.col("kind").isin("event", "story"))
    final_events = write.profiled_records(records, resolved, "event")
    final_stories = write.profiled_records(records, resolved, "story").persist()
    threads = write.threads(last.filter(F.col("kind") == "storybatch"), final_stories).persist()
    thread_records = write.latest(threads.filter(F.col("kind") == "thread"))
    totals = {r["kind"]: r["count"] for r in resolved.filter(F.col("kind").isin("event", "story")).groupBy("kind").count().collect()}
    counts.update(windows=len(windows), events=totals.get("event", 0), stories=totals.get("story", 0), passes=passes,
                  converged=converged, replaced_per_pass=replaced, restored_max_per_pass=restored,
                  # the first pass whose article -> (event, story) partition is the final one (later passes
                  # only refined records: profiles, titles, thread links)
                  partition_final_at=next(i for i, p in enumerate(partitions, 1) if p == partitions[-1]),
                  restored_max=max((n for _, n in digests.values()), default=0),  # in the contexts last placed with
                  resolution_held_max_per_pass=held,
                  threads=thread_records.filter(F.col("ref").isNull()).count(),
                  cross_window_event_joins=stat["cross_window_event_joins"])
    lap("resolve")

    assignments = write.final_assignments(last.filter(F.col("kind") == "assign"), resolved)
    assignments.write.mode("overwrite").parquet(f"{output}/assignments")
    assignments = spark.read.parquet(f"{output}/assignments")
    write.write_articles(windowed, assignments, offsets_b, config.batch_size, f"{output}/articles")
    write.record_rows(final_events, "event").write.mode("overwrite").parquet(f"{output}/events")
    thread_of = threads.filter(F.col("kind") == "story").select(F.col("id").alias("story"), F.col("ref").alias("thread_id"))
    write.record_rows(final_stories.join(thread_of, final_stories["id"] == thread_of["story"], "left"), "story") \
        .write.mode("overwrite").parquet(f"{output}/stories")
    write.record_rows(thread_records, "thread").write.mode("overwrite").parquet(f"{output}/threads")
    write.registry_rows(stored).write.mode("overwrite").parquet(f"{output}/entities")
    final_doc_freq.write.mode("overwrite").parquet(f"{output}/doc_freq")
    counts["placed"] = assignments.count()
    counts["rejected_reasons"] = dict(stages.reasons(r["reason"] for r in spark.read.parquet(f"{output}/rejects").collect()))
    lap("write")
    for frame in (windowed, doc_freq, last, exemplars, final_stories, threads, resolved):
        frame.unpersist()
    summary = {"counts": counts, "seconds": seconds, "input": path, "config": dataclasses.asdict(config),
               "doc_freq": {"docs": doc_totals[0], "idf_docs": doc_totals[1]},
               "finished": dt.datetime.now(dt.timezone.utc).isoformat()}
    spark.createDataFrame([(json.dumps(summary),)], "summary string").coalesce(1).write.mode("overwrite").parquet(f"{output}/summary")
    return BatchResult(counts, seconds)


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
