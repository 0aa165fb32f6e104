"""Plain tokens and stop-word lists (``enrich/tokens.py``)."""

from __future__ import annotations

import subprocess
import sys


def test_stop_words_are_spacys_lists_read_without_importing_the_language_packages():
    # a fresh interpreter: whether spacy.lang.fr was imported must not depend on the tests before this one
    code = (
        "import sys\n"
        "from storyline.enrich.tokens import language_stop_words\n"
        "fr = language_stop_words('fr')\n"
        "assert 'spacy.lang.fr' not in sys.modules, 'the French package was imported'\n"
        "from spacy.lang.fr.stop_words import STOP_WORDS\n"
        "assert fr == frozenset(STOP_WORDS) and 'les' in fr\n"
        "assert language_stop_words('zz') == frozenset() and language_stop_words('../x') == frozenset()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
