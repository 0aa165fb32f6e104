"""A store in a folder this user may not write is read, and a write says why not (issue 21).

Before: every command failed on it ("attempt to write a readonly database"), because SQLite could not
create its WAL and shared-memory files beside the store, even to read. Run as an unprivileged user (root
may write anything), through an interpreter that user may run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from storyline.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


def _interpreter() -> str | None:
    """sys.executable when others may run it, else the system's Python of the same version."""
    for candidate in (sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"):
        try:
            check = subprocess.run([candidate, "-c", "import numpy, typer, rich"], capture_output=True,
                                   preexec_fn=_as_nobody, env=_env(), timeout=120)
        except (OSError, subprocess.SubprocessError):  # this user may not run it
            continue
        if check.returncode == 0:
            return candidate
    return None


def _as_nobody() -> None:
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _env() -> dict[str, str]:
    paths = [str(ROOT / "src"), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return {**os.environ, "HOME": "/tmp", "PYTHONPATH": os.pathsep.join(paths)}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop to another user")
@pytest.mark.parametrize("file_mode", [0o666, 0o644])
def test_a_store_in_a_read_only_folder_reads_and_refuses_writes_with_a_line(file_mode):
    python = _interpreter()
    if python is None:
        pytest.skip("no Python interpreter the unprivileged user may run with these packages")
    tmp_path = Path(tempfile.mkdtemp(prefix="storyline-ro-"))  # pytest's own folder is root's alone
    for parent in tmp_path.parents:
        if parent.stat().st_mode & 0o001 == 0:
            pytest.skip(f"{parent} is not searchable by others")
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "v2_22dfc81.db", db)
    Store(db).close()  # today's schema (a read-only store cannot be migrated)
    article = tmp_path / "new.txt"
    article.write_text("A new article about the talks in Doha that cannot be stored.")
    os.chmod(tmp_path, 0o755)
    os.chmod(article, 0o644)
    os.chmod(db, file_mode)
    os.chmod(folder, 0o555)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, "-m", "storyline", *args, "--db", str(db)], capture_output=True, text=True,
                              preexec_fn=_as_nobody, timeout=300, env=_env())

    try:
        listed = run("articles", "--json")
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2, listed.stderr[-2000:]
        searched = run("search", "Taliban", "--json")
        assert searched.returncode == 0 and searched.stdout.strip(), searched.stderr[-2000:]
        written = run("ingest", str(article))
        assert written.returncode == 2 and "read-only" in written.stderr and "Traceback" not in written.stderr
        enriched = run("enrich")  # a writer's lock cannot be made beside it either: said the same way
        assert enriched.returncode == 2 and "read-only" in enriched.stderr and "Traceback" not in enriched.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["s.db"]
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(tmp_path)
