"""Run one benchmark: a fresh sandbox, its setup, then each run in a child process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.child import RESULT_MARK
from bench.registry import Benchmark, Figures
from bench.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent  # where `bench` and `bot` import from
RUN_TIMEOUT_S = 900


class RunFailed(RuntimeError):
    pass


def run_benchmark(benchmark: Benchmark, quick: bool) -> dict[str, Any]:
    """The benchmark's JSON line, as a dict."""
    scale = benchmark.scale(quick)
    with Sandbox() as sandbox:
        context = {**benchmark.setup(sandbox, scale), "scale": scale}
        figures: dict[str, Figures] = {}
        for run in benchmark.runs:
            figures[run.name] = _measure(benchmark.name, run.name, context, sandbox)
    ours, naive = benchmark.assemble(figures)
    return {
        "bench": benchmark.name,
        "scale": scale,
        "ours": ours,
        "naive": naive,
        "targets": benchmark.targets(ours, naive, scale),
    }


def _measure(name: str, run: str, context: Mapping[str, Any], sandbox: Sandbox) -> Figures:
    sandbox.reset_counts()
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "bench.child", name, run],
        input=json.dumps(context),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=sandbox.env(),
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    results = [line for line in process.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if process.returncode != 0 or not results:
        raise RunFailed(
            f"{name}/{run} exited {process.returncode}:\n{process.stderr[-4000:]}"
            f"\n{process.stdout[-2000:]}"
        )
    figures: Figures = json.loads(results[-1].removeprefix(RESULT_MARK))
    # Counted by the sandbox's servers after the process ended: every request it sent.
    figures["aws_calls"] = sandbox.calls()
    figures["throttled_calls"] = sandbox.throttled()
    figures["process_s"] = round(time.perf_counter() - started, 3)
    return figures
