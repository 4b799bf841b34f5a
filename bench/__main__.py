"""`python -m bench [NAME ...] [--quick]`: one JSON line per benchmark on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.registry import load
from bench.runner import run_benchmark
from bench.sandbox import clean_environment


def main(argv: list[str] | None = None) -> int:
    benchmarks = load()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(benchmarks))
    parser.add_argument("--quick", action="store_true", help="a small scale, for CI")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(benchmarks)}")
    # This process seeds moto in-process: nothing of this machine's AWS or Slack set-up may reach
    # it (an AWS_ENDPOINT_URL would send the seeding elsewhere).
    kept = clean_environment(dict(os.environ))
    os.environ.clear()
    os.environ.update(kept)
    for name in args.names or list(benchmarks):
        print(json.dumps(run_benchmark(benchmarks[name], args.quick)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
