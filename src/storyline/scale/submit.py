"""Entry point for ``spark-submit``: the master and resources come from spark-submit's own options.

    spark-submit --master spark://host:7077 "$(python -c 'import storyline.scale.submit as m; print(m.__file__)')" \
        INPUT OUTPUT [--partitions N] [--windows W | --window-days D] [--max-passes P] [--input-format files|parquet]
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str] | None = None) -> None:
    from storyline.scale.job import BatchConfig, run_batch, session

    parser = argparse.ArgumentParser(prog="storyline-batch", description=__doc__)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--partitions", type=int, default=2)
    windows = parser.add_mutually_exclusive_group()
    windows.add_argument("--windows", type=int, default=None, help="story windows of about equal size (default: --partitions)")
    windows.add_argument("--window-days", type=int, default=None, help="calendar story windows of this many days instead")
    parser.add_argument("--max-passes", type=int, default=BatchConfig.max_passes)
    parser.add_argument("--input-format", choices=("files", "parquet"), default=None)
    parser.add_argument("--replace-when", choices=("members", "records"), default=BatchConfig.replace_when)
    args = parser.parse_args(argv)
    spark = session(None, args.partitions)
    try:
        result = run_batch(spark, args.input, args.output, BatchConfig(partitions=args.partitions,
                           windows=args.windows, window_days=args.window_days, max_passes=args.max_passes,
                           input_format=args.input_format, replace_when=args.replace_when))
    finally:
        spark.stop()
    print(json.dumps({"counts": result.counts, "seconds": result.seconds}))


if __name__ == "__main__":
    main()
