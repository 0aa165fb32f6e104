"""The batch pipeline on Apache Spark (``pip install 'storyline[spark]'``): the same stage functions as
``track``, run per partition and per time window, written as Parquet and importable into the store.

Nothing here imports pyspark until a job runs, so ``import storyline.scale`` works without the extra.
"""

from __future__ import annotations

__all__ = ["BatchConfig", "import_output", "run_batch", "run_documents", "session", "spark_available"]


def spark_available() -> str | None:
    """None when the Spark extra and Java are there; otherwise what is missing and how to get it."""
    import importlib.util
    import shutil

    missing = [m for m in ("pyspark", "pyarrow", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed: pip install 'storyline[spark]'"
    if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
        return "java not found: install a JRE 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    return None


def __getattr__(name: str):
    if name in ("BatchConfig", "run_batch", "session"):
        from storyline.scale import job

        return getattr(job, name)
    if name == "import_output":
        from storyline.scale.importer import import_output

        return import_output
    if name == "run_documents":
        from storyline.scale.documents import run_documents

        return run_documents
    raise AttributeError(name)
