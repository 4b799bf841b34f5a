"""One run of one benchmark, in a process of its own.

`python -m bench.child NAME RUN`, with the run's context as JSON on stdin, prints its figures as
one JSON line after `RESULT_MARK`, adding the process's peak memory: a high-water mark of all it
ever held, imports included.
"""

from __future__ import annotations

import json
import logging
import resource
import sys

from bench.registry import run_of

RESULT_MARK = "BENCH-RESULT "


def peak_rss_mb() -> float:
    """The peak resident set size of this process since it started, in MiB.

    On Linux, ru_maxrss survives exec: a child forked from the parent that holds the sandbox
    would report the parent's size. VmHWM is the high-water mark of this program's own memory
    map, made anew at exec; ru_maxrss (KiB on Linux) stays the fallback elsewhere.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.child NAME RUN < context.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    context = json.load(sys.stdin)
    figures = run_of(args[0], args[1])(context)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(RESULT_MARK + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
