"""The top-level Python API (storyline.open) and the README's example, run as written."""

from __future__ import annotations

import re
import subprocess
import sys

import storyline
from tests.conftest import ROOT


def test_open_track_and_read(tmp_path, seeds_dir):
    with storyline.open(tmp_path / "s.db") as sl:
        report = sl.track([seeds_dir])
        assert report.new == 2
        stories = sl.stories()
        assert stories["total"] == 1
        story = sl.story(stories["items"][0]["id"])
        assert {a["id"] for a in story["articles"]} == {a["id"] for a in sl.articles()["items"]}
        assert {"2019-08-07", "2019-09-28"} <= {e["date"] for e in sl.timeline(story["id"])}
        hits = sl.search("Taliban")["items"]
        assert hits and sl.article(hits[0]["id"])["story_id"] == story["id"]
        added = sl.add([{"text": "Election officials in Kabul said the Taliban attack on 7 August killed 14 people. "
                                 "Officials said the vote would go ahead as planned in September.",
                         "title": "Kabul vote goes ahead", "published": "2019-08-08"}])
        assert added.new == 1 and sl.articles()["total"] == 3


def test_readme_example_runs(tmp_path):
    """The Python block of the README under 'Python API' runs as it stands (from a scratch folder)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python API.*?```python\n(.*?)```", readme, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(block.replace('"examples/"', repr(str(ROOT / "examples" / "seeds"))), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "articles" in result.stdout
