"""``storyline eval …``: the quality harnesses, on the same code path as ``track`` and a fresh store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from storyline.cli.common import app, console, fail

eval_app = typer.Typer(no_args_is_help=True, help="Measure Storyline against labelled data (BCubed, Pearson, ROUGE).")
app.add_typer(eval_app, name="eval")


def _show(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    table = Table(show_header=False)
    for key, value in result.items():
        if not isinstance(value, (dict, list)):
            table.add_row(key, str(value))
    console.print(table)


def _exists(path: Path) -> None:
    if not path.exists():
        fail(f"{path} does not exist (evaluation data lives in ../shared/eval beside the repo)", 2)


def pipeline_runner(documents):
    """origin → (event id, story id), through ``track`` on a fresh temporary store."""
    from storyline.pipeline import track_documents

    placed = track_documents(documents)
    return {origin: (a.event_id, a.story_id) for origin, a in placed.items()}


def spark_runner(documents):
    """origin → (event id, story id), through the Spark batch job (``storyline batch run``) in local[2]."""
    from storyline.scale.documents import run_documents

    return run_documents(documents)


@eval_app.command("stories")
def eval_stories(
    file: Path = typer.Argument(..., help="JSONL, one gold cluster per line: {cluster_id, docs: [...]}."),
    level: str = typer.Option("event", "--level", help="event or story"),
    degrade: bool = typer.Option(False, "--degrade", help="Lowercase, strip punctuation and stamp ' date YYYY-MM-DD ' like seed 000/003."),
    languages: Optional[str] = typer.Option(None, "--languages", help="Comma-separated language filter, e.g. ar,en,fr."),
    engine: str = typer.Option("embedded", "--engine", help="embedded (track on a temporary store) or spark (the batch job)."),
    folds: int = typer.Option(0, "--folds", help="K >= 2: cross-validate, refitting the event model without each fold's gold clusters."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """BCubed precision/recall/F1 of Storyline's events (or stories) against gold clusters."""
    from storyline.stories.evaluate import evaluate_clusters, evaluate_folds

    if engine not in ("embedded", "spark"):
        fail(f"--engine must be embedded or spark, got {engine!r}", 2)
    if engine == "spark":
        from storyline.scale import spark_available

        if (problem := spark_available()) is not None:
            fail(problem, 2)

    _exists(file)
    if level not in ("event", "story"):
        fail(f"--level must be event or story, got {level!r}", 2)
    if folds == 1 or folds < 0:
        fail(f"--folds must be 0 (off) or at least 2, got {folds}", 2)
    if folds and engine == "spark":
        fail("--folds refits the event model on the embedded store; it runs with --engine embedded only", 2)
    langs = [x.strip() for x in languages.split(",")] if languages else None
    if folds:
        try:
            _show(evaluate_folds(file, folds=folds, level=level, degrade=degrade, languages=langs), as_json)
        except ValueError as exc:
            fail(str(exc), 2)
        return
    runner = spark_runner if engine == "spark" else pipeline_runner
    _show(evaluate_clusters(file, level=level, degrade=degrade, languages=langs, runner=runner), as_json)


@eval_app.command("pairs")
def eval_pairs(
    file: Path = typer.Argument(..., help="SemEval-2022 Task 8 CSV (text1, text2, Overall)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pearson correlation of Storyline's article similarity with human ratings (positive = agreeing)."""
    from storyline.stories.evaluate import evaluate_pairs

    _exists(file)
    try:
        result = evaluate_pairs(file, limit=limit)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot read rated pairs from it ({type(exc).__name__}: {exc})", 2)
    if result["pairs"] < 2:  # a correlation needs two pairs; 0 read means the file is not the task's CSV
        fail(f"{file}: {result['pairs']} rated pairs read; expected a SemEval-2022 Task 8 CSV "
             "(columns text1, text2, Overall, or the task's own)", 2)
    _show(result, as_json)
