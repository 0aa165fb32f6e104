"""The Spark batch path on hostile input and commands (issue 21): it refuses what ``ingest`` refuses (links
out of the input), counts empty files as rejects, survives a 0001-01-01 date, and its commands fail with one
line instead of a traceback; ``batch import`` works from the command line and counts what was stored."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli import app
from storyline.scale import spark_available

missing = spark_available()
pytestmark = pytest.mark.skipif(missing is not None, reason=f"Spark tests need the spark extra and Java: {missing}")
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def spark():
    from storyline.scale.job import session

    spark = session("local[2]", 2, app="storyline-tests")
    yield spark
    spark.stop()


def test_links_out_empty_files_and_year_one_are_rejected_or_kept_as_ingest_does(spark, tmp_path):
    import pyarrow.parquet as pq

    from storyline.scale.job import BatchConfig, run_batch

    source = tmp_path / "in"
    shutil.copytree(ROOT / "examples" / "seeds", source)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash and other secret words that must never be stored")
    os.symlink(secret, source / "passwd.txt")
    (source / "empty.txt").write_bytes(b"")
    (source / "y1.jsonl").write_text(json.dumps({"id": "y1", "published": "0001-01-01", "text":
                                                "The river flooded the lower town on Monday, officials said."}) + "\n")
    result = run_batch(spark, str(source), str(tmp_path / "out"), BatchConfig())
    assert result.counts["articles"] == 3 and result.counts["rejected"] == 2, result.counts
    rejects = {Path(r["origin"]).name: r["reason"] for r in pq.read_table(tmp_path / "out" / "rejects").to_pylist()}
    assert "leads outside" in rejects["passwd.txt"] and rejects["empty.txt"] == "empty file"
    articles = pq.read_table(tmp_path / "out" / "articles").to_pylist()
    assert not any("root:x" in a["text"] for a in articles)
    year_one = next(a for a in articles if a["origin"].endswith("y1.jsonl:1"))
    assert year_one["published_provenance"] in ("untrusted", "inferred") and year_one["event_id"]

    db = tmp_path / "s.db"
    first = runner.invoke(app, ["batch", "import", str(tmp_path / "out"), "--db", str(db), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"articles": 3, "already_stored": 0, "rejected_in_batch": 2}
    again = runner.invoke(app, ["batch", "import", str(tmp_path / "out"), "--db", str(db), "--json"])
    assert json.loads(again.stdout)["already_stored"] == 3 and json.loads(again.stdout)["articles"] == 0


@pytest.mark.parametrize("args, said", [
    (["batch", "run", "/nonexistent/input", "OUT"], "no such file or folder"),
    (["batch", "run", str(ROOT / "examples" / "seeds"), "OUT", "--master", "garbage://"], "cannot start Spark"),
    (["batch", "run", str(ROOT / "examples" / "seeds"), "OUT", "--windows", "2", "--window-days", "30"],
     "give --windows or --window-days, not both"),
])
def test_batch_run_fails_with_one_line(args, said, tmp_path):
    """In a process of its own: in this one, Spark hands back the module's running session whatever the master."""
    import subprocess
    import sys

    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = subprocess.run([sys.executable, "-m", "storyline", *args], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 2 and said in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


def test_a_driver_out_of_memory_names_the_setting_and_keeps_the_enrichment(tmp_path, monkeypatch):
    """Spark's own words for a driver that could not hold the records become one line naming the fix."""
    import storyline.scale.job as job

    class Session:
        def stop(self) -> None:
            pass

    def exhausted(*args, **kwargs):
        raise RuntimeError("An error occurred while calling o458.collectToPython.\n: org.apache.spark.SparkException: "
                           "Job aborted: TaskResultLost (result lost from block manager)")

    monkeypatch.setattr(job, "session", lambda *a, **k: Session())
    monkeypatch.setattr(job, "run_batch", exhausted)
    result = runner.invoke(app, ["batch", "run", str(ROOT / "examples" / "seeds"), str(tmp_path / "out")])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "ran out of memory" in said and "STORYLINE_SPARK_DRIVER_MEMORY" in said and "reused" in said
