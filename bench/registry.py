"""The benchmarks by name: what each seeds, which runs it makes, and how it judges them.

A benchmark's functions run in two places. `scale` and `setup` run in the parent, which owns the
sandbox; each `Run` runs in a child process of its own, from a JSON context, and must import what
it needs inside the function (a side that imported the other side's libraries would carry their
memory). Runs go in order against the same sandbox; `assemble` turns their figures into the
"ours" and "naive" objects of the JSON line, and `targets` judges them.

What the sides must not see (the seeder's truth, against which their answers are checked) goes
in the context under `PARENT_ONLY`: the runner keeps it from the children and hands it to
`assemble` with the rest of the context.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

Figures = dict[str, Any]
Side = Callable[[Mapping[str, Any]], Figures]  # context → figures, with "wall_s"
Assemble = Callable[[Mapping[str, Figures], Mapping[str, Any]], tuple[Figures, Figures]]
PARENT_ONLY = "parent_only"  # the context's key for what only `assemble` may read

# Modules that register benchmarks; add yours here.
MODULES = ("bench.lookups", "bench.ack", "bench.scans", "bench.degrade", "bench.trail_files")


@dataclass(frozen=True)
class Run:
    """One child process: `side(context)`; `name` keys its figures for `assemble`."""

    name: str
    side: Side


def _ours_and_naive(
    runs: Mapping[str, Figures], context: Mapping[str, Any]
) -> tuple[Figures, Figures]:
    return runs["ours"], runs["naive"]


@dataclass(frozen=True)
class Benchmark:
    name: str
    scale: Callable[[bool], dict[str, Any]]  # quick → the figures that size it
    setup: Callable[[Sandbox, Mapping[str, Any]], dict[str, Any]]  # seeds; returns the context
    runs: tuple[Run, ...]
    targets: Callable[[Figures, Figures, Mapping[str, Any]], dict[str, bool]]
    assemble: Assemble = field(default=_ours_and_naive)  # (runs' figures, context)
    # Targets judged on call counts and answers, not on time: they do not depend on the machine,
    # so CI checks them (on --quick).
    counted_targets: tuple[str, ...] = ()
    # Run right after the benchmark named `continues` (same scale), this one goes on in its
    # sandbox, with its context, and takes the figures of its runs named in `reuses` (this
    # benchmark's run → that one's) instead of running them again. Run alone, it runs them all.
    continues: str | None = None
    reuses: Mapping[str, str] = field(default_factory=dict)


BENCHMARKS: dict[str, Benchmark] = {}


def register(benchmark: Benchmark) -> Benchmark:
    if benchmark.name in BENCHMARKS:
        raise ValueError(f"benchmark {benchmark.name} registered twice")
    BENCHMARKS[benchmark.name] = benchmark
    return benchmark


def load() -> dict[str, Benchmark]:
    """Every benchmark, in the order their modules register them."""
    for module in MODULES:
        importlib.import_module(module)
    return BENCHMARKS


def run_of(benchmark: str, run: str) -> Side:
    """The side a child runs (importing only the benchmark modules, not the sandbox)."""
    for candidate in load()[benchmark].runs:
        if candidate.name == run:
            return candidate.side
    raise KeyError(f"{benchmark} has no run {run!r}")
