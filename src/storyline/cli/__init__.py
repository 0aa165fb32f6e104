"""The command line: ``storyline track examples/`` and friends.

Every listing command takes ``--json`` and then prints one JSON object per line, for scripts.
"""

from storyline.cli import articles as _articles  # noqa: F401  (registers commands)
from storyline.cli import stories as _stories  # noqa: F401
from storyline.cli import threads as _threads  # noqa: F401
from storyline.cli import evaluate as _evaluate  # noqa: F401
from storyline.cli import tell as _tell  # noqa: F401
from storyline.cli import serve as _serve  # noqa: F401
from storyline.cli import watch as _watch  # noqa: F401
from storyline.cli import batch as _batch  # noqa: F401
from storyline.cli.common import app

__all__ = ["app"]
