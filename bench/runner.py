"""Run benchmarks: a fresh sandbox each, its setup, then each run in a child process of its own.

A benchmark gets a deadline (what is left of `python -m bench`'s time budget): a run still going
at the deadline is stopped, and the benchmark's line says so instead of its figures. A run that
fails is reported the same way (`error`), so one slow or broken benchmark never hides the others.

A benchmark that `continues` another, run right after it, goes on in that one's sandbox and
reuses the runs it names (bench/registry.py): the runner keeps the last sandbox open for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.child import RESULT_MARK
from bench.registry import PARENT_ONLY, Benchmark, Figures
from bench.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent  # where `bench` and `bot` import from
ERROR_TAIL_CHARS = 1500  # of a failed run's stderr, in the line's `error`


class RunFailed(RuntimeError):
    pass


class OverBudget(RunFailed):
    """The benchmark would run past `python -m bench`'s time budget."""


@dataclass
class _Done:
    """A finished benchmark's sandbox, still open, for the benchmark that continues it."""

    name: str
    scale: Mapping[str, Any]
    sandbox: Sandbox
    context: dict[str, Any]
    figures: dict[str, Figures]


class Runner:
    """Runs benchmarks one after another; use as a context manager (it may hold a sandbox)."""

    def __init__(self, quick: bool, deadline: float, continued: frozenset[str] = frozenset()):
        """`deadline` is a time.monotonic() value; `continued` names the benchmarks some later
        benchmark of this invocation continues, whose sandboxes are kept after they finish."""
        self.quick = quick
        self.deadline = deadline
        self.continued = continued
        self._kept: _Done | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_kept()

    def run(self, benchmark: Benchmark) -> dict[str, Any]:
        """The benchmark's JSON line, as a dict. Raises RunFailed (OverBudget when it is the
        budget) with what went wrong."""
        scale = benchmark.scale(self.quick)
        previous, self._kept = self._kept, None
        if previous is not None and (
            benchmark.continues != previous.name or previous.scale != scale
        ):
            previous.sandbox.__exit__(None, None, None)
            previous = None
        if previous is not None:
            sandbox, context = previous.sandbox, previous.context
            figures = {
                mine: {**previous.figures[theirs], "reused_from": previous.name}
                for mine, theirs in benchmark.reuses.items()
            }
        else:
            sandbox, figures = Sandbox().__enter__(), {}
        try:
            if previous is None:
                context = {**benchmark.setup(sandbox, scale), "scale": scale}
                if time.monotonic() >= self.deadline:
                    raise OverBudget(f"{benchmark.name}: the time budget ran out during its setup")
            for_sides = {key: value for key, value in context.items() if key != PARENT_ONLY}
            for run in benchmark.runs:
                if run.name not in figures:
                    figures[run.name] = self._measure(benchmark.name, run.name, for_sides, sandbox)
            ours, naive = benchmark.assemble(figures, context)
        except BaseException:
            sandbox.__exit__(None, None, None)
            raise
        if benchmark.name in self.continued:
            self._kept = _Done(benchmark.name, scale, sandbox, context, figures)
        else:
            sandbox.__exit__(None, None, None)
        return {
            "bench": benchmark.name,
            "scale": scale,
            "ours": ours,
            "naive": naive,
            "targets": benchmark.targets(ours, naive, scale),
        }

    def _close_kept(self) -> None:
        if self._kept is not None:
            self._kept.sandbox.__exit__(None, None, None)
            self._kept = None

    def _measure(
        self, name: str, run: str, context: Mapping[str, Any], sandbox: Sandbox
    ) -> Figures:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OverBudget(f"{name}/{run}: not started, the time budget ran out")
        sandbox.reset_counts()
        started = time.perf_counter()
        # A session of its own, so a stopped run takes its own children (zcat, a load sender).
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.child", name, run],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=sandbox.env(),
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(json.dumps(context), timeout=left)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
            raise OverBudget(
                f"{name}/{run}: stopped after {time.perf_counter() - started:.0f} s, at the end "
                f"of the time budget; {_tail(stderr)}"
            ) from None
        results = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
        if process.returncode != 0 or not results:
            raise RunFailed(f"{name}/{run} exited {process.returncode}: {_tail(stderr)}")
        figures: Figures = json.loads(results[-1].removeprefix(RESULT_MARK))
        # Counted by the sandbox's servers after the process ended: every request it sent.
        figures["aws_calls"] = sandbox.calls()
        figures["throttled_calls"] = sandbox.throttled()
        figures["process_s"] = round(time.perf_counter() - started, 3)
        return figures


def _tail(stderr: str | None) -> str:
    """The end of a child's stderr (its traceback's last lines), for the line's `error`."""
    text = (stderr or "").strip()
    return text[-ERROR_TAIL_CHARS:] if text else "no output on stderr"
