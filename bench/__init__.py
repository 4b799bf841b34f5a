"""Benchmarks: whocreated against the naive way, on one simulated sandbox, in the same run.

`python -m bench` runs every benchmark, `python -m bench NAME ...` some, `--quick` a small scale for
CI. Each prints one JSON line (DESIGN.md §3): {"bench", "scale", "ours", "naive", "targets",
"took_s"}. All of them share a time budget (`--budget-s`, 30 minutes by default); a benchmark that
fails or would run past it prints {"bench", "scale", "error", "over_budget", "took_s"} instead, and
the others still run.

How one benchmark runs (bench/runner.py): this process builds the sandbox (moto behind a bridge,
the CloudTrail LookupEvents and CloudWatch GetMetricData stand-ins) and seeds it; then each side
runs in its own Python process (bench/child.py) against it over HTTP, so its peak memory is its
own high-water mark. AWS calls are counted where AWS would count them: by the sandbox's servers,
per "service:Operation", reset before each side.

Adding a benchmark: write a module with a `Benchmark` (bench/registry.py says what each field is)
registered with `register(...)`, and add the module's name to `MODULES` there.
"""
