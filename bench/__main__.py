"""`python -m bench [NAME ...] [--quick] [--budget-s S]`: one JSON line per benchmark on stdout.

Each line carries `took_s`, the benchmark's own wall time (setup and every run); stderr says how
long each took against the budget. A benchmark that fails, or would run past the budget, still
prints its line, with `error` saying what happened, and the others go on; the exit status is 1
when any line has an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import Any

from bench.registry import Benchmark, load
from bench.runner import OverBudget, RunFailed, Runner
from bench.sandbox import clean_environment

logger = logging.getLogger("bench")
BUDGET_S = 30 * 60  # the whole of `python -m bench`, on 2 cores


def main(argv: list[str] | None = None) -> int:
    benchmarks = load()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(benchmarks))
    parser.add_argument("--quick", action="store_true", help="a small scale, for CI")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=BUDGET_S,
        metavar="S",
        help=f"time for all the benchmarks together (default {BUDGET_S})",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(benchmarks)}")
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    # This process seeds moto in-process: nothing of this machine's AWS or Slack set-up may reach
    # it (an AWS_ENDPOINT_URL would send the seeding elsewhere).
    kept = clean_environment(dict(os.environ))
    os.environ.clear()
    os.environ.update(kept)
    started = time.monotonic()
    chosen = [benchmarks[name] for name in args.names or benchmarks]
    continued = frozenset(b.continues for b in chosen if b.continues)
    failed = 0
    with Runner(args.quick, started + args.budget_s, continued) as runner:
        for benchmark in chosen:
            line = _line(runner, benchmark)
            failed += "error" in line
            print(json.dumps(line), flush=True)
            spent = time.monotonic() - started
            failure = f"; {line['error'].splitlines()[0]}" if "error" in line else ""
            print(
                f"bench: {benchmark.name} took {line['took_s']:.0f} s; "
                f"{spent:.0f} s of the {args.budget_s:.0f} s budget spent{failure}",
                file=sys.stderr,
                flush=True,
            )
    total = time.monotonic() - started
    print(f"bench: all done in {total:.0f} s, {failed} failed", file=sys.stderr, flush=True)
    return 1 if failed else 0


def _line(runner: Runner, benchmark: Benchmark) -> dict[str, Any]:
    """The benchmark's JSON line, or one with `error` in place of its figures."""
    began = time.monotonic()
    try:
        if began >= runner.deadline:
            raise OverBudget(f"{benchmark.name}: not started, the time budget was spent before it")
        line = runner.run(benchmark)
    except Exception as failure:
        # Whatever broke (a child that died, a stand-in too slow, the setup itself), the line
        # says so and the remaining benchmarks still run. A run's own stderr is in the error;
        # anything else (this process's setup) gets its traceback on stderr.
        if not isinstance(failure, RunFailed):
            logger.exception("bench: %s failed", benchmark.name)
        line = {
            "bench": benchmark.name,
            "scale": benchmark.scale(runner.quick),
            "error": str(failure) or type(failure).__name__,
            "over_budget": isinstance(failure, OverBudget),
        }
    line["took_s"] = round(time.monotonic() - began, 1)
    return line


if __name__ == "__main__":
    sys.exit(main())
