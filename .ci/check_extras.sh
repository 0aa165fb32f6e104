#!/usr/bin/env bash
# Each install from a fresh virtualenv: the core tracks and serves and carries no test, Spark or
# evaluation package; `storyline eval` without the extra names it; each extra installs and imports.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

python3 -m venv "$root/core"
"$root/core/bin/pip" install -q .
for module in pytest pyspark tilse rouge_score selenium schemathesis; do
  if "$root/core/bin/python" -c "import $module" 2>/dev/null; then
    echo "the core install carries $module, which belongs to an extra" >&2; exit 1
  fi
done
"$root/core/bin/storyline" track examples/ --db "$root/core.db" --report "" --limit 1 >/dev/null
if "$root/core/bin/storyline" eval pairs examples/README.md 2>"$root/eval.err"; then
  echo "storyline eval ran without the eval extra" >&2; exit 1
fi
grep -q "storyline\[eval\]" "$root/eval.err" || { echo "storyline eval did not name the eval extra:" >&2; cat "$root/eval.err" >&2; exit 1; }

for extra in eval spark test; do
  python3 -m venv "$root/$extra"
  "$root/$extra/bin/pip" install -q ".[$extra]"
done
"$root/eval/bin/python" -c "import tilse, rouge_score; from storyline.evaluation import tell"
"$root/spark/bin/python" -c "import pyspark, pyarrow, pandas"
"$root/test/bin/python" -c "import pytest, hypothesis, schemathesis, selenium"
echo "extras: core, eval, spark and test install and import from fresh virtualenvs"
