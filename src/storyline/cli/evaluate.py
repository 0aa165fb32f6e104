"""``storyline eval …``: thin callers of ``storyline.evaluation`` (the pipeline on a fresh store, read
through the query layer). Needs the ``eval`` extra; without it, every command says how to install it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.table import Table

from storyline.cli.common import app, console, fail

eval_app = typer.Typer(no_args_is_help=True, help="Measure Storyline against labelled data (BCubed, Pearson, ROUGE).")
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def _needs_the_extra() -> None:
    """Measure Storyline against labelled data (needs: pip install 'storyline[eval]')."""
    from storyline.evaluation.scores import require_extra

    try:
        require_extra("tilse", "rouge_score")
    except RuntimeError as exc:
        fail(str(exc), 2)


def _show(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    table = Table(show_header=False)
    for key, value in result.items():
        if not isinstance(value, (dict, list)):
            table.add_row(key, str(value))
        elif key in ("fitted_on", "oracle_story"):
            table.add_row(key, json.dumps(value, ensure_ascii=False))
    console.print(table)


def _exists(path: Path) -> None:
    if not path.exists():
        fail(f"{path} does not exist (evaluation data lives in ../shared/eval beside the repo)", 2)


def _run(evaluation: Callable[..., dict[str, Any]], *args: Any, errors: tuple[type[Exception], ...] = (),
         says: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """An evaluation's result, or its error as one line (bad data, a missing tool) and exit status 2.
    ``errors`` are what reading a file of the wrong kind raises; ``says`` names that file in the line."""
    try:
        return evaluation(*args, **kwargs)
    except (ValueError, FileNotFoundError, RuntimeError, *errors) as exc:
        fail(f"{says}: {type(exc).__name__}: {exc}" if says else str(exc), 2)
        raise  # unreachable: fail exits


def spark_runner(documents):
    """origin → (event id, story id), through the Spark batch job (``storyline batch run``) in local[2]."""
    from storyline.scale.documents import run_documents

    return run_documents(documents)


@eval_app.command("stories")
def eval_stories(
    file: Path = typer.Argument(..., help="JSONL, one gold cluster per line: {cluster_id, docs: [...]}."),
    level: str = typer.Option("event", "--level", help="event, story or thread"),
    degrade: bool = typer.Option(False, "--degrade", help="Lowercase, strip punctuation and stamp ' date YYYY-MM-DD ' like seed 000/003."),
    languages: Optional[str] = typer.Option(None, "--languages", help="Comma-separated language filter, e.g. ar,en,fr."),
    engine: str = typer.Option("embedded", "--engine", help="embedded (track on a temporary store) or spark (the batch job)."),
    folds: int = typer.Option(0, "--folds", help="K >= 2: cross-validate, refitting the event model, event threshold and merge margin without each fold's gold clusters."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """BCubed precision/recall/F1 of Storyline's events (or stories) against gold clusters."""
    from storyline.evaluation.product import LEVELS
    from storyline.evaluation.stories import evaluate_clusters, evaluate_folds

    if engine not in ("embedded", "spark"):
        fail(f"--engine must be embedded or spark, got {engine!r}", 2)
    if engine == "spark":
        from storyline.scale import spark_available

        if (problem := spark_available()) is not None:
            fail(problem, 2)
    _exists(file)
    if level not in LEVELS:
        fail(f"--level must be one of {', '.join(LEVELS)}, got {level!r}", 2)
    if folds == 1 or folds < 0:
        fail(f"--folds must be 0 (off) or at least 2, got {folds}", 2)
    if folds and engine == "spark":
        fail("--folds refits placement on the embedded store; it runs with --engine embedded only", 2)
    langs = [x.strip() for x in languages.split(",")] if languages else None
    if folds:
        _show(_run(evaluate_folds, file, folds=folds, level=level, degrade=degrade, languages=langs), as_json)
        return
    runner = spark_runner if engine == "spark" else None
    _show(_run(evaluate_clusters, file, level=level, degrade=degrade, languages=langs, runner=runner), as_json)


@eval_app.command("pairs")
def eval_pairs(
    file: Path = typer.Argument(..., help="SemEval-2022 Task 8 CSV (text1, text2, Overall)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pearson correlation of Storyline's article similarity with human ratings (positive = agreeing)."""
    from storyline.evaluation.pairs import evaluate_pairs

    _exists(file)
    result = _run(evaluate_pairs, file, limit=limit, errors=(KeyError, TypeError, UnicodeDecodeError),
                  says=f"{file}: cannot read rated pairs from it")
    if result["pairs"] < 2:  # a correlation needs two pairs; 0 read means the file is not the task's CSV
        fail(f"{file}: {result['pairs']} rated pairs read; expected a SemEval-2022 Task 8 CSV "
             "(columns text1, text2, Overall, or the task's own)", 2)
    _show(result, as_json)


@eval_app.command("timelines")
def eval_timelines(
    directory: Path = typer.Argument(..., help="Timeline17-format topics: */articles.json + */*.timeline.json."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N topic folders (quick runs)."),
    folds: Optional[int] = typer.Option(
        None, "--folds", help="Fit on the other topics, score each group of topics held out (4 = leave-one-topic-out)."),
    details: bool = typer.Option(False, "--details", help="Also list every timeline's scores (with --json)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Timelines of the stories Storyline builds, with tilse: alignment ROUGE-1/2 F1 and date F1 (as news-tls)."""
    from storyline.evaluation.tell import evaluate_timelines

    _exists(directory)
    result = _run(evaluate_timelines, directory, limit=limit, folds=folds, details=details)
    if not result.get("timelines"):
        fail(f"{directory}: no timelines found (expects Timeline17 topics: TOPIC/articles.json and "
             "TOPIC/*.timeline.json)", 2)
    _show(result, as_json)


@eval_app.command("summaries")
def eval_summaries(
    file: Path = typer.Argument(..., help="DUC/MultiLing-format clusters with human 'summaries'."),
    language: str = typer.Option("en", "--language", help="Only clusters in this language ('all' for every one)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1),
    words: Optional[int] = typer.Option(None, "--words", help="Word limit (default: the request's: 100 for DUC 2007 update batches, else 250)."),
    fit_on: Optional[Path] = typer.Option(None, "--fit-on", help="Choose the weights on this other cluster file, report on FILE."),
    details: bool = typer.Option(False, "--details", help="Also list every cluster's scores (with --json)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Summaries of the stories Storyline builds: ROUGE-1/2 recall and F1 (rouge-score); DUC 2007 B/C as updates."""
    from storyline.evaluation.tell import evaluate_summaries

    _exists(file)
    if fit_on is not None:
        _exists(fit_on)
    _show(_run(evaluate_summaries, file, language=None if language == "all" else language, limit=limit,
               max_words=words, fit_on=fit_on, details=details, errors=(KeyError, TypeError, AttributeError, UnicodeDecodeError),
               says=f"cannot read clusters from {file}{f' or {fit_on}' if fit_on else ''} (expects JSONL, one cluster per "
                    "line with its documents and human 'summaries')"), as_json)
