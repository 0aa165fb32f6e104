"""``storyline batch run|import``: the Spark batch path (``storyline.scale``) from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from storyline.cli.common import DbOption, JsonOption, app, console, fail, open_store

batch_app = typer.Typer(no_args_is_help=True, help="Run the pipeline on Apache Spark over an archive; import the results.")
app.add_typer(batch_app, name="batch")


@batch_app.command("run")
def batch_run(
    input: str = typer.Argument(..., help="Files or a folder (any format `ingest` reads), or a Parquet table; any path Spark reads."),
    output: str = typer.Argument(..., help="Folder for the Parquet results (overwritten whole: re-running is safe)."),
    master: str = typer.Option("local[2]", "--master", help="Spark master: local[N], spark://host:7077, yarn …"),
    partitions: int = typer.Option(2, "--partitions", min=1, help="Enrichment partitions (run in parallel)."),
    windows: Optional[int] = typer.Option(None, "--windows", min=1, help="Story windows: contiguous runs of about equal size, each starting where a placement batch of `track` starts, placed in parallel, each as `track` places it (default: --partitions). The passes are at most the windows."),
    window_days: Optional[int] = typer.Option(None, "--window-days", min=1, help="Calendar story windows of this many days instead of --windows, each starting on the placement batch at or after its period's first article (more windows: more passes)."),
    max_passes: Optional[int] = typer.Option(None, "--max-passes", min=1, help="Placement passes at most (each restores the previous pass's stories of earlier windows; stops when one changes nothing; default: the number of windows, which always settles)."),
    replace_when: str = typer.Option("members", "--replace-when", help="Re-place a window in the next pass when the ids or members it restores changed (members), or also any restored profile (records: exact, passes grow with the longest story chain)."),
    input_format: Optional[str] = typer.Option(None, "--input-format", help="files or parquet (default: parquet when INPUT ends in .parquet)."),
    as_json: bool = JsonOption,
) -> None:
    """ingest → normalize → enrich → stories on Spark, the same stage code as `track`; results as Parquet."""
    from storyline.scale import spark_available

    problem = spark_available()
    if problem:
        fail(problem, 2)
    if windows is not None and window_days is not None:
        fail("give --windows or --window-days, not both", 2)
    if replace_when not in ("members", "records"):
        fail(f"--replace-when must be members or records, got {replace_when!r}", 2)
    if input_format not in (None, "files", "parquet"):
        fail(f"--input-format must be files or parquet, got {input_format!r}", 2)
    from storyline.scale.job import DRIVER_MEMORY, BatchConfig, local_input, run_batch, session

    local = local_input(input)
    if local is not None and not local.exists():
        fail(f"{input}: no such file or folder (give the files or folder to read)", 2)
    try:
        spark = session(master, partitions)
    except Exception as exc:  # noqa: BLE001 - a bad master URL or a Spark that cannot start: say so, no traceback
        fail(f"cannot start Spark with --master {master!r}: {_first_line(exc)} "
             "(use local[N], spark://HOST:PORT, yarn, k8s://... )", 2)
    try:
        result = run_batch(spark, input, output, BatchConfig(partitions=partitions, windows=windows, window_days=window_days,
                                                             max_passes=max_passes, input_format=input_format,
                                                             replace_when=replace_when))
    except FileNotFoundError as exc:
        fail(str(exc), 1)
    except Exception as exc:  # noqa: BLE001 - the driver's memory is the one limit a user sets: name it, no traceback
        if not any(sign in str(exc) for sign in MEMORY_SIGNS):
            raise
        fail(f"the Spark driver ran out of memory ({_first_line(exc)}): it resolves ids (~1.2 KB an article) and, "
             "in local mode, also runs the executors' cached frames; set STORYLINE_SPARK_DRIVER_MEMORY (now "
             f"{os.environ.get('STORYLINE_SPARK_DRIVER_MEMORY', DRIVER_MEMORY)}), or under spark-submit --driver-memory, "
             "and run again: the enrichment already done is reused", 1)
    finally:
        spark.stop()
    if as_json:
        print(json.dumps({"counts": result.counts, "seconds": result.seconds}))
        return
    c = result.counts
    console.print(f"{c['articles']} articles ({c['duplicates']} re-posts dropped, {c['rejected']} records rejected"
                  f"{': ' + ', '.join(f'{k} {v}' for k, v in c['rejected_reasons'].items()) if c['rejected'] else ''}) → "
                  f"{c['events']} events, {c['stories']} stories in {c['windows']} windows "
                  f"({c['passes']} placement passes{'' if c['converged'] else ', not converged: raise --max-passes'}); written to {output}")
    if c["rejected"]:
        console.print(f"rejected records and why: {output}/rejects (Parquet)")


# how Spark reports a driver that could not hold what a job gathers (a result evicted, a heap exhausted)
MEMORY_SIGNS = ("TaskResultLost", "OutOfMemoryError", "maxResultSize", "Java heap space")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


@batch_app.command("import")
def batch_import(
    output: Path = typer.Argument(..., help="The OUTPUT folder of a finished `storyline batch run`."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Load a batch run's articles, events, stories and names into the store; every command then works on them."""
    from storyline.scale.importer import import_output

    if not output.is_dir():
        fail(f"{output} is not a folder (give the OUTPUT of `storyline batch run`)", 2)
    with open_store(db) as store:
        try:
            result = import_output(output, store)
        except FileNotFoundError as exc:
            fail(str(exc), 1)
    if as_json:
        print(json.dumps(result))
    else:
        console.print(f"imported {result['articles']} articles ({result['already_stored']} already stored) into {store.path}")
