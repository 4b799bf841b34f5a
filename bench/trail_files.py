"""Trail-file benchmarks: a folder of gzipped logs searched for one id, and one very large log.

`trail-files`: ours is `lookup ID --trail-logs FOLDER` (bot.aws.trail_files.find_in_logs): every
file searched as a stream, parsed only when it may name the id, files read side by side. Naive
is the shell's fastest honest answer to "which logs name this id": `zcat -r FOLDER | grep -c -F
ID` (in the C locale, which greps fastest), timed in the same run on the same files. It counts
the files that name the id; it does not say who created it, which ours does.

`trail-file-large`: one log of 600 MB of JSON (gzipped, 11× smaller), naming the id at its end.
Ours reads it as a stream; naive is how it was read before: `json.load` of the whole file.

No AWS is involved: the sandbox's servers receive no calls, so `aws_calls` is empty.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.registry import Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

TIME_FACTOR = 2.0  # ours within this many times the naive pipeline's wall time
PEAK_MB = 200


def _ours(paths: list[str], target: str) -> Figures:
    from bot.aws.trail_files import default_workers, find_in_logs
    from bot.core.refs import parse

    workers = default_workers()
    started = time.perf_counter()
    [answer], stats = find_in_logs([parse(target)], paths, workers=workers)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "found": answer.found,
        "creator": answer.fact.actor.name if answer.fact else None,
        "files_searched": stats.files_read,
        "files_parsed": stats.files_parsed,
        "files_skipped_by_prefilter": stats.files_read - stats.files_parsed,
        "records_parsed": stats.records,
        "inflated_mb_searched": round(stats.bytes_searched / 2**20),
        "mb_per_s": round(stats.bytes_searched / 2**20 / wall) if wall else None,
        "workers": workers,
    }


# trail-files ----------------------------------------------------------------------------------


def _folder_scale(quick: bool) -> dict[str, Any]:
    return {"gzip_mb": 8 if quick else 1024}


def _folder_setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    from bench.trail_data import CREATOR, TARGET, write_folder

    folder = sandbox.folder / "trail"
    made = write_folder(folder, int(scale["gzip_mb"] * 2**20))
    return {"folder": str(folder), "target": TARGET, "creator": CREATOR, "made": made}


def _folder_ours(context: Mapping[str, Any]) -> Figures:
    figures = _ours([context["folder"]], context["target"])
    return {**figures, "made": context["made"]}


def _folder_naive(context: Mapping[str, Any]) -> Figures:
    """`zcat -r FOLDER | grep -c -F ID`, its wall time and its processes' peak memory."""
    if shutil.which("zcat") is None or shutil.which("grep") is None:
        raise RuntimeError("the naive side needs zcat and grep")
    env = {**os.environ, "LC_ALL": "C"}
    command = f"zcat -r '{context['folder']}' | grep -c -F '{context['target']}'"
    started = time.perf_counter()
    ran = subprocess.run(
        ["sh", "-c", command], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if ran.returncode not in (0, 1):  # grep -c exits 1 when it counts nothing
        raise RuntimeError(f"{command} exited {ran.returncode}: {ran.stderr[-2000:]}")
    # The pipeline's own processes: the largest of zcat and grep (ru_maxrss is in KiB on Linux).
    pipeline_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall_s": round(wall, 3),
        "command": command,
        "files_naming_target": int(ran.stdout.strip() or 0),
        "pipeline_peak_rss_mb": round(pipeline_kib / 1024, 1),
    }


def _folder_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    made = ours["made"]
    return {
        f"within_{TIME_FACTOR:g}x_of_zcat_grep": ours["wall_s"] <= TIME_FACTOR * naive["wall_s"],
        "creator_found": ours["found"] and ours["creator"] is not None,
        "only_files_naming_the_id_parsed": ours["files_parsed"] == made["files_naming_target"],
        "every_file_searched": ours["files_searched"] == made["files"],
        "grep_agrees": naive["files_naming_target"] == made["files_naming_target"],
    }


register(
    Benchmark(
        name="trail-files",
        scale=_folder_scale,
        setup=_folder_setup,
        runs=(Run("ours", _folder_ours), Run("naive", _folder_naive)),
        targets=_folder_targets,
        counted_targets=(
            "creator_found",
            "only_files_naming_the_id_parsed",
            "every_file_searched",
            "grep_agrees",
        ),
    )
)


# trail-file-large -----------------------------------------------------------------------------


def _large_scale(quick: bool) -> dict[str, Any]:
    return {"json_mb": 24 if quick else 600}


def _large_setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    from bench.trail_data import CREATOR, TARGET, write_large_file

    path = sandbox.folder / "large.json.gz"
    made = write_large_file(path, int(scale["json_mb"] * 2**20))
    return {"path": str(path), "target": TARGET, "creator": CREATOR, "made": made}


def _large_ours(context: Mapping[str, Any]) -> Figures:
    figures = _ours([context["path"]], context["target"])
    return {**figures, "made": context["made"]}


def _large_naive(context: Mapping[str, Any]) -> Figures:
    """The whole file in memory with json.load, then each record asked whether it created it."""
    import gzip
    import json

    from bot.core import events

    started = time.perf_counter()
    with gzip.open(Path(context["path"]), "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    creator = None
    for record in data["Records"]:
        fact = events.creation_fact(record, [context["target"]])
        if fact is not None:
            creator = fact.actor.name
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 3), "found": creator is not None, "creator": creator}


def _large_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        f"under_{PEAK_MB}_mb": ours["peak_rss_mb"] < PEAK_MB,
        "creator_found": ours["found"] and ours["creator"] == naive["creator"],
        "parsed_in_full": ours["files_parsed"] == 1
        and ours["inflated_mb_searched"] >= ours["made"]["inflated_mb"],
    }


register(
    Benchmark(
        name="trail-file-large",
        scale=_large_scale,
        setup=_large_setup,
        runs=(Run("ours", _large_ours), Run("naive", _large_naive)),
        targets=_large_targets,
        counted_targets=(f"under_{PEAK_MB}_mb", "creator_found", "parsed_in_full"),
    )
)
